# METADATA
# title: No id
# custom:
#   level: high
package detect.rules.missing_id

alert contains "x" if input.size > 1
