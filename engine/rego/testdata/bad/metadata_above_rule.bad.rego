package detect.rules.metadata_on_rule

# METADATA
# title: x
# custom:
#   id: 11111111-2222-4333-8444-555555555555
alert contains "x" if input.size > 1
