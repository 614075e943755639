package detect.rules.auth_sender_mismatch_test

import data.detect.rules.auth_sender_mismatch as r

test_org_label if {
	r.org_label("corp.example") == "corp"
	r.org_label("host3.corp.de") == "corp"
	r.org_label("mail.corp.co.uk") == "corp"
	r.org_label("corp.com.au") == "corp"
	r.org_label("co.uk") == "co" # a bare public suffix names no organization of ours
}

test_same_organization if {
	r.same_organization("uhu-banane.net", "host3.uhu-banane.de")
	r.same_organization("corp.example", "lists.corp.example")
	not r.same_organization("corp.example", "corp-example.example")
	not r.same_organization("corp.co.uk", "other.co.uk")
}

test_exempt_users_come_from_data if {
	mismatch := {"event_type": "delivery", "auth_user": "lists@corp.example", "sender": "x@customer.example", "sender_domain": "customer.example"}
	count(r.alert) == 1 with input as mismatch
	count(r.alert) == 0 with input as mismatch
		with data.config.auth_sender_mismatch.exempt_users as ["lists@corp.example"]
}
