# METADATA
# title: Bad rule
# custom:
#   id: 11111111-2222-4333-8444-555555555555
#   level: high
#   requires: [src_user]
package detect.rules.requires_alias

alert contains "x" if input.sender
