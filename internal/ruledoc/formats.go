package ruledoc

import (
	"slices"
	"strings"
)

// capability is what one input format's parser produces: for each product it
// emits, the event types and, for each, the fields its events carry when the
// log holds them. TestCapabilitiesMatchParsers checks the table both ways
// against what the parsers make of the golden files, the example log and
// the rule cases: nothing here that no parser output shows, nothing shown
// that is missing here.
type capability struct {
	format   string
	products map[string]map[string]string // product -> event type -> space-separated fields
}

// capabilities lists the formats with their own parser, in the order of
// `detect --help`. The exports (json, csv, json-export) carry whatever
// fields were exported and can feed any rule.
var capabilities = []capability{
	{"postfix", map[string]map[string]string{
		"amavis": {
			"filter": "action attachment_ext attachment_name attachment_type attachments auth_user helo host message_id process queue_id reason recipient recipient_count recipient_domain sender sender_domain size src_host src_ip status subject",
		},
		"postfix": {
			"auth":     "action auth_user host process queue_id reason src_host src_ip",
			"connect":  "action host process reason src_host src_ip status",
			"delivery": "action attachment_ext attachment_name attachment_type attachments auth_user delay helo host message_id orig_recipient process queue_id reason recipient recipient_count recipient_domain relay sender sender_domain size src_host src_ip status status_code subject",
			"reject":   "action helo host process protocol queue_id reason recipient recipient_domain sender sender_domain src_host src_ip status status_code",
		},
	}},
	{"exim", map[string]map[string]string{
		"exim": {
			"auth":     "action auth_user helo host process protocol queue_id reason src_host src_ip status status_code",
			"connect":  "action helo host process reason src_host src_ip status",
			"delivery": "action auth_user delay helo message_id orig_recipient process protocol queue_id reason recipient recipient_count recipient_domain relay sender sender_domain size src_host src_ip status status_code subject",
			"filter":   "action message_id process queue_id reason recipient recipient_domain sender sender_domain src_host src_ip status",
			"receive":  "action auth_user helo message_id process protocol queue_id recipient_count sender sender_domain size src_host src_ip status subject",
			"reject":   "action helo host process protocol queue_id reason recipient recipient_domain sender sender_domain src_host src_ip status status_code",
		},
	}},
	{"sendmail", map[string]map[string]string{
		"sendmail": {
			"auth":     "action auth_user host process queue_id reason src_host src_ip status",
			"delivery": "action delay host message_id process protocol queue_id reason recipient recipient_count recipient_domain relay sender sender_domain size src_host src_ip status status_code",
			"reject":   "action host process queue_id reason recipient recipient_domain src_host src_ip status status_code",
		},
	}},
	{"exchange", map[string]map[string]string{
		"exchange": {
			"delivery": "action direction host message_id process protocol queue_id reason recipient recipient_count recipient_domain relay sender sender_domain size src_ip status status_code subject",
			"receive":  "action direction host message_id process protocol queue_id recipient recipient_count recipient_domain sender sender_domain size src_host src_ip status subject",
		},
	}},
	{"exchange-smtp", map[string]map[string]string{
		"exchange": {
			"auth":   "action auth_user helo host process protocol queue_id reason src_ip status_code",
			"reject": "action helo host process protocol queue_id reason recipient recipient_domain sender sender_domain src_ip status_code",
		},
	}},
	{"m365", map[string]map[string]string{
		"m365": {
			"delivery": "action direction message_id process queue_id recipient recipient_domain relay sender sender_domain size src_ip status subject",
			"filter":   "action message_id process queue_id recipient recipient_domain sender sender_domain size src_ip status subject",
			"receive":  "action direction message_id process queue_id recipient recipient_domain sender sender_domain size src_ip status subject",
		},
	}},
	{"zeek", map[string]map[string]string{
		"zeek": {
			"delivery": "action attachment_ext attachment_name attachment_size attachment_type attachments helo message_id process protocol queue_id reason recipient recipient_count recipient_domain relay sender sender_domain src_ip status status_code subject",
			"receive":  "action helo process protocol queue_id recipient recipient_count recipient_domain relay sender sender_domain src_ip status subject",
			"reject":   "action helo process protocol queue_id reason recipient recipient_count recipient_domain relay sender sender_domain src_ip status status_code",
		},
	}},
	{"amavis", map[string]map[string]string{
		"amavis": {
			"filter": "action attachment_ext attachment_name attachment_type attachments direction helo host message_id process queue_id reason recipient recipient_domain sender sender_domain size src_ip status subject",
		},
		"mailscanner": {
			"filter": "action attachment_ext attachment_name attachments host process queue_id reason recipient_domain sender sender_domain src_ip status",
		},
		"postfix": {
			"reject": "action helo host process protocol reason recipient recipient_domain sender sender_domain src_host src_ip status status_code",
		},
	}},
}

// fieldsOf splits a capability entry.
func fieldsOf(s string) []string { return strings.Fields(s) }

// formatsFor returns the formats whose parsers produce events that meet
// the needs: of one of the needed products (any when none), of one of the
// needed event types (any when none), carrying every needed field.
func formatsFor(n Needs) []string {
	var out []string
	for _, c := range capabilities {
		if c.feeds(n) {
			out = append(out, c.format)
		}
	}
	return out
}

func (c capability) feeds(n Needs) bool {
	for product, types := range c.products {
		if len(n.Products) > 0 && !slices.Contains(n.Products, product) {
			continue
		}
		for typ, fields := range types {
			if len(n.EventTypes) > 0 && !slices.Contains(n.EventTypes, typ) {
				continue
			}
			have := fieldsOf(fields)
			ok := true
			for _, f := range n.Fields {
				if !slices.Contains(have, f) {
					ok = false
					break
				}
			}
			if ok {
				return true
			}
		}
	}
	return false
}
