# METADATA
# title: Bad rule
# custom:
#   id: 11111111-2222-4333-8444-555555555555
#   level: high
package detect.rules.dns

alert contains "no address" if {
	count(net.lookup_ip_addr(input.sender_domain)) == 0
}
