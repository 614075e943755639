# METADATA
# title: Inbound mail spoofing a local sender domain
# description: |
#   Mail from outside the site (a client outside
#   data.config.local_networks, or direction inbound) was delivered with an
#   envelope sender in one of the site's own domains
#   (data.config.local_domains), and the client did not authenticate.
#   Colleagues send through submission with a login; a stranger using the
#   site's own domain is a classic phishing and business-email-compromise
#   move.
# authors:
#   - detect
# related_resources:
#   - ref: https://attack.mitre.org/techniques/T1566/
#   - ref: https://attack.mitre.org/techniques/T1656/
# custom:
#   id: 1efb95d9-2411-43b8-a3ee-c47654994f91
#   level: high
#   status: stable
#   date: 2026-11-28
#   tags: [attack.initial_access, attack.t1566, attack.defense_evasion, attack.t1656]
#   falsepositives:
#     - Outside services that send as the site's domain (newsletters, invoicing, a CRM) without authenticating; add their networks to local_networks
#     - Forwarders that keep the original sender (aliases at another provider that point back here)
#   requires: [delivery, sender, sender_domain, src_ip]
package detect.rules.internal_domain_spoof

# inbound: the parser said so, or it did not know and the client address is
# outside the local networks.
inbound if input.direction == "inbound"

inbound if {
	not input.direction
	not from_local_network
}

default local_domains := []

local_domains := data.config.local_domains

default local_networks := []

local_networks := data.config.local_networks

from_local_network if count(net.cidr_contains_matches(local_networks, input.src_ip)) > 0

# content_filter_hop: the message on its way to a content filter on this
# host. The real delivery that follows carries the same facts: alert once,
# there.
content_filter_hop if strings.any_prefix_match(input.relay, ["127.", "localhost", "[::1]", "::1["])

alert contains {
	"message": sprintf("%s claims the local sender %s without authenticating", [input.src_ip, input.sender]),
	"client": input.src_ip,
} if {
	input.event_type == "delivery"
	input.sender_domain in local_domains
	not input.auth_user
	inbound
	not content_filter_hop
}
