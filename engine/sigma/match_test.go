package sigma

import (
	"strings"
	"testing"
	"time"

	"github.com/detect-dev/detect/schema"
)

const testHeader = "title: test\nid: 00000000-0000-4000-8000-000000000001\nlogsource: {category: email}\n"

// compileDetection compiles a rule whose detection block is det (indented
// by two spaces, as it would be under "detection:").
func compileDetection(t *testing.T, det string) *Rule {
	t.Helper()
	src := testHeader + "detection:" + det + "\n"
	rules, err := ParseFile("test.yml", []byte(src))
	if err != nil {
		t.Fatalf("ParseFile: %v\n%s", err, src)
	}
	if len(rules) != 1 {
		t.Fatalf("got %d rules, want 1", len(rules))
	}
	return rules[0]
}

// ev completes an event so the derived fields (domains, attachment lists)
// are set as a parser would set them.
func ev(e schema.Event) schema.Event {
	e.Complete()
	return e
}

func sender(s string) schema.Event {
	e := schema.Event{}
	e.SetSender(s)
	return ev(e)
}

type matchCase struct {
	name    string
	det     string
	match   []schema.Event
	nomatch []schema.Event
}

func runMatchCases(t *testing.T, cases []matchCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := compileDetection(t, tc.det)
			for i := range tc.match {
				if !r.Match(&tc.match[i]) {
					t.Errorf("event %d should match: %+v", i, tc.match[i])
				}
			}
			for i := range tc.nomatch {
				if r.Match(&tc.nomatch[i]) {
					t.Errorf("event %d should not match: %+v", i, tc.nomatch[i])
				}
			}
		})
	}
}

