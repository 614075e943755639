package schema

import (
	"strconv"
	"strings"
	"time"
)

// Field identifies one event field. Rules resolve field names to a Field once,
// at load time, so evaluation never looks names up.
type Field uint8

// The event fields, in the order they are documented and encoded.
const (
	FieldTime Field = iota
	FieldHost
	FieldProduct
	FieldProcess
	FieldEventType
	FieldAction
	FieldStatus
	FieldStatusCode
	FieldReason
	FieldQueueID
	FieldMessageID
	FieldSender
	FieldSenderDomain
	FieldRecipient
	FieldRecipientDomain
	FieldOrigRecipient
	FieldRecipientCount
	FieldSize
	FieldSubject
	FieldSrcIP
	FieldSrcHost
	FieldHelo
	FieldAuthUser
	FieldRelay
	FieldDelay
	FieldDirection
	FieldProtocol
	FieldAttachments
	FieldAttachmentName
	FieldAttachmentExt
	FieldAttachmentType
	FieldAttachmentSize
	FieldSourceFile
	FieldSourceLine
	numFields
)

// Kind is the type of a field's value.
type Kind uint8

// Field kinds.
const (
	KindString     Kind = iota
	KindInt             // recipient_count, size, source_line
	KindFloat           // delay
	KindTime            // time
	KindStringList      // attachment_name, attachment_ext, attachment_type
	KindIntList         // attachment_size
	KindObjectList      // attachments
)

// FieldInfo documents one field.
type FieldInfo struct {
	Name string
	Kind Kind
	Doc  string
}

var fieldInfo = [numFields]FieldInfo{
	FieldTime:            {"time", KindTime, "when it happened (RFC 3339, UTC)"},
	FieldHost:            {"host", KindString, "the mail server that logged it"},
	FieldProduct:         {"product", KindString, "postfix, exim, sendmail, exchange, m365, zeek, ..."},
	FieldProcess:         {"process", KindString, "the logging process, e.g. postfix/smtpd"},
	FieldEventType:       {"event_type", KindString, "delivery, receive, reject, auth, connect, filter"},
	FieldAction:          {"action", KindString, "delivered, deferred, bounced, rejected, warned, quarantined, discarded, received, failed, succeeded"},
	FieldStatus:          {"status", KindString, "the MTA's own word: sent, bounced, deferred, reject, expired ..."},
	FieldStatusCode:      {"status_code", KindString, "SMTP reply and/or DSN, e.g. 550 5.7.1"},
	FieldReason:          {"reason", KindString, "reject, bounce or defer text"},
	FieldQueueID:         {"queue_id", KindString, "MTA queue id"},
	FieldMessageID:       {"message_id", KindString, "RFC 5322 Message-ID, without <>"},
	FieldSender:          {"sender", KindString, "envelope MAIL FROM (\"\" for the null sender of bounces)"},
	FieldSenderDomain:    {"sender_domain", KindString, "domain of sender, lower case"},
	FieldRecipient:       {"recipient", KindString, "one envelope RCPT TO"},
	FieldRecipientDomain: {"recipient_domain", KindString, "domain of recipient, lower case"},
	FieldOrigRecipient:   {"orig_recipient", KindString, "recipient before alias expansion"},
	FieldRecipientCount:  {"recipient_count", KindInt, "recipients of the message (nrcpt)"},
	FieldSize:            {"size", KindInt, "message size in bytes"},
	FieldSubject:         {"subject", KindString, "decoded subject, when logged"},
	FieldSrcIP:           {"src_ip", KindString, "SMTP client address"},
	FieldSrcHost:         {"src_host", KindString, "SMTP client host name (reverse DNS)"},
	FieldHelo:            {"helo", KindString, "SMTP client HELO/EHLO name"},
	FieldAuthUser:        {"auth_user", KindString, "SASL login"},
	FieldRelay:           {"relay", KindString, "next hop"},
	FieldDelay:           {"delay", KindFloat, "seconds from arrival to this outcome"},
	FieldDirection:       {"direction", KindString, "inbound, outbound, internal, unknown"},
	FieldProtocol:        {"protocol", KindString, "smtp, esmtp, lmtp ..."},
	FieldAttachments:     {"attachments", KindObjectList, "one {name, ext, type, size, sha256} object per attachment"},
	FieldAttachmentName:  {"attachment_name", KindStringList, "attachment file names"},
	FieldAttachmentExt:   {"attachment_ext", KindStringList, "attachment extensions, lower case, without the dot"},
	FieldAttachmentType:  {"attachment_type", KindStringList, "attachment MIME types"},
	FieldAttachmentSize:  {"attachment_size", KindIntList, "attachment sizes in bytes"},
	FieldSourceFile:      {"source_file", KindString, "input file the event came from"},
	FieldSourceLine:      {"source_line", KindInt, "line number in source_file"},
}

