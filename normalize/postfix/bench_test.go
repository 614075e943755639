package postfix

import (
	"bufio"
	"strconv"
	"testing"
	"time"

	"github.com/detect-dev/detect/normalize"
	"github.com/detect-dev/detect/schema"
)

// BenchmarkParse measures the parser alone (lines already in memory, events
// discarded) over the real production log and over a synthetic sample with
// a typical mix of lines. It reports lines/s besides MB/s.
func BenchmarkParse(b *testing.B) {
	b.Run("pixelpark", func(b *testing.B) { benchLines(b, pixelparkLines(b)) })
	b.Run("synthetic", func(b *testing.B) {
		benchLines(b, syntheticLog(2000))
	})
}

// pixelparkLines loads the production corpus log into memory (skipping the
// benchmark when the corpus is absent).
func pixelparkLines(b *testing.B) []string {
	dir := corpusDir(b)
	rc, err := openCorpus(dir + "/pixelpark-postfix-logsums/test/mail.log.gz")
	if err != nil {
		b.Fatal(err)
	}
	defer rc.Close()
	var lines []string
	sc := bufio.NewScanner(rc)
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if err := sc.Err(); err != nil {
		b.Fatal(err)
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
		p := New(normalize.Options{Year: 2024})
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

// syntheticLog builds n messages' worth of a busy MX log: postscreen and
// smtpd chatter, one delivered message per client, and a reject now and
// then, in the proportions of the production corpus (mostly noise).
func syntheticLog(n int) []string {
	var out []string
	for i := 0; i < n; i++ {
		id := "4Pb" + strconv.FormatInt(int64(100000+i), 36) + "Jz3tBr"
		ip := "192.0." + strconv.Itoa(i%250) + "." + strconv.Itoa(1+i%200)
		ts := "2023-03-14T00:" + two(i/60%60) + ":" + two(i%60) + ".185246+01:00 mx "
		out = append(out,
			ts+"postfix/postscreen[3163107]: CONNECT from ["+ip+"]:36942 to [188.34.187.246]:25",
			ts+"postfix/dnsblog[301152]: addr "+ip+" listed by domain zen.spamhaus.org as 127.0.0.4",
			ts+"postfix/postscreen[3163107]: PASS OLD ["+ip+"]:36942",
			ts+"postfix/smtpd[297535]: connect from host"+strconv.Itoa(i)+".example.net["+ip+"]",
			ts+"postfix/smtpd[297535]: Anonymous TLS connection established from host.example.net["+ip+"]: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)",
			ts+"postfix/smtpd[297535]: "+id+": client=host.example.net["+ip+"]",
			ts+"postfix/cleanup[302604]: "+id+": message-id=<"+id+"@example.net>",
			ts+"postfix/qmgr[3163066]: "+id+": from=<sender"+strconv.Itoa(i)+"@example.net>, size=175061, nrcpt=1 (queue active)",
			ts+"postfix/smtpd[297535]: disconnect from host.example.net["+ip+"] ehlo=2 starttls=1 mail=1 rcpt=1 data=1 quit=1 commands=7",
			ts+"postfix/pipe[302615]: "+id+": to=<user01@example.org>, orig_to=<frank@example.de>, relay=dovecot, delay=0.12, delays=0.01/0.01/0/0.1, dsn=2.0.0, status=sent (delivered via dovecot service)",
			ts+"postfix/qmgr[3163066]: "+id+": removed",
		)
		if i%5 == 0 {
			out = append(out,
				ts+"postfix/smtpd[297535]: NOQUEUE: reject: RCPT from unknown["+ip+"]: 450 4.1.8 <s@bad.example>: Sender address rejected: Domain not found; from=<s@bad.example> to=<u@example.org> proto=ESMTP helo=<bad.example>",
				ts+"postfix/anvil[1]: statistics: max connection rate 1/60s for (smtpd:"+ip+") at Mar 14 00:00:00",
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