func TestMatchValues(t *testing.T) {
	runMatchCases(t, []matchCase{
		{
			name: "exact value is case-insensitive and whole",
			det: `
  sel:
    subject: Invoice
  condition: sel`,
			match:   []schema.Event{{Subject: "Invoice"}, {Subject: "INVOICE"}, {Subject: "invoice"}},
			nomatch: []schema.Event{{Subject: "Invoice 2"}, {Subject: "my invoice"}, {}},
		},
		{
			// sigma-go v0.6.6 compares "*" literally, so this rule never
			// fires there.
			name: "plain * wildcard",
			det: `
  sel:
    sender: '*@evil.example'
  condition: sel`,
			match:   []schema.Event{sender("a@evil.example"), sender("Boss@EVIL.Example"), sender("@evil.example")},
			nomatch: []schema.Event{sender("a@evil.example.com"), sender("a@notevil.example.org"), {}},
		},
		{
			name: "* alone matches any present value",
			det: `
  sel:
    subject: '*'
  condition: sel`,
			match:   []schema.Event{{Subject: "x"}},
			nomatch: []schema.Event{{}},
		},
		{
			name: "inner wildcards and ?",
			det: `
  sel:
    helo: 'win-????*.local'
    subject: 'in*ce*due'
  condition: sel`,
			match: []schema.Event{
				{Helo: "WIN-ABCD.local", Subject: "Invoice overdue"},
				{Helo: "win-abcdefg.LOCAL", Subject: "inxcedue"},
				{Helo: "win-éèàü.local", Subject: "Invoice ce due"}, // ? is one character, not one byte
			},
			nomatch: []schema.Event{
				{Helo: "win-abc.local", Subject: "Invoice overdue"},
				{Helo: "win-abcd.local", Subject: "Invoice overdue!"},
			},
		},
		{
			name: "escaped wildcards are literal",
			det: `
  star:
    subject: 'a\*b'
  question:
    helo: 'host\?'
  backslash_then_wildcard:
    reason: 'C:\\*'
  lone_backslash:
    relay: 'C:\Windows'
  condition: 1 of them`,
			match: []schema.Event{
				{Subject: "a*b"}, {Helo: "HOST?"}, {Reason: `C:\anything`}, {Relay: `c:\windows`},
			},
			nomatch: []schema.Event{
				{Subject: "axb"}, {Subject: "a**b"}, {Helo: "hosts"}, {Reason: `C:anything`}, {Relay: `C:\\Windows`},
			},
		},
		{
			name: "value list is OR",
			det: `
  sel:
    attachment_ext: [exe, scr]
  condition: sel`,
			match:   []schema.Event{{AttachmentExt: []string{"exe"}}, {AttachmentExt: []string{"pdf", "SCR"}}},
			nomatch: []schema.Event{{AttachmentExt: []string{"pdf"}}, {}},
		},
		{
			name: "null matches absent only; the null sender is a value",
			det: `
  sel:
    subject: null
    sender: ~
  condition: sel`,
			match:   []schema.Event{{}},
			nomatch: []schema.Event{{Subject: "x"}, sender("a@b.example"), sender("")},
		},
		{
			name: "empty string matches the null sender only",
			det: `
  sel:
    sender: ''
  condition: sel`,
			match:   []schema.Event{sender("")},
			nomatch: []schema.Event{{}, sender("a@b.example")},
		},
		{
			name: "booleans compare as text",
			det: `
  sel:
    subject: true
  condition: sel`,
			match:   []schema.Event{{Subject: "TRUE"}, {Subject: "true"}},
			nomatch: []schema.Event{{Subject: "yes"}},
		},
		{
			name: "numbers compare numerically on numeric fields",
			det: `
  sel:
    size: 1000
    delay: 1.5
    attachment_size: 2e3
  condition: sel`,
			match:   []schema.Event{ev(schema.Event{Size: 1000, Delay: 1.5, AttachmentSize: []int64{5, 2000}})},
			nomatch: []schema.Event{ev(schema.Event{Size: 1001, Delay: 1.5, AttachmentSize: []int64{2000}}), {}},
		},
		{
			name: "numbers compare as text on text fields",
			det: `
  sel:
    status_code: 550
  condition: sel`,
			match:   []schema.Event{{StatusCode: "550"}},
			nomatch: []schema.Event{{StatusCode: "550 5.7.1"}, {StatusCode: "5500"}},
		},
		{
			name: "text patterns on numeric fields see the decimal text",
			det: `
  sel:
    size|startswith: '25'
  condition: sel`,
			match:   []schema.Event{{Size: 25000000}, {Size: 25}},
			nomatch: []schema.Event{{Size: 125}, {}},
		},
		{
			name: "aliases resolve to schema fields",
			det: `
  sel:
    src_user|endswith: '@corp.example'
    file.extension: exe
    client.ip: 10.0.0.1
  condition: sel`,
			match: []schema.Event{ev(schema.Event{Sender: "a@corp.example", AttachmentExt: []string{"exe"}, SrcIP: "10.0.0.1"})},
		},
		{
			name: "non-ASCII patterns fold Unicode",
			det: `
  sel:
    subject|contains: 'ÉTÉ'
  condition: sel`,
			match:   []schema.Event{{Subject: "réunion été 2026"}, {Subject: "ÉTÉ"}},
			nomatch: []schema.Event{{Subject: "ete"}},
		},
	})
}

