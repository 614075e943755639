# METADATA
# custom:
#   level: loud
#   tags: attack.t1566
package detect.rules.several

alert contains "x" if {
	input.sendr
}
