package syslog

import (
	"errors"
	"testing"
	"time"
)

func fixedNow(s string) func() time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return func() time.Time { return t }
}

func TestParsePrefix(t *testing.T) {
	now := fixedNow("2024-06-01T00:00:00Z")
	tests := []struct {
		name, line string
		want       Record
		wantTime   string
	}{
		{
			name:     "rfc3164",
			line:     "Feb 20 04:05:39 fangorn postfix/pickup[15241]: 0D7037A4: uid=0 from=<root>",
			want:     Record{Host: "fangorn", Program: "postfix/pickup", PID: 15241, Message: "0D7037A4: uid=0 from=<root>"},
			wantTime: "2024-02-20T04:05:39Z",
		},
		{
			name:     "rfc3164 space-padded day",
			line:     "Feb  5 09:01:02 mx postfix/smtpd[1]: connect from x[1.2.3.4]",
			want:     Record{Host: "mx", Program: "postfix/smtpd", PID: 1, Message: "connect from x[1.2.3.4]"},
			wantTime: "2024-02-05T09:01:02Z",
		},
		{
			name:     "rfc3164 unpadded day",
			line:     "Mar 7 02:09:33 server postfix/smtpd[27246]: hello",
			want:     Record{Host: "server", Program: "postfix/smtpd", PID: 27246, Message: "hello"},
			wantTime: "2024-03-07T02:09:33Z",
		},
		{
			name:     "rfc3164 fraction",
			line:     "May 11 04:02:36.250 host1 postfix/smtpd[26897]: x",
			want:     Record{Host: "host1", Program: "postfix/smtpd", PID: 26897, Message: "x"},
			wantTime: "2024-05-11T04:02:36.25Z",
		},
		{
			name:     "rfc3339 with offset",
			line:     "2023-03-14T00:00:31.185246+01:00 helga postfix/postscreen[3163107]: CONNECT from [185.48.118.128]:36942 to [188.34.187.246]:25",
			want:     Record{Host: "helga", Program: "postfix/postscreen", PID: 3163107, Message: "CONNECT from [185.48.118.128]:36942 to [188.34.187.246]:25"},
			wantTime: "2023-03-13T23:00:31.185246Z",
		},
		{
			name:     "rfc3339 Z",
			line:     "2024-08-29T01:08:59Z machine postfix/submission/smtpd[1938053]: m",
			want:     Record{Host: "machine", Program: "postfix/submission/smtpd", PID: 1938053, Message: "m"},
			wantTime: "2024-08-29T01:08:59Z",
		},
		{
			name:     "rfc3339 negative compact offset",
			line:     "2024-08-29T01:08:59-0530 machine postfix-out/smtp[7]: m",
			want:     Record{Host: "machine", Program: "postfix-out/smtp", PID: 7, Message: "m"},
			wantTime: "2024-08-29T06:38:59Z",
		},
		{
			name:     "multi-instance with number",
			line:     "2023-03-14T00:08:35.917122+01:00 helga postfix/10025/smtpd[302614]: 4PbC4z6W5Qz3tG3: client=localhost[127.0.0.1]",
			want:     Record{Host: "helga", Program: "postfix/10025/smtpd", PID: 302614, Message: "4PbC4z6W5Qz3tG3: client=localhost[127.0.0.1]"},
			wantTime: "2023-03-13T23:08:35.917122Z",
		},
		{
			name:     "no pid",
			line:     "Jan  1 00:00:00 host amavis: starting",
			want:     Record{Host: "host", Program: "amavis", Message: "starting"},
			wantTime: "2024-01-01T00:00:00Z",
		},
		{
			name:     "priority prefix",
			line:     "<22>Jan  1 00:00:00 host postfix/qmgr[3]: x",
			want:     Record{Host: "host", Program: "postfix/qmgr", PID: 3, Message: "x"},
			wantTime: "2024-01-01T00:00:00Z",
		},
		{
			name:     "empty message",
			line:     "Jan  1 00:00:00 host postfix/qmgr[3]:",
			want:     Record{Host: "host", Program: "postfix/qmgr", PID: 3},
			wantTime: "2024-01-01T00:00:00Z",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := New(Options{Now: now})
			got, err := p.Parse(tc.line)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if gt := got.Time.Format(time.RFC3339Nano); gt != tc.wantTime {
				t.Errorf("time = %s, want %s", gt, tc.wantTime)
			}
			if got.Time.Location() != time.UTC {
				t.Errorf("time not in UTC: %v", got.Time.Location())
			}
			got.Time = time.Time{}
			if got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		line string
		want error
	}{
		{"", ErrTimestamp},
		{"hello world", ErrTimestamp},
		{"Foo 20 04:05:39 host prog: x", ErrTimestamp},
		{"Feb 32 04:05:39 host prog: x", ErrTimestamp},
		{"Feb 20 24:05:39 host prog: x", ErrTimestamp},
		{"Feb 20 04:05 host prog: x", ErrTimestamp},
		{"2023-13-14T00:00:31Z host prog: x", ErrTimestamp},
		{"2023-03-14T00:00:31+1 host prog: x", ErrTimestamp},
		{"2023-03-14T00:00:31.+01:00 host prog: x", ErrTimestamp},
		{"Feb 20 04:05:39 ", ErrHost},
		{"Feb 20 04:05:39 host", ErrHost},
		{"Feb 20 04:05:39 host no tag here", ErrTag},
		{"Feb 20 04:05:39 host prog[12: x", ErrTag},
		{"Feb 20 04:05:39 host prog[12]x", ErrTag},
	}
	for _, tc := range tests {
		p := New(Options{Now: fixedNow("2024-06-01T00:00:00Z")})
		if _, err := p.Parse(tc.line); !errors.Is(err, tc.want) {
			t.Errorf("Parse(%q) error = %v, want %v", tc.line, err, tc.want)
		}
	}
}

// An untagged line is an error, but its time, host and text are kept so
// that callers can recognize syslogd's own lines.
func TestParseErrTagKeepsText(t *testing.T) {
	tests := []struct {
		line string
		want Record
	}{
		{"Mar 14 01:00:00 mx last message repeated 3 times",
			Record{Time: time.Date(2024, 3, 14, 1, 0, 0, 0, time.UTC), Host: "mx", Message: "last message repeated 3 times"}},
		{"2024-03-14T01:00:00Z mx  --- last message repeated 2 times ---",
			Record{Time: time.Date(2024, 3, 14, 1, 0, 0, 0, time.UTC), Host: "mx", Message: "--- last message repeated 2 times ---"}},
	}
	for _, tc := range tests {
		p := New(Options{Year: 2024})
		got, err := p.Parse(tc.line)
		if !errors.Is(err, ErrTag) {
			t.Errorf("Parse(%q) error = %v, want %v", tc.line, err, ErrTag)
		}
		if got != tc.want {
			t.Errorf("Parse(%q) -want +got\n-%+v\n+%+v", tc.line, tc.want, got)
		}
	}
}

// TestYearInference covers every source of the year and the December ->
// January roll, each as a sequence of lines through one Parser.
func TestYearInference(t *testing.T) {
	mod := func(s string) time.Time { return fixedNow(s)() }
	tests := []struct {
		name  string
		opts  Options
		lines []string
		want  []string
	}{
		{
			name:  "explicit year",
			opts:  Options{Year: 2005, Now: fixedNow("2030-01-01T00:00:00Z")},
			lines: []string{"Feb 20 04:05:39 h p: x"},
			want:  []string{"2005-02-20T04:05:39Z"},
		},
		{
			name:  "explicit year rolls over",
			opts:  Options{Year: 2022},
			lines: []string{"Dec 31 23:59:58 h p: x", "Jan  1 00:00:01 h p: x", "Jan  1 00:00:01 h p: x", "Feb  1 00:00:00 h p: x"},
			want:  []string{"2022-12-31T23:59:58Z", "2023-01-01T00:00:01Z", "2023-01-01T00:00:01Z", "2023-02-01T00:00:00Z"},
		},
		{
			// The CLI passes each file's mtime along with --year: the
			// explicit year still rolls over (the mtime, a later touch of
			// the file, says nothing about the roll).
			name:  "explicit year with modtime rolls over",
			opts:  Options{Year: 2025, ModTime: mod("2026-03-01T00:00:00Z")},
			lines: []string{"Dec 31 23:59:58 h p: x", "Jan  1 00:00:01 h p: x", "Jan  2 00:00:00 h p: x"},
			want:  []string{"2025-12-31T23:59:58Z", "2026-01-01T00:00:01Z", "2026-01-02T00:00:00Z"},
		},
		{
			name:  "explicit year with a modtime in that year rolls over",
			opts:  Options{Year: 2025, ModTime: mod("2025-12-31T23:59:59Z")},
			lines: []string{"Dec 31 23:59:58 h p: x", "Jan  1 00:00:01 h p: x"},
			want:  []string{"2025-12-31T23:59:58Z", "2026-01-01T00:00:01Z"},
		},
		{
			name: "modtime puts december lines of a january archive in the previous year",
			opts: Options{ModTime: mod("2024-01-02T06:25:00Z"), Now: fixedNow("2030-01-01T00:00:00Z")},
			lines: []string{
				"Dec 30 10:00:00 h p: x",
				"Dec 31 23:59:59 h p: x",
				"Jan  1 00:00:00 h p: x",
				"Jan  2 06:00:00 h p: x",
			},
			want: []string{"2023-12-30T10:00:00Z", "2023-12-31T23:59:59Z", "2024-01-01T00:00:00Z", "2024-01-02T06:00:00Z"},
		},
		{
			name:  "modtime allows a day of slack",
			opts:  Options{ModTime: mod("2024-03-01T00:00:00Z")},
			lines: []string{"Mar  1 20:00:00 h p: x", "Mar  3 00:00:00 h p: x"},
			want:  []string{"2024-03-01T20:00:00Z", "2023-03-03T00:00:00Z"},
		},
		{
			name:  "newest rfc3339 stamp",
			opts:  Options{Now: fixedNow("2030-06-01T00:00:00Z")},
			lines: []string{"2024-08-26T01:33:38.572449+00:00 h p: x", "Jun 04 22:24:28 h p: x", "Dec 24 10:00:00 h p: x"},
			want:  []string{"2024-08-26T01:33:38.572449Z", "2024-06-04T22:24:28Z", "2023-12-24T10:00:00Z"},
		},
		{
			name:  "now",
			opts:  Options{Now: fixedNow("2024-01-01T00:10:00Z")},
			lines: []string{"Dec 31 23:59:00 h p: x", "Jan  1 00:05:00 h p: x"},
			want:  []string{"2023-12-31T23:59:00Z", "2024-01-01T00:05:00Z"},
		},
		{
			name: "live stream with a stale clock still rolls",
			opts: Options{Now: fixedNow("2023-12-31T12:00:00Z")},
			lines: []string{
				"Dec 31 23:59:59 h p: x",
				"Jan  1 00:00:02 h p: x",
				"Jan  1 00:00:03 h p: x",
			},
			want: []string{"2023-12-31T23:59:59Z", "2024-01-01T00:00:02Z", "2024-01-01T00:00:03Z"},
		},
		{
			name:  "location",
			opts:  Options{Year: 2024, Location: time.FixedZone("CET", 3600)},
			lines: []string{"Jul  1 12:00:00 h p: x"},
			want:  []string{"2024-07-01T11:00:00Z"},
		},
		{
			name:  "february 29 goes to a leap year",
			opts:  Options{Now: fixedNow("2025-03-10T00:00:00Z")},
			lines: []string{"Feb 29 12:00:00 h p: x"},
			want:  []string{"2024-02-29T12:00:00Z"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := New(tc.opts)
			for i, line := range tc.lines {
				r, err := p.Parse(line)
				if err != nil {
					t.Fatalf("line %d: %v", i, err)
				}
				if got := r.Time.Format(time.RFC3339Nano); got != tc.want[i] {
					t.Errorf("line %d %q: time -want +got\n-%s\n+%s", i, line, tc.want[i], got)
				}
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"Feb 20 04:05:39 fangorn postfix/pickup[15241]: 0D7037A4: uid=0 from=<root>",
		"Feb  5 04:05:39 h p: x",
		"Mar 7 02:09:33 server postfix/smtpd[27246]: x",
		"2023-03-14T00:00:31.185246+01:00 helga postfix/10025/smtpd[1]: x",
		"2023-03-14T00:00:31-0130 h p[",
		"<13>Dec 31 23:59:59 h p: x",
		"2023-03-14T00:00:31",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		p := New(Options{Now: fixedNow("2024-06-01T00:00:00Z")})
		r, err := p.Parse(line)
		if err != nil {
			return
		}
		if r.Time.Location() != time.UTC {
			t.Errorf("time not UTC")
		}
		if r.Host == "" || r.Program == "" {
			t.Errorf("accepted line without host or program: %+v", r)
		}
		if len(r.Host)+len(r.Program)+len(r.Message) > len(line) {
			t.Errorf("fields longer than the line")
		}
		// A second parse of the same line through the same parser (cached
		// stamp path) must agree.
		r2, err := p.Parse(line)
		if err != nil || !r2.Time.Equal(r.Time) {
			t.Errorf("reparse differs: %v %v vs %v", err, r2.Time, r.Time)
		}
	})
}

func BenchmarkParse(b *testing.B) {
	lines := []string{
		"2023-03-14T00:00:31.185246+01:00 helga postfix/postscreen[3163107]: CONNECT from [185.48.118.128]:36942 to [188.34.187.246]:25",
		"Feb 20 14:56:18 fangorn postfix/smtp[5161]: CCAE27A4: to=<cpan-testers@perl.org>, relay=mx.develooper.com[63.251.223.176], delay=9, status=sent",
	}
	p := New(Options{Year: 2024})
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := p.Parse(lines[i&1]); err != nil {
			b.Fatal(err)
		}
	}
}

func TestRFC5424(t *testing.T) {
	p := New(Options{})
	tests := []struct {
		line            string
		host, prog, msg string
		pid             int
		err             error
		wantTime        string
	}{
		{`<22>1 2026-11-27T08:03:12.877713+01:00 mx1 postfix/smtpd 1201 - - NOQUEUE: reject: RCPT`, "mx1", "postfix/smtpd", "NOQUEUE: reject: RCPT", 1201, nil, "2026-11-27T07:03:12.877713Z"},
		{`<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 [exampleSDID@32473 iut="3" eventSource="App] \"x\"" eventID="1011"][examplePriority@32473 class="high"] ` + "\ufeff" + `'su root' failed`, "mymachine.example.com", "su", "'su root' failed", 0, nil, "2003-10-11T22:14:15.003Z"},
		{`1 2026-01-02T03:04:05Z host exim - - -`, "host", "exim", "", 0, nil, "2026-01-02T03:04:05Z"},
		{`<13>1 - host app - - - msg`, "", "", "", 0, ErrTimestamp, ""},
		{`<13>1 2026-01-02T03:04:05Z host app 1 - [unterminated x="y"`, "", "", "", 0, ErrTag, ""},
		{`<13>1 2026-01-02T03:04:05Z - app 1 - - msg`, "", "", "", 0, ErrHost, ""},
	}
	for _, tc := range tests {
		r, err := p.Parse(tc.line)
		if err != tc.err {
			t.Errorf("%q: err %v, want %v", tc.line, err, tc.err)
			continue
		}
		if err != nil {
			continue
		}
		if r.Host != tc.host || r.Program != tc.prog || r.Message != tc.msg || r.PID != tc.pid || r.Time.Format(time.RFC3339Nano) != tc.wantTime {
			t.Errorf("%q:\n got %+v", tc.line, r)
		}
	}
}
