# METADATA
# title: Oversized attachment
# description: |
#   A message carries an attachment larger than
#   data.config.oversized_attachment.max_bytes (10 MB in the shipped
#   rules/data/thresholds.yaml). Large attachments leaving the site can be
#   data exfiltration; arriving, they are often archives that scanners give
#   up on. Tune the threshold with `detect scan --data FILE`, e.g.
#   `oversized_attachment: {max_bytes: 1000000}` for the seed rule's
#   attachment_size > 1000000. Attachment sizes come from formats that log
#   them (and JSON events); Postfix header checks log names only.
# authors:
#   - detect
# related_resources:
#   - ref: https://attack.mitre.org/techniques/T1048/
#   - ref: https://attack.mitre.org/techniques/T1114/
# custom:
#   id: 7998f4ec-47b3-4124-9bc0-d1cb71518d2f
#   level: low
#   status: stable
#   date: 2026-11-28
#   falsepositives:
#     - Designers, engineers and lawyers who exchange large files by mail
#   tags: [attack.exfiltration, attack.t1048.003]
#   requires: [delivery, attachments]
package detect.rules.oversized_attachment

default max_bytes := 10000000

max_bytes := data.config.oversized_attachment.max_bytes

# content_filter_hop: the message on its way to a content filter on this
# host. The real delivery that follows carries the same facts: alert once,
# there.
content_filter_hop if strings.any_prefix_match(input.relay, ["127.", "localhost", "[::1]", "::1["])

alert contains {
	"message": sprintf("attachment %q is %d bytes, over the limit of %d", [name, a.size, max_bytes]),
	"attachment": name,
	"attachment_size": a.size,
	"max_bytes": max_bytes,
} if {
	input.event_type == "delivery"
	not content_filter_hop
	some a in input.attachments
	a.size > max_bytes
	name := object.get(a, "name", "(no name)")
}
