# METADATA
# title: Sender domain looks like a protected domain
# description: |
#   Mail was delivered from a sender domain one or two edits away from a
#   protected brand domain or one of the site's own domains (paypa1.com for
#   paypal.com, corp.exarnple for corp.example): a typosquatted domain used
#   for phishing. The domain and its parents are compared (mail.paypa1.com
#   is checked as paypa1.com too) with the edit distance built-in
#   detect.edit_distance. Protected domains and the distance live in
#   data.config (protected_domains, local_domains, lookalike_domain).
# related_resources:
#   - ref: https://attack.mitre.org/techniques/T1583/001/
# custom:
#   id: d5629312-6dab-48d5-85e7-516414111798
#   level: high
#   tags: [attack.resource_development, attack.t1583.001, attack.initial_access, attack.t1566]
#   requires: [delivery, sender_domain]
package detect.rules.lookalike_domain

settings := object.get(data.config, "lookalike_domain", {})

max_distance := object.get(settings, "max_distance", 2)

min_length := object.get(settings, "min_length_for_max_distance", 10)

protected contains lower(d) if {
	some d in object.get(data.config, "protected_domains", [])
}

protected contains lower(d) if {
	some d in object.get(data.config, "local_domains", [])
}

# candidates are the sender domain and its parents of two labels or more.
candidates contains concat(".", array.slice(labels, i, count(labels))) if {
	labels := split(input.sender_domain, ".")
	count(labels) >= 2
	some i in numbers.range(0, count(labels) - 2)
}

# genuine: the sender is a protected domain or one of its subdomains.
genuine if input.sender_domain in protected

genuine if {
	some p in protected
	endswith(input.sender_domain, concat("", [".", p]))
}

# allowed is the largest distance that counts as a lookalike of p.
allowed(p) := max_distance if count(p) >= min_length

allowed(p) := 1 if count(p) < min_length

# content_filter_hop: the message on its way to a content filter on this
# host, or the filter's verdict. The real delivery that follows carries the
# same facts: alert once, there.
content_filter_hop if input.event_type == "filter"

content_filter_hop if {
	some prefix in ["127.", "localhost", "[::1]", "::1["]
	startswith(object.get(input, "relay", ""), prefix)
}

alert contains {
	"message": sprintf("sender domain %s looks like %s (edit distance %d)", [input.sender_domain, p, dist]),
	"lookalike": d,
	"protected_domain": p,
	"distance": dist,
} if {
	not content_filter_hop
	not genuine
	some d in candidates
	some p in protected
	dist := detect.edit_distance(d, p)
	dist > 0
	dist <= allowed(p)
}
