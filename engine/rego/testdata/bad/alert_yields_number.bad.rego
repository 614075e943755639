# METADATA
# title: Bad rule
# custom:
#   id: 11111111-2222-4333-8444-555555555555
#   level: high
package detect.rules.alert_type

alert contains input.size if input.size > 1