func TestMatchModifiers(t *testing.T) {
	runMatchCases(t, []matchCase{
		{
			name: "contains startswith endswith",
			det: `
  sel:
    subject|contains: 'VERIFY'
    sender|startswith: 'billing@'
    recipient|endswith: '.example'
  condition: sel`,
			match: []schema.Event{ev(schema.Event{Subject: "please verify now", Sender: "Billing@x", Recipient: "a@b.EXAMPLE"})},
			nomatch: []schema.Event{
				ev(schema.Event{Subject: "verif", Sender: "billing@x", Recipient: "a@b.example"}),
				ev(schema.Event{Subject: "verify", Sender: "x billing@x", Recipient: "a@b.example"}),
				ev(schema.Event{Subject: "verify", Sender: "billing@x", Recipient: "a@b.example.org"}),
			},
		},
		{
			name: "contains keeps inner wildcards",
			det: `
  sel:
    reason|contains: 'blocked*spamhaus'
  condition: sel`,
			match:   []schema.Event{{Reason: "client BLOCKED using zen.spamhaus.org"}},
			nomatch: []schema.Event{{Reason: "spamhaus blocked"}},
		},
		{
			name: "all on a scalar field",
			det: `
  sel:
    subject|contains|all: [bank, details]
  condition: sel`,
			match:   []schema.Event{{Subject: "new BANK account details"}},
			nomatch: []schema.Event{{Subject: "bank holiday"}},
		},
		{
			name: "all on a list field needs each value in some element",
			det: `
  sel:
    attachment_ext|all: [pdf, exe]
  condition: sel`,
			match:   []schema.Event{{AttachmentExt: []string{"exe", "txt", "pdf"}}},
			nomatch: []schema.Event{{AttachmentExt: []string{"exe"}}, {}},
		},
		{
			name: "cased",
			det: `
  sel:
    subject|cased: Invoice
  pre:
    helo|cased|startswith: WIN-
  condition: sel or pre`,
			match:   []schema.Event{{Subject: "Invoice"}, {Helo: "WIN-1"}},
			nomatch: []schema.Event{{Subject: "invoice"}, {Helo: "win-1"}},
		},
		{
			name: "re is case-sensitive and unanchored",
			det: `
  sel:
    helo|re: '(WIN|DESKTOP)-[A-Z0-9]+'
  condition: sel`,
			match:   []schema.Event{{Helo: "WIN-ABC"}, {Helo: "x DESKTOP-7Q"}},
			nomatch: []schema.Event{{Helo: "win-abc"}},
		},
		{
			name: "re flags i m s",
			det: `
  i:
    helo|re|i: '^win-'
  m:
    reason|re|m: '^second$'
  s:
    subject|re|s: 'a.b'
  condition: 1 of them`,
			match:   []schema.Event{{Helo: "WIN-1"}, {Reason: "first\nsecond\nthird"}, {Subject: "a\nb"}},
			nomatch: []schema.Event{{Helo: "xwin-"}, {Reason: "first second"}, {Subject: "ab"}},
		},
		{
			name: "re on a list field",
			det: `
  sel:
    attachment_name|re: '(?i)\.pdf\s*\.exe$'
  condition: sel`,
			match:   []schema.Event{{AttachmentName: []string{"a.txt", "Invoice.PDF .exe"}}},
			nomatch: []schema.Event{{AttachmentName: []string{"a.pdf", "b.exe"}}},
		},
		{
			name: "cidr IPv4, IPv6, mapped and bare addresses",
			det: `
  sel:
    src_ip|cidr: [10.0.0.0/8, '2001:db8::/32', 192.0.2.7]
  condition: sel`,
			match: []schema.Event{
				{SrcIP: "10.1.2.3"}, {SrcIP: "2001:db8::25"}, {SrcIP: "::ffff:10.0.0.7"}, {SrcIP: "192.0.2.7"},
			},
			nomatch: []schema.Event{{SrcIP: "11.0.0.1"}, {SrcIP: "2001:db9::1"}, {SrcIP: "192.0.2.8"}, {SrcIP: "unknown"}, {}},
		},
		{
			name: "gt gte lt lte",
			det: `
  gt:
    size|gt: 100
  gte:
    recipient_count|gte: 50
  lt:
    delay|lt: 0.5
  lte:
    attachment_size|lte: 10
  condition: gt and gte and lt and lte`,
			match: []schema.Event{ev(schema.Event{Size: 101, RecipientCount: 50, Delay: 0.25, HasDelay: true, AttachmentSize: []int64{100, 10}})},
			nomatch: []schema.Event{
				ev(schema.Event{Size: 100, RecipientCount: 50, Delay: 0.25, HasDelay: true, AttachmentSize: []int64{10}}),
				ev(schema.Event{Size: 101, RecipientCount: 49, Delay: 0.25, HasDelay: true, AttachmentSize: []int64{10}}),
				ev(schema.Event{Size: 101, RecipientCount: 50, Delay: 0.5, HasDelay: true, AttachmentSize: []int64{10}}),
				ev(schema.Event{Size: 101, RecipientCount: 50, Delay: 0.25, HasDelay: true, AttachmentSize: []int64{11}}),
				ev(schema.Event{Size: 101, RecipientCount: 50, AttachmentSize: []int64{10}}), // no delay
			},
		},
		{
			name: "exists",
			det: `
  has:
    auth_user|exists: true
  hasnot:
    subject|exists: false
  condition: has and hasnot`,
			match:   []schema.Event{{AuthUser: "bob"}},
			nomatch: []schema.Event{{AuthUser: "bob", Subject: "x"}, {}},
		},
		{
			name: "base64 and base64offset",
			det: `
  b64:
    reason|base64|contains: 'evil'
  off:
    subject|base64offset|contains: 'http://'
  condition: b64 or off`,
			match: []schema.Event{
				{Reason: "x ZXZpbA== y"},
				{Subject: "eHlHRVQgaHR0cDovL3g="}, // base64("xyGET http://x"), offset 0
				{Subject: "R0VUIGh0dHA6Ly94"},     // base64("GET http://x"), offset 1
				{Subject: "eEdFVCBodHRwOi8veA=="}, // base64("xGET http://x"), offset 2
			},
			nomatch: []schema.Event{{Reason: "zxzpba=="}, {Subject: "http://"}},
		},
		{
			name: "time compares numerically as Unix seconds",
			det: `
  sel:
    time|gte: 1800000000
  condition: sel`,
			match:   []schema.Event{{Time: time.Unix(1800000000, 0)}},
			nomatch: []schema.Event{{Time: time.Unix(1799999999, 0)}, {}},
		},
		{
			name: "attachments object list: names as text, sizes as numbers",
			det: `
  name:
    attachments|endswith: .exe
  size:
    attachments|gt: 1000000
  condition: name and size`,
			match:   []schema.Event{{Attachments: []schema.Attachment{{Name: "a.EXE", Size: 5}, {Name: "b.iso", Size: 2000000}}}},
			nomatch: []schema.Event{{Attachments: []schema.Attachment{{Name: "a.exe", Size: 5}}}},
		},
	})
}

