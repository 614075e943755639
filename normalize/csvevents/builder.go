package csvevents

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/detect-dev/detect/normalize"
	"github.com/detect-dev/detect/schema"
)

// builder collects one record's fields into an event.
type builder struct {
	loc        *time.Location
	ev         schema.Event
	recipients []string
	hashes     []string
	hasLine    bool
}

// set gives field c the values vals (one for scalars). It reports false
// for a value that does not parse.
func (b *builder) set(c int, vals []string) bool {
	if len(vals) == 0 {
		return true
	}
	e := &b.ev
	v := vals[0]
	if c == colSHA256 {
		b.hashes = append(b.hashes, vals...)
		return true
	}
	f := schema.Field(c)
	switch f {
	case schema.FieldTime:
		t, ok := parseTime(v, b.loc)
		e.Time = t
		return ok
	case schema.FieldSender:
		if v == "<>" {
			v = ""
		}
		e.SetSender(strings.Trim(v, "<>"))
		return true
	case schema.FieldRecipient:
		for _, r := range vals {
			b.recipients = append(b.recipients, strings.Trim(r, "<>"))
		}
		return true
	case schema.FieldMessageID:
		e.MessageID = strings.Trim(v, "<>")
		return true
	case schema.FieldRecipientCount, schema.FieldSize, schema.FieldSourceLine:
		n, ok := parseInt(v)
		if !ok {
			return false
		}
		switch f {
		case schema.FieldRecipientCount:
			e.RecipientCount = int(n)
		case schema.FieldSize:
			e.Size = n
		default:
			e.SourceLine = int(n)
			b.hasLine = true
		}
		return true
	case schema.FieldDelay:
		d, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(d) || math.IsInf(d, 0) {
			return false
		}
		e.SetDelay(d)
		return true
	case schema.FieldAttachments:
		for _, name := range vals {
			e.Attachments = append(e.Attachments, schema.Attachment{Name: name, Ext: schema.ExtOf(name)})
		}
		return true
	case schema.FieldAttachmentName:
		e.AttachmentName = append(e.AttachmentName, vals...)
		return true
	case schema.FieldAttachmentExt:
		for _, x := range vals {
			e.AttachmentExt = append(e.AttachmentExt, strings.ToLower(strings.TrimPrefix(x, ".")))
		}
		return true
	case schema.FieldAttachmentType:
		e.AttachmentType = append(e.AttachmentType, vals...)
		return true
	case schema.FieldAttachmentSize:
		for _, x := range vals {
			n, ok := parseInt(x)
			if !ok {
				return false
			}
			e.AttachmentSize = append(e.AttachmentSize, n)
		}
		return true
	}
	if p := strField(e, f); p != nil {
		*p = v
		return true
	}
	return true // derived fields (sender_domain ...) are recomputed anyway
}

// strField points at a string field of e, or returns nil.
func strField(e *schema.Event, f schema.Field) *string {
	switch f {
	case schema.FieldHost:
		return &e.Host
	case schema.FieldProduct:
		return &e.Product
	case schema.FieldProcess:
		return &e.Process
	case schema.FieldEventType:
		return &e.EventType
	case schema.FieldAction:
		return &e.Action
	case schema.FieldStatus:
		return &e.Status
	case schema.FieldStatusCode:
		return &e.StatusCode
	case schema.FieldReason:
		return &e.Reason
	case schema.FieldQueueID:
		return &e.QueueID
	case schema.FieldSenderDomain:
		return &e.SenderDomain
	case schema.FieldRecipientDomain:
		return &e.RecipientDomain
	case schema.FieldOrigRecipient:
		return &e.OrigRecipient
	case schema.FieldSubject:
		return &e.Subject
	case schema.FieldSrcIP:
		return &e.SrcIP
	case schema.FieldSrcHost:
		return &e.SrcHost
	case schema.FieldHelo:
		return &e.Helo
	case schema.FieldAuthUser:
		return &e.AuthUser
	case schema.FieldRelay:
		return &e.Relay
	case schema.FieldDirection:
		return &e.Direction
	case schema.FieldProtocol:
		return &e.Protocol
	case schema.FieldSourceFile:
		return &e.SourceFile
	}
	return nil
}

