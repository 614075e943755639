# METADATA
# title: Bad id
# custom:
#   id: rule-42
package detect.rules.bad_id

alert contains "x" if input.size > 1