// aliases maps CIM, ECS/OCSF and seed-style names onto schema fields.
// Ambiguous CIM names (dest is both host and relay) map to the more useful one.
var aliases = map[string]Field{
	// Splunk CIM (Email data model)
	"_time":               FieldTime,
	"dest":                FieldHost,
	"vendor_product":      FieldProduct,
	"tag":                 FieldEventType,
	"message_info":        FieldReason,
	"internal_message_id": FieldQueueID,
	"src_user":            FieldSender,
	"src_user_domain":     FieldSenderDomain,
	"recipient_domain":    FieldRecipientDomain,
	"src":                 FieldSrcIP,
	"user":                FieldAuthUser,
	"file_name":           FieldAttachmentName,
	"file_size":           FieldAttachmentSize,
	"source":              FieldSourceFile,
	// ECS / OCSF
	"@timestamp":         FieldTime,
	"observer.hostname":  FieldHost,
	"observer.product":   FieldProduct,
	"process.name":       FieldProcess,
	"email.uid":          FieldQueueID,
	"email.message_id":   FieldMessageID,
	"email.message_uid":  FieldMessageID,
	"email.smtp_from":    FieldSender,
	"email.from.address": FieldSender,
	"email.smtp_to":      FieldRecipient,
	"email.to.address":   FieldRecipient,
	"email.size":         FieldSize,
	"email.subject":      FieldSubject,
	"source.ip":          FieldSrcIP,
	"client.ip":          FieldSrcIP,
	"source.domain":      FieldSrcHost,
	"actor.user.name":    FieldAuthUser,
	"user.name":          FieldAuthUser,
	"email.files":        FieldAttachments,
	"email.attachments":  FieldAttachments,
	"file.name":          FieldAttachmentName,
	"file.extension":     FieldAttachmentExt,
	"file.mime_type":     FieldAttachmentType,
	"file.size":          FieldAttachmentSize,
	"log.file.path":      FieldSourceFile,
	"event.action":       FieldAction,
	"event.duration":     FieldDelay,
	"network.protocol":   FieldProtocol,
	"status_detail":      FieldReason,
	"duration":           FieldDelay,
	// seed / common spellings
	"from":            FieldSender,
	"to":              FieldRecipient,
	"mail_from":       FieldSender,
	"rcpt_to":         FieldRecipient,
	"client_ip":       FieldSrcIP,
	"client":          FieldSrcIP,
	"sasl_username":   FieldAuthUser,
	"message-id":      FieldMessageID,
	"nrcpt":           FieldRecipientCount,
	"queueid":         FieldQueueID,
	"dsn":             FieldStatusCode,
	"filename":        FieldAttachmentName,
	"attachment_mime": FieldAttachmentType,
}

var fieldByName = func() map[string]Field {
	m := make(map[string]Field, int(numFields)+len(aliases))
	for f := Field(0); f < numFields; f++ {
		m[fieldInfo[f].Name] = f
	}
	for name, f := range aliases {
		if _, own := m[name]; !own {
			m[name] = f
		}
	}
	return m
}()

// LookupField resolves a schema field name or one of its aliases
// (case-insensitive).
func LookupField(name string) (Field, bool) {
	if f, ok := fieldByName[name]; ok {
		return f, true
	}
	f, ok := fieldByName[strings.ToLower(name)]
	return f, ok
}

// Fields returns every field in documentation order.
func Fields() []Field {
	out := make([]Field, numFields)
	for i := range out {
		out[i] = Field(i)
	}
	return out
}

// Aliases returns a copy of the alias table (alias name -> field).
func Aliases() map[string]Field {
	out := make(map[string]Field, len(aliases))
	for k, v := range aliases {
		out[k] = v
	}
	return out
}

// Name is the field's schema name (snake_case).
func (f Field) Name() string { return f.Info().Name }

// Kind is the type of the field's value.
func (f Field) Kind() Kind { return f.Info().Kind }

// Info returns the field's name, kind and documentation.
func (f Field) Info() FieldInfo {
	if f >= numFields {
		return FieldInfo{Name: "field(" + strconv.Itoa(int(f)) + ")"}
	}
	return fieldInfo[f]
}

func (f Field) String() string { return f.Name() }

// Has reports whether the event carries a value for f.
func (e *Event) Has(f Field) bool {
	switch f {
	case FieldTime:
		return !e.Time.IsZero()
	case FieldSender:
		return e.HasSender || e.Sender != ""
	case FieldRecipientCount:
		return e.RecipientCount != 0
	case FieldSize:
		return e.Size != 0
	case FieldDelay:
		return e.HasDelay || e.Delay != 0
	case FieldSourceLine:
		return e.SourceLine != 0
	case FieldAttachments:
		return len(e.Attachments) > 0
	case FieldAttachmentName:
		return len(e.AttachmentName) > 0
	case FieldAttachmentExt:
		return len(e.AttachmentExt) > 0
	case FieldAttachmentType:
		return len(e.AttachmentType) > 0
	case FieldAttachmentSize:
		return len(e.AttachmentSize) > 0
	}
	return e.Str(f) != ""
}

