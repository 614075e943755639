# METADATA
# title: Bad rule
# custom:
#   id: 11111111-2222-4333-8444-555555555555
#   level: high
#   requires: [attachment, deliveries]
package detect.rules.requires_unknown

alert contains "x" if count(input.attachments) > 1
