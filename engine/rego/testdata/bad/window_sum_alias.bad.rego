# METADATA
# title: Bad rule
# custom:
#   id: 11111111-2222-4333-8444-555555555555
#   level: high
#   window: {group_by: [sender], span: 1d, history: 2.5, sum: email.size, rules: outbound_delivery}
package detect.rules.window_sum_alias

alert contains "x" if input.count > 100
