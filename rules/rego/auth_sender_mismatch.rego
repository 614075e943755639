# METADATA
# title: Authenticated sender differs from envelope sender
# description: |
#   A client authenticated as a user of one domain (SASL login
#   j.doe@corp.example) and sent mail as a sender of another
#   (ceo@other.example). Stolen credentials are used this way to send
#   phishing or spam under someone else's name. Subdomains count as the same
#   domain; logins without a domain are not judged. Logins allowed to send
#   for any domain go in data.config.auth_sender_mismatch.exempt_users.
# related_resources:
#   - ref: https://attack.mitre.org/techniques/T1078/
# custom:
#   id: 96c76e09-d467-49b6-ad94-96d88c16b08c
#   level: medium
#   tags: [attack.initial_access, attack.t1078, attack.t1656]
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

alert contains {
	"message": sprintf("%s authenticated as %s but sent as %s", [client, input.auth_user, input.sender]),
	"auth_domain": auth_domain,
} if {
	sender_domain := input.sender_domain
	auth_domain != ""
	auth_domain != sender_domain
	not endswith(sender_domain, concat("", [".", auth_domain])) # a subdomain of the login's
	not endswith(auth_domain, concat("", [".", sender_domain])) # or the other way round
	not lower(input.auth_user) in exempt_users
	not content_filter_hop
}
