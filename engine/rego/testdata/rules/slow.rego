# METADATA
# title: Slow
# custom:
#   id: 3f7c1a52-6a1e-4d4f-9a39-1f1b6f0f7a03
#   requires: [subject]
package detect.rules.slow

# Ten billion iterations when the subject says so: far over any budget.
alert contains "never" if {
	input.subject == "slow"
	some i in numbers.range(1, 100000)
	some j in numbers.range(1, 100000)
	i * j == -1
}
