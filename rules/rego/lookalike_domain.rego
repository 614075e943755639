# METADATA
# title: Sender domain looks like a protected domain
# description: |
#   Mail was delivered from a sender domain one or two edits away from a
#   protected brand domain or one of the site's own domains (paypa1.com for
#   paypal.com, corp.exarnple for corp.example): a typosquatted domain used
#   for phishing. The domain and its last two labels are compared
#   (mail.paypa1.com is checked as paypa1.com too) with the edit distance
#   built-in detect.edit_distance. The protected domains, each with the
#   distance that counts, live in data.config (protected_domains,
#   local_domains, lookalike_domain.local_domain_distance).
# authors:
#   - detect
# related_resources:
#   - ref: https://attack.mitre.org/techniques/T1583/001/
#   - ref: https://attack.mitre.org/techniques/T1566/
# custom:
#   id: d5629312-6dab-48d5-85e7-516414111798
#   level: high
#   status: stable
#   date: 2026-11-28
#   falsepositives:
#     - Real companies whose names are close to a protected one (ups.com and ups.de are not lookalikes of each other, but short names collide; keep their distance at 1 or 0)
#   tags: [attack.resource_development, attack.t1583.001, attack.initial_access, attack.t1566]
#   requires: [delivery, sender_domain]
package detect.rules.lookalike_domain

# protected maps each protected domain to the largest distance at which
# another domain counts as its lookalike.
protected := object.union({d: local_distance | some d in local_domains}, protected_domains)

default protected_domains := {}

protected_domains := data.config.protected_domains

default local_domains := []

local_domains := data.config.local_domains

default local_distance := 2

local_distance := data.config.lookalike_domain.local_domain_distance

# candidates are the sender domain and its last two labels (the domain
# a phisher registers: login.paypa1.com -> paypa1.com).
candidates contains input.sender_domain

candidates contains concat(".", array.slice(labels, count(labels) - 2, count(labels))) if {
	labels := split(input.sender_domain, ".")
	count(labels) > 2
}

# genuine: the sender is a protected domain or one of its subdomains.
genuine if {
	some d in candidates
	protected[d]
}

# content_filter_hop: the message on its way to a content filter on this
# host. The real delivery that follows carries the same facts: alert once,
# there.
content_filter_hop if strings.any_prefix_match(input.relay, ["127.", "localhost", "[::1]", "::1["])

alert contains {
	"message": sprintf("sender domain %s looks like %s (edit distance %d)", [input.sender_domain, p, dist]),
	"lookalike": d,
	"protected_domain": p,
	"distance": dist,
} if {
	input.event_type == "delivery"
	not genuine
	not content_filter_hop
	some d in candidates
	some p, max_distance in protected
	dist := detect.edit_distance(d, p)
	dist > 0
	dist <= max_distance
}
