# METADATA
# title: String and object alerts
# description: Fires on every event with a sender, once with a string and once with an object.
# custom:
#   id: 3f7c1a52-6a1e-4d4f-9a39-1f1b6f0f7a01
#   level: medium
#   tags: [attack.t1566]
#   references: [https://example.org/doc]
#   requires: [sender]
package detect.rules.strings

alert contains sprintf("mail from %s", [input.sender])

alert contains {"message": "object form", "sender": input.sender, "n": 3, "list": [1, "a"]}

# An object of unknown type: the engine checks for a message at run time.
alert contains data.config.custom_alert if input.sender == "nomsg@example.org"
