package sink

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/detect-dev/detect/schema"
)

func alert(msg string) *schema.Alert {
	return &schema.Alert{RuleID: "r1", RuleTitle: "T", Message: msg, Level: "high", Engine: "sigma",
		Time: time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC), Event: &schema.Event{}}
}

// messages reads the alert messages of a JSON-lines file.
func messages(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var a struct{ Message string }
		if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
			t.Fatalf("%s: %v: %s", path, err, sc.Text())
		}
		out = append(out, a.Message)
	}
	return out
}

func TestFileFlushesAndReopens(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "alerts.jsonl")
	s, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s.Write(alert("one"))
	// Written through at once: another reader sees it before Close.
	if got := messages(t, path); strings.Join(got, ",") != "one" {
		t.Fatalf("before rotation: %q", got)
	}
	os.Rename(path, path+".1")
	s.Write(alert("two")) // still the old file, as logrotate expects until the HUP
	if err := s.Reopen(); err != nil {
		t.Fatal(err)
	}
	s.Write(alert("three"))
	s.Close()
	if got := strings.Join(messages(t, path+".1"), ","); got != "one,two" {
		t.Errorf("rotated file: %q", got)
	}
	if got := strings.Join(messages(t, path), ","); got != "three" {
		t.Errorf("new file: %q", got)
	}
}

// receiver is a webhook endpoint that answers with the status codes of
// its script in turn, then 200.
type receiver struct {
	mu     sync.Mutex
	script []int
	got    []string
	calls  atomic.Int64
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.calls.Add(1)
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	code := http.StatusOK
	if len(r.script) > 0 {
		code, r.script = r.script[0], r.script[1:]
	}
	if code == http.StatusOK {
		var a struct{ Message string }
		json.Unmarshal(body, &a)
		r.got = append(r.got, a.Message)
	}
	w.WriteHeader(code)
}

func webhook(t *testing.T, url string, opt WebhookOptions) (*Webhook, string) {
	t.Helper()
	opt.URL = url
	opt.DeadLetter = filepath.Join(t.TempDir(), "dead.jsonl")
	if opt.Backoff == 0 {
		opt.Backoff = time.Millisecond
	}
	w, err := NewWebhook(opt)
	if err != nil {
		t.Fatal(err)
	}
	return w, opt.DeadLetter
}

func TestWebhookRetriesThenDelivers(t *testing.T) {
	rcv := &receiver{script: []int{503, 500, 429}}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	w, dead := webhook(t, srv.URL, WebhookOptions{Attempts: 5})
	w.Write(alert("a"))
	w.Write(alert("b"))
	mark := w.Mark()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(rcv.got, ","); got != "a,b" {
		t.Errorf("delivered %q", got)
	}
	if w.Stats.Sent.Load() != 2 || w.Stats.Retries.Load() != 3 || w.Stats.DeadLettered.Load() != 0 {
		t.Errorf("sent %d, retries %d, dead %d", w.Stats.Sent.Load(), w.Stats.Retries.Load(), w.Stats.DeadLettered.Load())
	}
	if !w.Settled(mark) {
		t.Error("not settled after Close")
	}
	if got := messages(t, dead); len(got) != 0 {
		t.Errorf("dead letters %q", got)
	}
}

func TestWebhookDeadLetters(t *testing.T) {
	rcv := &receiver{script: []int{400, 503, 503}}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	w, dead := webhook(t, srv.URL, WebhookOptions{Attempts: 2})
	w.Write(alert("refused for good")) // 400: not retried
	w.Write(alert("out of attempts"))  // 503, 503
	w.Write(alert("delivered"))
	w.Close()
	if got := strings.Join(messages(t, dead), ","); got != "refused for good,out of attempts" {
		t.Errorf("dead letters %q", got)
	}
	if got := strings.Join(rcv.got, ","); got != "delivered" {
		t.Errorf("delivered %q", got)
	}
	if w.Stats.DeadLettered.Load() != 2 {
		t.Errorf("dead-lettered %d", w.Stats.DeadLettered.Load())
	}
}

// TestWebhookReceiverGone: with the receiver down, the queue fills, the
// alerts beyond it are dead-lettered at once, and Close dead-letters the
// queue after its drain time: every alert is in the file.
func TestWebhookReceiverGone(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	w, dead := webhook(t, url, WebhookOptions{Queue: 2, Attempts: 1000, Backoff: 10 * time.Millisecond, Drain: 50 * time.Millisecond})
	for _, m := range []string{"1", "2", "3", "4", "5"} {
		w.Write(alert(m))
	}
	if w.Settled(w.Mark()) {
		t.Error("settled while alerts wait for a receiver that is gone")
	}
	w.Close()
	got := messages(t, dead)
	if len(got) != 5 {
		t.Fatalf("dead letters %q, want all 5", got)
	}
	if w.Stats.DeadLettered.Load() != 5 || w.Stats.Sent.Load() != 0 {
		t.Errorf("dead %d sent %d", w.Stats.DeadLettered.Load(), w.Stats.Sent.Load())
	}
}
