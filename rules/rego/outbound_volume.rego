# METADATA
# title: Outbound mail volume far above the sender's usual day
# description: |
#   One sender's mail to other servers added up, over a day, to far more
#   than its own usual day: data leaving by mail (many mid-sized
#   attachments stay under the oversized message rule each), or a
#   compromised account sending spam with attachments. The day is a
#   tumbling window of 24 hours from the sender's first outbound message;
#   its volume is the size of every message delivered to another server
#   (rules/sigma/outbound_delivery.yml), once per remote recipient. The
#   rule alerts when that volume exceeds the larger of
#   data.config.outbound_volume.floor_bytes and factor times the median
#   of the sender's previous days with outbound mail (up to 14 of them,
#   in the same scan or, with detect run, since it started), and judges a
#   sender only once it has custom.window.min_history (5) such days: new
#   senders and one-day archives are not judged (the rule is not even
#   evaluated on their days). Alerts come when the day closes.
# authors:
#   - detect
# related_resources:
#   - ref: https://attack.mitre.org/techniques/T1048/003/
#   - ref: https://attack.mitre.org/techniques/T1114/
# custom:
#   id: b4f68f93-aa16-4970-8823-adecab904289
#   level: medium
#   status: experimental
#   date: 2026-11-28
#   falsepositives:
#     - Senders of large reports, scans or backups by mail on an unusual day (month-end reports); exclude such senders in the base rule
#     - Mailing lists relayed through this server when a list gets busy
#   tags: [attack.exfiltration, attack.t1048.003]
#   window: {group_by: [sender], span: 1d, history: 14, min_history: 5, sum: size, rules: [outbound_delivery]}
package detect.rules.outbound_volume

default factor := 3

default floor_bytes := 100000000

factor := data.config.outbound_volume.factor

floor_bytes := data.config.outbound_volume.floor_bytes

# days: the volume of each previous day of the sender, newest first.
days := [p.sum | some p in input.history]

# median of the previous days (the middle one, or the mean of the two
# middle ones): one earlier busy day does not raise the bar.
median := m if {
	sorted := sort(days)
	n := count(sorted)
	n % 2 == 1
	m := sorted[(n - 1) / 2]
}

median := m if {
	sorted := sort(days)
	n := count(sorted)
	n > 0
	n % 2 == 0
	m := (sorted[(n / 2) - 1] + sorted[n / 2]) / 2
}

threshold := max([floor_bytes, factor * median])

alert contains {
	"message": sprintf("%s sent %d bytes to other servers in a day, %d deliveries (usual day: %d bytes, the median of %d earlier days; threshold %d)", [input.group.sender, input.sum, input.count, round(median), count(days), round(threshold)]),
	"bytes": input.sum,
	"usual_bytes": median,
	"threshold_bytes": threshold,
	"earlier_days": count(days),
} if {
	input.sum > threshold
}
