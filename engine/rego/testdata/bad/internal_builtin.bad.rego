# METADATA
# title: Bad rule
# custom:
#   id: 11111111-2222-4333-8444-555555555555
#   level: high
package detect.rules.internal

alert contains "x" if detect.internal.active(0)

alert contains "y" if detect.internal.read(1)