func TestMatchKeywords(t *testing.T) {
	runMatchCases(t, []matchCase{
		{
			name: "keyword list searches every text field",
			det: `
  keywords:
    - spamhaus
    - 'pass*word'
  condition: keywords`,
			match: []schema.Event{
				{Reason: "blocked using zen.SPAMHAUS.org"},
				{Subject: "your PASSWORD expires"},
				{AttachmentName: []string{"passwords.zip"}},
			},
			nomatch: []schema.Event{{Subject: "hello"}, {SourceFile: "spamhaus.log"}, {}},
		},
		{
			name: "keywords skip classification fields that every event shares",
			det: `
  keywords:
    - delivery
    - postfix
  condition: keywords`,
			match:   []schema.Event{{Subject: "Delivery failure notice"}},
			nomatch: []schema.Event{{EventType: "delivery", Product: "postfix", Process: "postfix/smtp"}},
		},
		{
			name: "keywords with all in a map",
			det: `
  sel:
    '|all': [bank, details]
    direction: inbound
  condition: sel`,
			match:   []schema.Event{{Subject: "bank", Reason: "new details", Direction: "inbound"}},
			nomatch: []schema.Event{{Subject: "bank", Direction: "inbound"}, {Subject: "bank details", Direction: "outbound"}},
		},
		{
			name: "keyword with startswith and re",
			det: `
  start:
    '|startswith': 'win-'
  regex:
    '|re': '^\d{3} 5\.7\.1$'
  condition: start or regex`,
			match:   []schema.Event{{Helo: "WIN-1"}, {StatusCode: "554 5.7.1"}},
			nomatch: []schema.Event{{Helo: "my WIN-1"}, {StatusCode: "5.7.1"}},
		},
		{
			name: "list mixing maps and keywords is OR",
			det: `
  sel:
    - action: rejected
    - 'relay access denied'
  condition: sel`,
			match:   []schema.Event{{Action: "rejected"}, {Reason: "Relay access denied"}},
			nomatch: []schema.Event{{Action: "delivered"}},
		},
	})
}

