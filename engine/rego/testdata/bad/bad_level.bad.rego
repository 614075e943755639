# METADATA
# title: Bad level
# custom:
#   id: 11111111-2222-4333-8444-555555555555
#   level: severe
package detect.rules.bad_level

alert contains "x" if input.size > 1
