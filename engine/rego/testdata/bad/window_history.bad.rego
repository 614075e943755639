# METADATA
# title: Bad rule
# custom:
#   id: 11111111-2222-4333-8444-555555555555
#   level: high
#   requires: [delivery]
#   window: {group_by: [sender], span: 1d, history: 7}
package detect.rules.window_history

alert contains "x" if {
	input.sum > 100
	some p in input.history
	p.sum > 10
	p.count > 1
	p.begin > input.start
}