func TestMatchConditions(t *testing.T) {
	a := schema.Event{Subject: "a"}
	b := schema.Event{Helo: "b"}
	ab := schema.Event{Subject: "a", Helo: "b"}
	c := schema.Event{Relay: "c"}
	none := schema.Event{}
	const abc = `
  sel_a:
    subject: a
  sel_b:
    helo: b
  other-c.x:
    relay: c`
	runMatchCases(t, []matchCase{
		{name: "and", det: abc + "\n  condition: sel_a and sel_b", match: []schema.Event{ab}, nomatch: []schema.Event{a, b}},
		{name: "or", det: abc + "\n  condition: sel_a or sel_b", match: []schema.Event{a, b}, nomatch: []schema.Event{c}},
		{name: "not", det: abc + "\n  condition: not sel_a", match: []schema.Event{b, none}, nomatch: []schema.Event{a, ab}},
		{name: "not not", det: abc + "\n  condition: not not sel_a", match: []schema.Event{a}, nomatch: []schema.Event{b}},
		{name: "not binds tighter than and", det: abc + "\n  condition: not sel_a and sel_b", match: []schema.Event{b}, nomatch: []schema.Event{ab, none}},
		{name: "and binds tighter than or", det: abc + "\n  condition: other-c.x or sel_a and sel_b", match: []schema.Event{c, ab}, nomatch: []schema.Event{a, b}},
		{name: "parentheses", det: abc + "\n  condition: (other-c.x or sel_a) and not sel_b", match: []schema.Event{c, a}, nomatch: []schema.Event{ab, none}},
		{name: "operators are case-insensitive", det: abc + "\n  condition: sel_a AND NOT sel_b", match: []schema.Event{a}, nomatch: []schema.Event{ab}},
		// sigma-go v0.6.6 cannot parse identifiers with "-" or ".".
		{name: "identifier with - and .", det: abc + "\n  condition: other-c.x", match: []schema.Event{c}, nomatch: []schema.Event{a}},
		// sigma-go v0.6.6 panics on "1 of <name>".
		{name: "1 of a single name", det: abc + "\n  condition: 1 of sel_a", match: []schema.Event{a}, nomatch: []schema.Event{b}},
		{name: "1 of pattern", det: abc + "\n  condition: 1 of sel_*", match: []schema.Event{a, b}, nomatch: []schema.Event{c}},
		{name: "any of pattern", det: abc + "\n  condition: any of sel*", match: []schema.Event{a, b}, nomatch: []schema.Event{c}},
		{name: "all of pattern", det: abc + "\n  condition: all of sel_*", match: []schema.Event{ab}, nomatch: []schema.Event{a, b}},
		{name: "pattern with inner star", det: abc + "\n  condition: 1 of *-c*", match: []schema.Event{c}, nomatch: []schema.Event{a}},
		{name: "1 of them", det: abc + "\n  condition: 1 of them", match: []schema.Event{a, b, c}, nomatch: []schema.Event{none}},
		{name: "all of them", det: abc + "\n  condition: all of them", match: []schema.Event{{Subject: "a", Helo: "b", Relay: "c"}}, nomatch: []schema.Event{ab}},
		{
			name: "them skips names starting with _",
			det: `
  sel:
    subject: a
  _helper:
    helo: b
  condition: all of them and not _helper`,
			match:   []schema.Event{a},
			nomatch: []schema.Event{ab},
		},
		{
			name:    "a list of conditions is OR",
			det:     abc + "\n  condition:\n    - sel_a and sel_b\n    - other-c.x",
			match:   []schema.Event{ab, c},
			nomatch: []schema.Event{a, b},
		},
		{
			name:    "a map is AND, a list of maps OR",
			det:     "\n  sel:\n    - subject: a\n      helo: b\n    - relay: c\n  condition: sel",
			match:   []schema.Event{ab, c},
			nomatch: []schema.Event{a, b},
		},
	})
}

