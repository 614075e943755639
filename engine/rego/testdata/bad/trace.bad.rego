# METADATA
# title: Bad rule
# custom:
#   id: 11111111-2222-4333-8444-555555555555
#   level: high
package detect.rules.tracing

alert contains "x" if {
	trace(input.sender)
}
