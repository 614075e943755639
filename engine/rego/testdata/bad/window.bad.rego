# METADATA
# title: Bad rule
# custom:
#   id: 11111111-2222-4333-8444-555555555555
#   level: high
#   window: {group_by: [sender], span: 10m}
package detect.rules.windowed

alert contains "x" if {
	input.count > 100
	some e in input.events
	e.sendr == "a@b"
	input.group.src_ip == "192.0.2.1"
	input.sender
}
