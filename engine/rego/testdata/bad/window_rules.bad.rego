# METADATA
# title: Bad rule
# custom:
#   id: 11111111-2222-4333-8444-555555555555
#   level: high
#   requires: [delivery, sender]
#   window: {group_by: [sender], span: 1d, rules: [outbound_delivery]}
package detect.rules.window_rules

alert contains "x" if input.count > 100
