package exim

import (
	"bufio"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/detect-dev/detect/normalize"
	"github.com/detect-dev/detect/schema"
)

// BenchmarkParse measures the parser alone (lines already in memory, events
// discarded) over all of Exim's test-suite logs and over a synthetic busy
// MX log. It reports lines/s besides MB/s.
func BenchmarkParse(b *testing.B) {
	b.Run("testsuite", func(b *testing.B) { benchLines(b, testsuiteAll(b)) })
	b.Run("synthetic", func(b *testing.B) { benchLines(b, syntheticLog(2000)) })
}

// testsuiteAll loads every test-suite log into memory (skipping the
// benchmark when the corpus is absent).
func testsuiteAll(b *testing.B) []string {
	dir := corpusDir(b)
	files, err := filepath.Glob(filepath.Join(dir, "exim-testsuite", "test", "log", "*"))
	if err != nil {
		b.Fatal(err)
	}
	sort.Strings(files)
	var lines []string
	for _, path := range files {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if text, ok := testsuiteLines(sc.Text()); ok {
				lines = append(lines, text)
			}
		}
		f.Close()
	}
	return lines
}

func benchLines(b *testing.B, lines []string) {
	size := 0
	for _, l := range lines {
		size += len(l) + 1
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	events := 0
	emit := func(*schema.Event) { events++ }
	start := time.Now()
	iters := 0
	for b.Loop() {
		p := New(normalize.Options{Year: 2026})
		for i, l := range lines {
			p.Parse(schema.Line{Text: l, File: "bench", Number: i + 1}, emit)
		}
		p.Flush(emit)
		iters++
	}
	if el := time.Since(start).Seconds(); el > 0 {
		b.ReportMetric(float64(iters*len(lines))/el, "lines/s")
	}
	b.ReportMetric(float64(events)/float64(iters), "events/op")
}

// syntheticLog builds n messages' worth of a busy MX main log: connection
// chatter, one message per client with two deliveries, and a reject and an
// authentication failure now and then.
func syntheticLog(n int) []string {
	var out []string
	for i := 0; i < n; i++ {
		id := "1vA" + strconv.FormatInt(int64(100+i%900), 36) + "C-000" + strconv.Itoa(100+i%900) + "-AB"
		ip := "192.0." + strconv.Itoa(i%250) + "." + strconv.Itoa(1+i%200)
		ts := "2026-11-27 08:" + two(i/60%60) + ":" + two(i%60) + " "
		out = append(out,
			ts+"SMTP connection from mail"+strconv.Itoa(i)+".example.net ["+ip+"]:40112 I=[192.0.2.25]:25 (TCP/IP connection count = 3)",
			ts+id+" <= sender"+strconv.Itoa(i)+"@example.net H=mail.example.net (helo.example.net) ["+ip+"]:40112 I=[192.0.2.25]:25 P=esmtps X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=no S=48211 id=m"+strconv.Itoa(i)+"@example.net T=\"Quarterly report\" for a@corp.example b@corp.example",
			ts+"SMTP connection from mail.example.net ["+ip+"]:40112 I=[192.0.2.25]:25 closed by QUIT",
			ts+id+" => a@corp.example R=local_user T=dovecot_lmtp C=\"250 2.0.0 <a@corp.example> Saved\"",
			ts+id+" -> b@corp.example R=local_user T=dovecot_lmtp C=\"250 2.0.0 <b@corp.example> Saved\"",
			ts+id+" Completed",
		)
		if i%5 == 0 {
			out = append(out,
				ts+"H=(x) ["+ip+"]:4001 I=[192.0.2.25]:25 F=<s@bad.example> rejected RCPT <u@corp.example>: Sender verify failed",
				ts+"dovecot_login authenticator failed for (User) ["+ip+"]:21298 I=[192.0.2.25]:465: 535 Incorrect authentication data (set_id=admin)",
			)
		}
	}
	return out
}

func two(n int) string {
	if n < 10 {
		return "0" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}
