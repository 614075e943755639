# METADATA
# title: Bad rule
# custom:
#   id: 11111111-2222-4333-8444-555555555555
#   level: high
#   window: {group_by: [sender], span: 1d, min_history: 3}
package detect.rules.window_min_history_alone

alert contains "x" if input.count > 100
