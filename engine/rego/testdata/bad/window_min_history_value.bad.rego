# METADATA
# title: Bad rule
# custom:
#   id: 11111111-2222-4333-8444-555555555555
#   level: high
#   window: {group_by: [sender], span: 1d, history: 4, min_history: 0}
package detect.rules.window_min_history_value

alert contains "x" if input.count > 100
