# METADATA
# title: Bad rule
# custom:
#   id: 11111111-2222-4333-8444-555555555555
#   level: high
package detect.rules.typo_input

alert contains "big attachment" if {
	some a in input.attachmnts
	a.size > 10
}
