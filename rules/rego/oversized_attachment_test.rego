package detect.rules.oversized_attachment_test

import data.detect.rules.oversized_attachment

event := {"event_type": "delivery", "attachments": [{"name": "photos.zip", "size": 2500000}]}

test_default_threshold_is_10_mb if {
	oversized_attachment.max_bytes == 10000000 with data.config as {}
	count(oversized_attachment.alert) == 0 with input as event
}

# The seed rule's attachment_size > 1000000, as a data override.
test_seed_threshold_from_data if {
	some a in oversized_attachment.alert with input as event
		with data.config.oversized_attachment.max_bytes as 1000000
	a.attachment == "photos.zip"
	a.attachment_size == 2500000
}

test_unnamed_attachment if {
	some a in oversized_attachment.alert with input as {"event_type": "delivery", "attachments": [{"size": 20000000}]}
	a.attachment == "(no name)"
}
