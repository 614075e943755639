# METADATA
# title: Bad rule
# custom:
#   id: 11111111-2222-4333-8444-555555555555
#   level: high
#   window: {group_by: [sender], span: 1d, history: 0, sum: sise, histroy: 3}
package detect.rules.window_history_spec

alert contains "x" if input.count > 100
