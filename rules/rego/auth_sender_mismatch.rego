# METADATA
# title: Authenticated sender differs from envelope sender
# description: |
#   A client authenticated as a user of one domain (SASL login
#   j.doe@corp.example) and sent mail as a sender of another organization
#   (ceo@other.example). Stolen credentials are used this way to send
#   phishing or spam under someone else's name. Domains of one organization
#   count as the same: subdomains (lists.corp.example), and the same name
#   under another top-level domain (corp.de and host3.corp.net, the way
#   servers of one company relay their cron mail through a shared login).
#   Logins without a domain are not judged. Logins allowed to send for any
#   domain go in data.config.auth_sender_mismatch.exempt_users.
# authors:
#   - detect
# related_resources:
#   - ref: https://attack.mitre.org/techniques/T1078/
#   - ref: https://attack.mitre.org/techniques/T1656/
# custom:
#   id: 96c76e09-d467-49b6-ad94-96d88c16b08c
#   level: medium
#   status: stable
#   date: 2026-11-28
#   tags: [attack.initial_access, attack.t1078, attack.defense_evasion, attack.t1656]
#   falsepositives:
#     - Mailing-list software, ticket systems and relays that send for several customers with one login (list them in exempt_users)
#     - A company that owns unrelated brand domains and sends for all of them with one login
#   requires: [auth_user, sender, sender_domain]
package detect.rules.auth_sender_mismatch

# auth_domain is the domain of the SASL login, when it has one.
auth_domain := lower(parts[count(parts) - 1]) if {
	parts := split(input.auth_user, "@")
	count(parts) > 1
}

default exempt_users := []

exempt_users := data.config.auth_sender_mismatch.exempt_users

default client := "a client"

client := input.src_ip

# content_filter_hop: the message on its way to a content filter on this
# host, or the filter's verdict. The real delivery that follows carries the
# same facts: alert once, there.
content_filter_hop if input.event_type == "filter"

content_filter_hop if strings.any_prefix_match(input.relay, ["127.", "localhost", "[::1]", "::1["])

# second_level are the labels that, under a two-letter country code, make a
# public suffix of two labels (example.co.uk, example.com.au). Without a
# public suffix list this covers the common ones.
second_level := {"co", "com", "net", "org", "gov", "edu", "ac", "or", "ne", "go", "gv"}

# org_label is the name a domain's owner registered: the label left of the
# public suffix (corp in mail.corp.example, in corp.co.uk, in corp.de).
org_label(domain) := labels[count(labels) - 3] if {
	labels := split(domain, ".")
	count(labels) >= 3
	count(labels[count(labels) - 1]) == 2
	second_level[labels[count(labels) - 2]]
}

org_label(domain) := labels[count(labels) - 2] if {
	labels := split(domain, ".")
	count(labels) >= 2
	not two_label_suffix(labels)
}

two_label_suffix(labels) if {
	count(labels) >= 3
	count(labels[count(labels) - 1]) == 2
	second_level[labels[count(labels) - 2]]
}

# same_organization: equal, or the same registered name, which covers
# subdomains (lists.corp.example) without taking corp.co.uk for a
# subdomain of the public suffix co.uk.
same_organization(a, b) if a == b

same_organization(a, b) if org_label(a) == org_label(b)

alert contains {
	"message": sprintf("%s authenticated as %s but sent as %s", [client, input.auth_user, input.sender]),
	"auth_domain": auth_domain,
} if {
	sender_domain := lower(input.sender_domain)
	auth_domain != ""
	not same_organization(auth_domain, sender_domain)
	not lower(input.auth_user) in exempt_users
	not content_filter_hop
}
