# METADATA
# title: Bad rule
# custom:
#   id: 11111111-2222-4333-8444-555555555555
#   level: high
#   window: {group_by: [sendr, src_user], span: 10 minutes, slide: 1m}
package detect.rules.window_spec

alert contains "x" if input.count > 100
