package schema

import (
	"strings"
	"time"
)

// Event types (the event_type field).
const (
	TypeDelivery = "delivery" // one recipient outcome of a message
	TypeReceive  = "receive"  // a message accepted into the queue
	TypeReject   = "reject"   // refused (or warned) during the SMTP dialogue
	TypeAuth     = "auth"     // SASL authentication result
	TypeConnect  = "connect"  // a client connection
	TypeFilter   = "filter"   // content-filter verdict (amavis, milters)
)

// Actions (the action field).
const (
	ActionDelivered   = "delivered"
	ActionDeferred    = "deferred"
	ActionBounced     = "bounced"
	ActionRejected    = "rejected"
	ActionWarned      = "warned"
	ActionQuarantined = "quarantined"
	ActionDiscarded   = "discarded"
	ActionReceived    = "received"
	ActionFailed      = "failed"
	ActionSucceeded   = "succeeded"
)

// Directions (the direction field).
const (
	DirectionInbound  = "inbound"
	DirectionOutbound = "outbound"
	DirectionInternal = "internal"
	DirectionUnknown  = "unknown"
)

// Attachment is one file attached to a message.
type Attachment struct {
	Name   string `json:"name,omitempty"`
	Ext    string `json:"ext,omitempty"` // lower case, without the dot
	Type   string `json:"type,omitempty"`
	Size   int64  `json:"size,omitempty"`
	SHA256 string `json:"sha256,omitempty"`
}

// Event is one normalized mail-log event. The grain is one recipient outcome
// (a delivery), plus events that have no recipient: rejects, authentication
// results, connections, filter verdicts.
//
// Absent values are zero values, with two exceptions where zero is
// meaningful: Sender is the null sender "" of bounces when HasSender is set,
// and Delay is a real 0 seconds when HasDelay is set. Use SetSender and
// SetDelay to keep the flags right.
type Event struct {
	Time            time.Time
	Host            string
	Product         string
	Process         string
	EventType       string
	Action          string
	Status          string
	StatusCode      string
	Reason          string
	QueueID         string
	MessageID       string
	Sender          string
	HasSender       bool
	SenderDomain    string
	Recipient       string
	RecipientDomain string
	OrigRecipient   string
	RecipientCount  int
	Size            int64
	Subject         string
	SrcIP           string
	SrcHost         string
	Helo            string
	AuthUser        string
	Relay           string
	Delay           float64
	HasDelay        bool
	Direction       string
	Protocol        string
	Attachments     []Attachment

	// Flattened copies of Attachments for Sigma. Complete() derives them
	// from Attachments; events decoded from JSON may carry only these.
	AttachmentName []string
	AttachmentExt  []string
	AttachmentType []string
	AttachmentSize []int64

	SourceFile string
	SourceLine int
}

// SetSender records the envelope sender, which may be "" (the null sender).
func (e *Event) SetSender(s string) {
	e.Sender = s
	e.HasSender = true
}

// SetDelay records the delay in seconds, which may be 0.
func (e *Event) SetDelay(seconds float64) {
	e.Delay = seconds
	e.HasDelay = true
}

// Complete fills the derived fields: sender_domain and recipient_domain from
// the addresses, and the flattened attachment lists from Attachments. Parsers
// call it once per event before emitting; it is idempotent.
func (e *Event) Complete() {
	if e.SenderDomain == "" && e.Sender != "" {
		e.SenderDomain = DomainOf(e.Sender)
	}
	if e.RecipientDomain == "" && e.Recipient != "" {
		e.RecipientDomain = DomainOf(e.Recipient)
	}
	if len(e.Attachments) > 0 && len(e.AttachmentName) == 0 && len(e.AttachmentExt) == 0 &&
		len(e.AttachmentType) == 0 && len(e.AttachmentSize) == 0 {
		for _, a := range e.Attachments {
			if a.Name != "" {
				e.AttachmentName = append(e.AttachmentName, a.Name)
			}
			if a.Ext != "" {
				e.AttachmentExt = append(e.AttachmentExt, a.Ext)
			}
			if a.Type != "" {
				e.AttachmentType = append(e.AttachmentType, a.Type)
			}
			if a.Size > 0 {
				e.AttachmentSize = append(e.AttachmentSize, a.Size)
			}
		}
	}
}

// DomainOf returns the lower-cased domain part of an address, or "" when it
// has none.
func DomainOf(addr string) string {
	at := strings.LastIndexByte(addr, '@')
	if at < 0 || at == len(addr)-1 {
		return ""
	}
	return lowerASCII(addr[at+1:])
}

// ExtOf returns the lower-cased extension of a file name without the dot
// ("invoice.PDF.exe" -> "exe"), or "" when it has none. Trailing dots and
// spaces are ignored, as Windows strips them when it opens a file: the
// extension of "invoice.exe." and of "invoice.exe " is "exe".
func ExtOf(name string) string {
	name = strings.TrimRight(name, ". ")
	dot := strings.LastIndexByte(name, '.')
	if dot < 0 || dot == len(name)-1 {
		return ""
	}
	ext := name[dot+1:]
	if strings.ContainsAny(ext, "/\\ ") {
		return ""
	}
	return lowerASCII(ext)
}

// lowerASCII lowers ASCII letters without allocating when s is already lower.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			return strings.ToLower(s)
		}
	}
	return s
}
