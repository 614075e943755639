package schema

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestEventJSONOmitsAbsentKeepsNullSender(t *testing.T) {
	e := Event{Time: time.Date(2026, 11, 28, 5, 57, 2, 0, time.UTC), EventType: TypeDelivery, Recipient: "Bob@Example.ORG"}
	e.SetSender("")
	e.SetDelay(0)
	e.Complete()
	got := string(e.AppendJSON(nil))
	want := `{"time":"2026-11-28T05:57:02Z","event_type":"delivery","sender":"","recipient":"Bob@Example.ORG","recipient_domain":"example.org","delay":0}`
	if got != want {
		t.Fatalf("-want +got\n-%s\n+%s", want, got)
	}
}

func TestEventJSONRoundTrip(t *testing.T) {
	e := Event{
		Time: time.Date(2023, 3, 14, 0, 8, 35, 948047000, time.UTC), Host: "helga", Product: "postfix",
		Process: "postfix/smtp", EventType: TypeDelivery, Action: ActionDelivered, Status: "sent",
		StatusCode: "2.0.0", Reason: "ok <x> & \"q\"\n\x01\ufffd", QueueID: "4PbC4x469Jz3tBr", MessageID: "a@b",
		Recipient: "u@x.net", RecipientCount: 2, Size: 175061, Subject: "Grüße", SrcIP: "2a01:4f8::1",
		Delay: 2.4, HasDelay: true, Attachments: []Attachment{{Name: "a.PDF.exe", Ext: "exe", Size: 10}},
		SourceFile: "mail.log", SourceLine: 7,
	}
	e.SetSender("s@y.org")
	e.Complete()
	b := e.AppendJSON(nil)
	if !json.Valid(b) {
		t.Fatalf("invalid JSON: %s", b)
	}
	var back Event
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	b2 := back.AppendJSON(nil)
	if string(b) != string(b2) {
		t.Fatalf("round trip changed the event:\n-%s\n+%s", b, b2)
	}
	if back.Reason != "ok <x> & \"q\"\n\x01\ufffd" {
		t.Fatalf("reason decoded as %q", back.Reason)
	}
	if got := back.AttachmentExt; len(got) != 1 || got[0] != "exe" {
		t.Fatalf("attachment_ext = %v", got)
	}
}

func TestUnmarshalAcceptsFlattenedOnlyAndScalarLists(t *testing.T) {
	var e Event
	if err := json.Unmarshal([]byte(`{"sender":"a@Example.com","attachment_ext":"pdf","attachment_size":[5]}`), &e); err != nil {
		t.Fatal(err)
	}
	if e.SenderDomain != "example.com" || len(e.AttachmentExt) != 1 || e.AttachmentExt[0] != "pdf" {
		t.Fatalf("got %+v", e)
	}
	nums, ok := e.AppendNumbers(nil, FieldAttachmentSize)
	if !ok || len(nums) != 1 || nums[0] != 5 {
		t.Fatalf("attachment_size numbers = %v %v", nums, ok)
	}
}

func TestLookupFieldAliases(t *testing.T) {
	for name, want := range map[string]Field{
		"sender": FieldSender, "src_user": FieldSender, "email.smtp_from": FieldSender,
		"Recipient": FieldRecipient, "file_name": FieldAttachmentName, "@timestamp": FieldTime,
	} {
		got, ok := LookupField(name)
		if !ok || got != want {
			t.Errorf("LookupField(%q) = %v, %v; want %v", name, got, ok, want)
		}
	}
	if _, ok := LookupField("attachmnts"); ok {
		t.Error("misspelled field resolved")
	}
}

func TestEveryFieldIsEncodedAndDocumented(t *testing.T) {
	seen := map[string]bool{}
	for _, f := range Fields() {
		info := f.Info()
		if info.Name == "" || info.Doc == "" {
			t.Errorf("field %d lacks name or doc", f)
		}
		if seen[info.Name] {
			t.Errorf("duplicate field name %s", info.Name)
		}
		seen[info.Name] = true
	}
	// The wire struct must decode every field the encoder writes.
	wire := string(mustJSON(t, eventWire{}))
	for name := range seen {
		if !strings.Contains(wire, `"`+name+`"`) {
			t.Errorf("field %s is not decoded", name)
		}
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDomainAndExt(t *testing.T) {
	cases := []struct{ in, dom, ext string }{
		{"a@B.com", "b.com", "com"}, {"root", "", ""}, {"x@", "", ""}, {"invoice.PDF.exe", "", "exe"}, {"a b.c d", "", ""},
		// Windows drops trailing dots and spaces: these open as .exe.
		{"x.exe.", "", "exe"}, {"x.exe ", "", "exe"}, {"Invoice.pdf.EXE. . ", "", "exe"}, {"x.exe...", "", "exe"},
		{"x.", "", ""}, {"x. ", "", ""}, {"...", "", ""}, {" ", "", ""}, {"", "", ""}, {"dir.d/file", "", ""},
	}
	for _, c := range cases {
		if got := DomainOf(c.in); got != c.dom {
			t.Errorf("DomainOf(%q) = %q want %q", c.in, got, c.dom)
		}
		if got := ExtOf(c.in); got != c.ext {
			t.Errorf("ExtOf(%q) = %q want %q", c.in, got, c.ext)
		}
	}
}

func TestAppendJSONStringIsValid(t *testing.T) {
	for _, s := range []string{"", "plain <a@b>", "\x00\x1f\"\\", "\xff\xfe", "\u2028", "Grüße"} {
		b := AppendJSONString(nil, s)
		if !json.Valid(b) {
			t.Errorf("%q encodes to invalid JSON %s", s, b)
		}
		var back string
		if err := json.Unmarshal(b, &back); err != nil {
			t.Errorf("%q: %v", s, err)
		}
		std, _ := json.Marshal(s)
		var want string
		_ = json.Unmarshal(std, &want)
		if want != back {
			t.Errorf("%q decodes to %q", s, back)
		}
	}
}
