# METADATA
# title: Dangerous attachment file type
# description: |
#   A message was delivered with an attachment whose extension runs code
#   when opened on Windows: executables and scripts, installers, shortcuts,
#   disk images (Windows mounts them, and their contents escape
#   Mark-of-the-Web), OneNote notebooks, Excel add-ins, HTML applications,
#   Java Web Start files. Legitimate mail rarely needs them; phishing and
#   malware droppers do. The extensions are
#   data.config.dangerous_attachment.extensions (rules/data/attachments.yaml);
#   macro-enabled Office formats are the macro_office_attachment rule's.
#   Copies on their way to a content filter on this host and the filter's
#   verdicts are skipped, so a message alerts once per recipient, on its
#   real delivery (a message the filter blocks never gets one).
# authors:
#   - detect
# related_resources:
#   - ref: https://attack.mitre.org/techniques/T1566/001/
#   - ref: https://attack.mitre.org/techniques/T1204/002/
# custom:
#   id: 2bbe00e5-0b9c-4fcf-803c-baaa054d1904
#   level: high
#   status: stable
#   date: 2026-11-28
#   tags: [attack.initial_access, attack.t1566.001, attack.execution, attack.t1204.002]
#   falsepositives:
#     - Software vendors mailing installers to IT staff
#     - Administrators mailing scripts to each other
#   requires: [delivery, attachment_ext]
package detect.rules.dangerous_attachment

default extensions := []

extensions := data.config.dangerous_attachment.extensions

# content_filter_hop: the message on its way to a content filter on this
# host. The real delivery that follows carries the same attachments: alert
# once, there.
content_filter_hop if strings.any_prefix_match(input.relay, ["127.", "localhost", "[::1]", "::1["])

# found holds the dangerous extensions of the event (lower case, as some
# exports keep the sender's case).
found contains ext if {
	some e in input.attachment_ext
	ext := lower(e)
	ext in extensions
}

# names of the dangerous attachments, when the event names them.
names contains name if {
	some i, e in input.attachment_ext
	lower(e) in extensions
	name := input.attachment_name[i]
}

default shown := ""

shown := concat(", ", sort(names)) if count(names) > 0

shown := concat(", ", [concat("", ["*.", e]) | some e in sort(found)]) if count(names) == 0

default sender := "(unknown sender)"

sender := "<>" if input.sender == ""

sender := input.sender if input.sender != ""

default recipient := "(unknown recipient)"

recipient := input.recipient

alert contains {
	"message": sprintf("%s -> %s: attachment %s", [sender, recipient, shown]),
	"extensions": sort(found),
} if {
	input.event_type == "delivery"
	some e in input.attachment_ext # one alert however many match: the object is the same
	lower(e) in extensions
	not content_filter_hop
}
