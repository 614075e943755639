package detect.rules.lookalike_domain_test

import data.detect.rules.lookalike_domain

delivery(domain) := {"event_type": "delivery", "sender": concat("@", ["x", domain]), "sender_domain": domain}

test_edit_distance if {
	detect.edit_distance("paypal.com", "paypal.com") == 0
	detect.edit_distance("paypal.com", "paypa1.com") == 1
	detect.edit_distance("microsoft.com", "rnicrosoft.com") == 2
	detect.edit_distance("ab", "ba") == 1 # a swap of neighbours is one edit
	detect.edit_distance("", "abc") == 3
}

test_lookalike_names_the_protected_domain if {
	some a in lookalike_domain.alert with input as delivery("paypa1.com")
	a.protected_domain == "paypal.com"
	a.distance == 1
}

test_parent_domain_is_compared if {
	some a in lookalike_domain.alert with input as delivery("login.paypa1.com")
	a.lookalike == "paypa1.com"
}

test_genuine_subdomain_is_quiet if {
	count(lookalike_domain.alert) == 0 with input as delivery("email.paypal.com")
}

# with merges objects into data.config: distance 0 turns a domain off.
test_protected_domains_come_from_data if {
	count(lookalike_domain.alert) == 0 with input as delivery("paypa1.com")
		with data.config.protected_domains as {"paypal.com": 0}
}

test_distance_per_domain_from_data if {
	count(lookalike_domain.alert) == 1 with input as delivery("rnicrosoft.com")
	count(lookalike_domain.alert) == 0 with input as delivery("rnicrosoft.com")
		with data.config.protected_domains as {"microsoft.com": 1}
}

test_local_domains_are_protected if {
	some a in lookalike_domain.alert with input as delivery("c0rp.example")
	a.protected_domain == "corp.example"
}

test_other_event_types_are_quiet if {
	count(lookalike_domain.alert) == 0 with input as object.union(delivery("paypa1.com"), {"event_type": "reject"})
}
