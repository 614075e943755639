package sendmail

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/detect-dev/detect/normalize"
	"github.com/detect-dev/detect/schema"
)

// fluentRecord is one line of fluent-plugin-sendmail's expected output: a
// to= line merged with its message's from= line. Numbers are strings there.
type fluentRecord struct {
	Time            int64    `json:"time"`
	MTA             string   `json:"mta"`
	QID             string   `json:"qid"`
	From            string   `json:"from"`
	Size            string   `json:"size"`
	Nrcpts          string   `json:"nrcpts"`
	MsgID           string   `json:"msgid"`
	Proto           string   `json:"proto"`
	StatusCanonical string   `json:"status_canonical"`
	To              []string `json:"to"`
	DSN             string   `json:"dsn"`
	Stat            string   `json:"stat"`
	DelayInSec      float64  `json:"delay_in_sec"`
	RelayFrom       *struct {
		IP string `json:"ip"`
	} `json:"relay_from"`
	RelayTo *struct {
		IP string `json:"ip"`
	} `json:"relay_to"`
}

// TestFluentExpected runs fluent-plugin-sendmail's sample log and checks
// every recipient of every expected record against our delivery events, as a
// table test written by someone else: time, host, queue id, sender, size,
// nrcpts, msgid, protocol, action (from status_canonical), dsn, stat, delay
// (1+00:00:15 is 86415 s) and the relays on both sides.
func TestFluentExpected(t *testing.T) {
	dir := filepath.Join(corpusDir(t), "fluent-plugin-sendmail", "test", "data")
	data, err := os.Open(filepath.Join(dir, "data"))
	if err != nil {
		t.Fatal(err)
	}
	defer data.Close()
	p := New(normalize.Options{Year: 2016, Location: jst})
	var events []*schema.Event
	sc := bufio.NewScanner(data)
	for n := 1; sc.Scan(); n++ {
		if r := p.Parse(schema.Line{Text: sc.Text(), File: "data", Number: n}, func(ev *schema.Event) {
			events = append(events, ev)
		}); r == normalize.NotUnderstood {
			t.Errorf("line %d not understood: %s", n, sc.Text())
		}
	}

	res, err := os.ReadFile(filepath.Join(dir, "result"))
	if err != nil {
		t.Fatal(err)
	}
	var want []fluentRecord
	for i, l := range strings.Split(strings.TrimSpace(string(res)), "\n") {
		var r fluentRecord
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("result line %d: %v", i+1, err)
		}
		want = append(want, r)
	}
	if len(want) != 6 {
		t.Fatalf("result has %d records, the corpus file has 6", len(want))
	}

	actions := map[string]string{
		"sent": schema.ActionDelivered, "sent_local": schema.ActionDelivered,
		"deferred": schema.ActionDeferred, "bounced": schema.ActionBounced,
	}
	i := 0
	for _, w := range want {
		for _, to := range w.To {
			if i >= len(events) {
				t.Fatalf("ran out of events at %s", to)
			}
			ev := events[i]
			i++
			check := func(field string, got, want any) {
				t.Helper()
				if got != want {
					t.Errorf("%s (line %d): %s = %v, want %v", to, ev.SourceLine, field, got, want)
				}
			}
			check("time", ev.Time, time.Unix(w.Time, 0).UTC())
			check("host", ev.Host, w.MTA)
			check("queue_id", ev.QueueID, w.QID)
			check("recipient", ev.Recipient, strings.Trim(to, "<>"))
			check("sender", ev.Sender, strings.Trim(w.From, "<>"))
			check("size", strconv.FormatInt(ev.Size, 10), w.Size)
			check("recipient_count", strconv.Itoa(ev.RecipientCount), w.Nrcpts)
			check("message_id", ev.MessageID, strings.Trim(w.MsgID, "<>"))
			check("protocol", ev.Protocol, strings.ToLower(w.Proto))
			check("action", ev.Action, actions[w.StatusCanonical])
			check("status_code has dsn", strings.HasSuffix(ev.StatusCode, w.DSN), true)
			check("stat", strings.Contains(w.Stat, ev.Reason), true)
			check("delay", ev.Delay, w.DelayInSec)
			if w.RelayFrom != nil {
				check("src_ip", ev.SrcIP, w.RelayFrom.IP)
			}
			if w.RelayTo != nil {
				check("relay", ev.Relay, "["+w.RelayTo.IP+"]")
			} else {
				check("relay", ev.Relay, "local")
			}
		}
	}
	if i != len(events) {
		t.Errorf("%d events, the expected records name %d recipients", len(events), i)
	}
}
