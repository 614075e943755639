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
# related_resources:
#   - ref: https://attack.mitre.org/techniques/T1566/
# custom:
#   id: 1efb95d9-2411-43b8-a3ee-c47654994f91
#   level: high
#   tags: [attack.initial_access, attack.t1566, attack.t1656]
#   requires: [delivery, sender, sender_domain, src_ip]
package detect.rules.internal_domain_spoof

local_domains contains lower(d) if {
	some d in object.get(data.config, "local_domains", [])
}

# inbound: the parser said so, or it did not know and the client address is
# outside the local networks.
inbound if input.direction == "inbound"

inbound if {
	not input.direction
	not from_local_network
}

from_local_network if {
	some cidr in object.get(data.config, "local_networks", [])
	net.cidr_contains(cidr, input.src_ip)
}

# content_filter_hop: the message on its way to a content filter on this
# host, or the filter's verdict. The real delivery that follows carries the
# same facts: alert once, there.
content_filter_hop if input.event_type == "filter"

content_filter_hop if {
	some prefix in ["127.", "localhost", "[::1]", "::1["]
	startswith(object.get(input, "relay", ""), prefix)
}

alert contains {
	"message": sprintf("%s claims the local sender %s without authenticating", [client, input.sender]),
	"client": client,
} if {
	not content_filter_hop
	input.sender_domain in local_domains
	not input.auth_user
	input.src_ip
	inbound
	client := object.get(input, "src_host", input.src_ip)
}
