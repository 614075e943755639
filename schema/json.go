package schema

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"
)

// MarshalJSON encodes the event as one flat JSON object in schema field order,
// omitting absent fields (sender is kept when it is the null sender "").
func (e Event) MarshalJSON() ([]byte, error) {
	return e.AppendJSON(make([]byte, 0, 512)), nil
}

// AppendJSON appends the event's JSON encoding to dst. It is the allocation-
// light path used by `detect normalize` and the alert writers.
func (e *Event) AppendJSON(dst []byte) []byte {
	dst = append(dst, '{')
	first := true
	key := func(name string) {
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = append(dst, '"')
		dst = append(dst, name...)
		dst = append(dst, '"', ':')
	}
	for f := Field(0); f < numFields; f++ {
		if !e.Has(f) {
			continue
		}
		key(fieldInfo[f].Name)
		switch f.Kind() {
		case KindString:
			dst = AppendJSONString(dst, e.Str(f))
		case KindInt:
			n, _ := e.Number(f)
			dst = strconv.AppendInt(dst, int64(n), 10)
		case KindFloat:
			dst = strconv.AppendFloat(dst, e.Delay, 'f', -1, 64)
		case KindTime:
			dst = append(dst, '"')
			dst = e.Time.UTC().AppendFormat(dst, time.RFC3339Nano)
			dst = append(dst, '"')
		case KindStringList:
			dst = append(dst, '[')
			for i, s := range e.stringList(f) {
				if i > 0 {
					dst = append(dst, ',')
				}
				dst = AppendJSONString(dst, s)
			}
			dst = append(dst, ']')
		case KindIntList:
			dst = append(dst, '[')
			for i, n := range e.AttachmentSize {
				if i > 0 {
					dst = append(dst, ',')
				}
				dst = strconv.AppendInt(dst, n, 10)
			}
			dst = append(dst, ']')
		case KindObjectList:
			dst = append(dst, '[')
			for i, a := range e.Attachments {
				if i > 0 {
					dst = append(dst, ',')
				}
				dst = a.appendJSON(dst)
			}
			dst = append(dst, ']')
		}
	}
	return append(dst, '}')
}

func (a *Attachment) appendJSON(dst []byte) []byte {
	dst = append(dst, '{')
	sep := false
	str := func(k, v string) {
		if v == "" {
			return
		}
		if sep {
			dst = append(dst, ',')
		}
		sep = true
		dst = append(dst, '"')
		dst = append(dst, k...)
		dst = append(dst, '"', ':')
		dst = AppendJSONString(dst, v)
	}
	str("name", a.Name)
	str("ext", a.Ext)
	str("type", a.Type)
	if a.Size != 0 {
		if sep {
			dst = append(dst, ',')
		}
		sep = true
		dst = append(dst, `"size":`...)
		dst = strconv.AppendInt(dst, a.Size, 10)
	}
	str("sha256", a.SHA256)
	return append(dst, '}')
}

const hexDigits = "0123456789abcdef"

// AppendJSONString appends s as a JSON string literal. Invalid UTF-8 becomes
// U+FFFD, as encoding/json does, so output is always valid JSON. Unlike
// encoding/json's default it leaves <, > and & alone: mail logs are full of
// <addresses> and people read this output.
func AppendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// eventWire is the decoding shape of Event: pointers tell absent from zero.
type eventWire struct {
	Time            *time.Time   `json:"time"`
	Host            string       `json:"host"`
	Product         string       `json:"product"`
	Process         string       `json:"process"`
	EventType       string       `json:"event_type"`
	Action          string       `json:"action"`
	Status          string       `json:"status"`
	StatusCode      string       `json:"status_code"`
	Reason          string       `json:"reason"`
	QueueID         string       `json:"queue_id"`
	MessageID       string       `json:"message_id"`
	Sender          *string      `json:"sender"`
	SenderDomain    string       `json:"sender_domain"`
	Recipient       string       `json:"recipient"`
	RecipientDomain string       `json:"recipient_domain"`
	OrigRecipient   string       `json:"orig_recipient"`
	RecipientCount  int          `json:"recipient_count"`
	Size            int64        `json:"size"`
	Subject         string       `json:"subject"`
	SrcIP           string       `json:"src_ip"`
	SrcHost         string       `json:"src_host"`
	Helo            string       `json:"helo"`
	AuthUser        string       `json:"auth_user"`
	Relay           string       `json:"relay"`
	Delay           *float64     `json:"delay"`
	Direction       string       `json:"direction"`
	Protocol        string       `json:"protocol"`
	Attachments     []Attachment `json:"attachments"`
	AttachmentName  stringOrList `json:"attachment_name"`
	AttachmentExt   stringOrList `json:"attachment_ext"`
	AttachmentType  stringOrList `json:"attachment_type"`
	AttachmentSize  []int64      `json:"attachment_size"`
	SourceFile      string       `json:"source_file"`
	SourceLine      int          `json:"source_line"`
}

// stringOrList accepts "pdf" as well as ["pdf"], as people write both.
type stringOrList []string

func (s *stringOrList) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var one string
		if err := json.Unmarshal(b, &one); err != nil {
			return err
		}
		*s = []string{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*s = many
	return nil
}

// UnmarshalJSON decodes an event written by MarshalJSON (or by hand, e.g. in
// rule cases) and completes its derived fields.
func (e *Event) UnmarshalJSON(b []byte) error {
	var w eventWire
	if err := json.Unmarshal(b, &w); err != nil {
		return fmt.Errorf("decode event: %w", err)
	}
	*e = Event{
		Host: w.Host, Product: w.Product, Process: w.Process, EventType: w.EventType,
		Action: w.Action, Status: w.Status, StatusCode: w.StatusCode, Reason: w.Reason,
		QueueID: w.QueueID, MessageID: w.MessageID, SenderDomain: w.SenderDomain,
		Recipient: w.Recipient, RecipientDomain: w.RecipientDomain, OrigRecipient: w.OrigRecipient,
		RecipientCount: w.RecipientCount, Size: w.Size, Subject: w.Subject, SrcIP: w.SrcIP,
		SrcHost: w.SrcHost, Helo: w.Helo, AuthUser: w.AuthUser, Relay: w.Relay,
		Direction: w.Direction, Protocol: w.Protocol, Attachments: w.Attachments,
		AttachmentName: w.AttachmentName, AttachmentExt: w.AttachmentExt,
		AttachmentType: w.AttachmentType, AttachmentSize: w.AttachmentSize,
		SourceFile: w.SourceFile, SourceLine: w.SourceLine,
	}
	if w.Time != nil {
		e.Time = w.Time.UTC()
	}
	if w.Sender != nil {
		e.SetSender(*w.Sender)
	}
	if w.Delay != nil {
		e.SetDelay(*w.Delay)
	}
	for i := range e.Attachments {
		if e.Attachments[i].Ext == "" {
			e.Attachments[i].Ext = ExtOf(e.Attachments[i].Name)
		}
	}
	e.Complete()
	return nil
}
