# METADATA
# title: Bad rule
# custom:
#   id: 11111111-2222-4333-8444-555555555555
#   level: high
package detect.rules.no_alert

alerts contains "x" if input.size > 1