// Str returns a string field's value ("" when absent or not a string field).
// It never allocates.
func (e *Event) Str(f Field) string {
	switch f {
	case FieldHost:
		return e.Host
	case FieldProduct:
		return e.Product
	case FieldProcess:
		return e.Process
	case FieldEventType:
		return e.EventType
	case FieldAction:
		return e.Action
	case FieldStatus:
		return e.Status
	case FieldStatusCode:
		return e.StatusCode
	case FieldReason:
		return e.Reason
	case FieldQueueID:
		return e.QueueID
	case FieldMessageID:
		return e.MessageID
	case FieldSender:
		return e.Sender
	case FieldSenderDomain:
		return e.SenderDomain
	case FieldRecipient:
		return e.Recipient
	case FieldRecipientDomain:
		return e.RecipientDomain
	case FieldOrigRecipient:
		return e.OrigRecipient
	case FieldSubject:
		return e.Subject
	case FieldSrcIP:
		return e.SrcIP
	case FieldSrcHost:
		return e.SrcHost
	case FieldHelo:
		return e.Helo
	case FieldAuthUser:
		return e.AuthUser
	case FieldRelay:
		return e.Relay
	case FieldDirection:
		return e.Direction
	case FieldProtocol:
		return e.Protocol
	case FieldSourceFile:
		return e.SourceFile
	}
	return ""
}

// AppendText appends the field's values as text to dst and reports whether
// the field is present. Scalars give one value, lists one per element;
// numbers are formatted in decimal, time in RFC 3339, attachments as their
// names. String fields append without allocating.
func (e *Event) AppendText(dst []string, f Field) ([]string, bool) {
	if !e.Has(f) {
		return dst, false
	}
	switch f.Kind() {
	case KindString:
		return append(dst, e.Str(f)), true
	case KindInt, KindFloat:
		n, _ := e.Number(f)
		return append(dst, strconv.FormatFloat(n, 'f', -1, 64)), true
	case KindTime:
		return append(dst, e.Time.UTC().Format(time.RFC3339Nano)), true
	case KindStringList:
		return append(dst, e.stringList(f)...), true
	case KindIntList:
		for _, n := range e.AttachmentSize {
			dst = append(dst, strconv.FormatInt(n, 10))
		}
		return dst, true
	case KindObjectList:
		for _, a := range e.Attachments {
			dst = append(dst, a.Name)
		}
		return dst, true
	}
	return dst, false
}

func (e *Event) stringList(f Field) []string {
	switch f {
	case FieldAttachmentName:
		return e.AttachmentName
	case FieldAttachmentExt:
		return e.AttachmentExt
	case FieldAttachmentType:
		return e.AttachmentType
	}
	return nil
}

// Number returns a numeric field's value. Time gives Unix seconds.
func (e *Event) Number(f Field) (float64, bool) {
	if !e.Has(f) {
		return 0, false
	}
	switch f {
	case FieldRecipientCount:
		return float64(e.RecipientCount), true
	case FieldSize:
		return float64(e.Size), true
	case FieldDelay:
		return e.Delay, true
	case FieldSourceLine:
		return float64(e.SourceLine), true
	case FieldTime:
		return float64(e.Time.UnixNano()) / 1e9, true
	}
	return 0, false
}

// AppendNumbers appends the field's numeric values to dst: one for numeric
// scalars, one per element for attachment_size, and for string fields the
// value parsed as a number when it is one.
func (e *Event) AppendNumbers(dst []float64, f Field) ([]float64, bool) {
	if !e.Has(f) {
		return dst, false
	}
	switch f.Kind() {
	case KindInt, KindFloat, KindTime:
		n, _ := e.Number(f)
		return append(dst, n), true
	case KindIntList:
		for _, n := range e.AttachmentSize {
			dst = append(dst, float64(n))
		}
		return dst, true
	case KindObjectList:
		for _, a := range e.Attachments {
			dst = append(dst, float64(a.Size))
		}
		return dst, true
	case KindString:
		n, err := strconv.ParseFloat(e.Str(f), 64)
		if err != nil {
			return dst, false
		}
		return append(dst, n), true
	case KindStringList:
		found := false
		for _, s := range e.stringList(f) {
			if n, err := strconv.ParseFloat(s, 64); err == nil {
				dst = append(dst, n)
				found = true
			}
		}
		return dst, found
	}
	return dst, false
}