func TestMatchProduct(t *testing.T) {
	src := strings.Replace(testHeader, "{category: email}", "{category: email, product: Postfix}", 1) +
		"detection:\n  sel:\n    subject: a\n  condition: sel\n"
	rules, err := ParseFile("p.yml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	r := rules[0]
	if r.Logsource.Product != "postfix" {
		t.Errorf("product = %q, want postfix", r.Logsource.Product)
	}
	for _, tc := range []struct {
		e    schema.Event
		want bool
	}{
		{schema.Event{Product: "postfix", Subject: "a"}, true},
		{schema.Event{Product: "POSTFIX", Subject: "a"}, true},
		{schema.Event{Product: "exim", Subject: "a"}, false},
		{schema.Event{Subject: "a"}, false},
	} {
		if got := r.Match(&tc.e); got != tc.want {
			t.Errorf("Match(%+v) = %v, want %v", tc.e, got, tc.want)
		}
	}
}

// TestMatchDoesNotAllocate checks the promise that matching needs no
// allocation, over rules that use every common kind of matcher.
func TestMatchDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under -race (sync.Pool drops items)")
	}
	rules := loadRules(t, "common.yml")
	rules = append(rules, compileDetection(t, `
  kw:
    - spamhaus
    - 'pass*word'
  glob:
    subject: 'in*ce*due'
  uni:
    subject|contains: 'été'
  num:
    size|gte: 500
  condition: 1 of them`))
	events := genEvents(500)
	allocs := testing.AllocsPerRun(20, func() {
		for _, e := range events {
			for _, r := range rules {
				r.Match(e)
			}
		}
	})
	if allocs != 0 {
		t.Errorf("Match allocated %.1f times per run, want 0", allocs)
	}
}

func TestMatchListPresence(t *testing.T) {
	runMatchCases(t, []matchCase{
		{
			name: "null and exists on list fields",
			det: `
  none:
    attachment_ext: null
  some:
    attachment_name|exists: true
  condition: none or some`,
			match:   []schema.Event{{}, {AttachmentName: []string{"a"}}},
			nomatch: []schema.Event{{AttachmentExt: []string{"exe"}}},
		},
		{
			name: "null and exists on numeric fields",
			det: `
  nosize:
    size: null
  delay:
    delay|exists: true
  condition: nosize and delay`,
			match:   []schema.Event{ev(schema.Event{Delay: 0, HasDelay: true})},
			nomatch: []schema.Event{{Size: 5, Delay: 1}, {}},
		},
		{
			name: "keyword cidr and base64",
			det: `
  net:
    '|cidr': 10.0.0.0/8
  b64:
    '|base64': evil
  condition: net or b64`,
			match:   []schema.Event{{SrcIP: "10.9.9.9"}, {Reason: "x ZXZpbA== y"}},
			nomatch: []schema.Event{{SrcIP: "11.0.0.1"}, {Reason: "evil"}},
		},
	})
}

func TestLooksNumeric(t *testing.T) {
	for s, want := range map[string]bool{
		"0": true, "-1": true, "+2.5": true, ".5": true, "5.": true, "1e3": true, "1E-3": true,
		"": false, "-": false, ".": false, "1e": false, "1e+": false, "0x10": false, "5 5": false, "550 5.7.1": false, "inf": false,
	} {
		if got := looksNumeric(s); got != want {
			t.Errorf("looksNumeric(%q) = %v, want %v", s, got, want)
		}
	}
}