// attachmentsJSON reads a JSON array of attachment objects: the schema's
// {name, ext, type, size, sha256}, or ECS's {"file": {"name", "extension",
// "mime_type", "size", "hash": {"sha256"}}}.
func (b *builder) attachmentsJSON(raw []byte) bool {
	var items []struct {
		schema.Attachment
		File *struct {
			Name      string      `json:"name"`
			Extension string      `json:"extension"`
			MimeType  string      `json:"mime_type"`
			Size      json.Number `json:"size"`
			Hash      struct {
				SHA256 string `json:"sha256"`
			} `json:"hash"`
		} `json:"file"`
	}
	if err := json.Unmarshal(raw, &items); err != nil {
		return false
	}
	for _, it := range items {
		a := it.Attachment
		if f := it.File; f != nil {
			a = schema.Attachment{Name: f.Name, Ext: f.Extension, Type: f.MimeType, SHA256: f.Hash.SHA256}
			if f.Size != "" {
				n, ok := parseInt(f.Size.String())
				if !ok {
					return false
				}
				a.Size = n
			}
		}
		if a.Ext == "" {
			a.Ext = schema.ExtOf(a.Name)
		}
		a.Ext = strings.ToLower(strings.TrimPrefix(a.Ext, "."))
		b.ev.Attachments = append(b.ev.Attachments, a)
	}
	return true
}

// zip joins flat attachment lists of one length into attachments.
func (b *builder) zip() {
	e := &b.ev
	n := len(e.AttachmentName)
	if len(e.Attachments) > 0 || n == 0 {
		return
	}
	for _, l := range []int{len(e.AttachmentExt), len(e.AttachmentType), len(e.AttachmentSize), len(b.hashes)} {
		if l != 0 && l != n {
			return
		}
	}
	for i, name := range e.AttachmentName {
		a := schema.Attachment{Name: name, Ext: schema.ExtOf(name)}
		if len(e.AttachmentExt) == n {
			a.Ext = e.AttachmentExt[i]
		}
		if len(e.AttachmentType) == n {
			a.Type = e.AttachmentType[i]
		}
		if len(e.AttachmentSize) == n {
			a.Size = e.AttachmentSize[i]
		}
		if len(b.hashes) == n {
			a.SHA256 = b.hashes[i]
		}
		e.Attachments = append(e.Attachments, a)
	}
	e.AttachmentName, e.AttachmentExt, e.AttachmentType, e.AttachmentSize = nil, nil, nil, nil
}

// emit sends one event per recipient (or one without any).
func (b *builder) emit(src schema.Line, emit normalize.Emit) {
	b.zip()
	if b.ev.SourceFile == "" {
		b.ev.SourceFile, b.ev.SourceLine = src.File, src.Number
	} else if !b.hasLine {
		b.ev.SourceLine = 0
	}
	rcpts := b.recipients
	if len(rcpts) == 0 {
		rcpts = []string{""}
	}
	for i, r := range rcpts {
		ev := b.ev
		if i > 0 {
			ev.Attachments = append([]schema.Attachment(nil), b.ev.Attachments...)
		}
		ev.Recipient = r
		if len(rcpts) > 1 {
			ev.RecipientDomain = "" // derived per recipient
		}
		ev.Complete()
		emit(&ev)
	}
}

// parseInt reads an integer, also written with a fraction ("1024.0").
func parseInt(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || f > math.MaxInt64/2 || f < math.MinInt64/2 {
		return 0, false
	}
	return int64(f), true
}

// parseTime reads RFC 3339, a few zone-less forms (in loc), and Unix
// epoch seconds.
func parseTime(s string, loc *time.Location) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), true
	}
	for _, layout := range [...]string{
		"2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999", "2006-01-02 15:04:05Z07:00",
		"2006-01-02 15:04:05.999999999 MST", "2006-01-02T15:04:05.999999999Z0700",
	} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t.UTC(), true
		}
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && f > 0 && f < 1e11 {
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(math.Round(frac*1e6))*1e3).UTC(), true
	}
	return time.Time{}, false
}
