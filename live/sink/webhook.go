package sink

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/detect-dev/detect/output"
	"github.com/detect-dev/detect/schema"
)

// WebhookOptions configure a Webhook.
type WebhookOptions struct {
	URL string
	// DeadLetter is the file (JSON lines, one alert each) that receives
	// what cannot be delivered. Required.
	DeadLetter string
	// Queue bounds the alerts waiting for delivery (default 1000). When it
	// is full, new alerts go to the dead-letter file at once: the pipeline
	// is never held up by a slow receiver.
	Queue int
	// Attempts per alert before it is dead-lettered (default 5), with
	// exponential backoff from Backoff (default 200ms) up to MaxBackoff
	// (default 10s) between them.
	Attempts   int
	Backoff    time.Duration
	MaxBackoff time.Duration
	// Timeout of one POST (default 10s).
	Timeout time.Duration
	// Drain is how long Close keeps trying to deliver the queue before it
	// dead-letters the rest (default 5s).
	Drain  time.Duration
	Client *http.Client
	Logger *slog.Logger
}

// WebhookStats count deliveries; read them with atomic loads.
type WebhookStats struct {
	Sent         atomic.Int64 // delivered (2xx)
	Retries      atomic.Int64 // failed attempts that were retried
	DeadLettered atomic.Int64 // written to the dead-letter file
	Lost         atomic.Int64 // not even the dead-letter file took them (logged)
}

// Webhook POSTs each alert as one JSON object. Delivery happens on its own
// goroutine, in order.
type Webhook struct {
	opt    WebhookOptions
	log    *slog.Logger
	queue  chan item
	dead   *os.File
	deadMu sync.Mutex
	stop   context.CancelFunc
	ctx    context.Context
	done   chan struct{}

	seq      uint64        // last mark handed out (writer goroutine only)
	pending  atomic.Int64  // queued or in flight
	finished atomic.Uint64 // seq of the last item settled by the worker
	Stats    WebhookStats
}

type item struct {
	seq  uint64
	body []byte
}

// NewWebhook starts a webhook sink. The dead-letter file is opened (and
// created) now, so a path that cannot be written is an error at start, not
// when the first alert needs it.
func NewWebhook(opt WebhookOptions) (*Webhook, error) {
	if opt.URL == "" || opt.DeadLetter == "" {
		return nil, errors.New("webhook: URL and dead-letter file are required")
	}
	if opt.Queue <= 0 {
		opt.Queue = 1000
	}
	if opt.Attempts <= 0 {
		opt.Attempts = 5
	}
	if opt.Backoff <= 0 {
		opt.Backoff = 200 * time.Millisecond
	}
	if opt.MaxBackoff <= 0 {
		opt.MaxBackoff = 10 * time.Second
	}
	if opt.Timeout <= 0 {
		opt.Timeout = 10 * time.Second
	}
	if opt.Drain <= 0 {
		opt.Drain = 5 * time.Second
	}
	if opt.Client == nil {
		opt.Client = &http.Client{}
	}
	dead, err := os.OpenFile(opt.DeadLetter, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("webhook dead-letter file: %w", err)
	}
	w := &Webhook{opt: opt, log: opt.Logger, queue: make(chan item, opt.Queue), dead: dead, done: make(chan struct{})}
	if w.log == nil {
		w.log = slog.New(slog.DiscardHandler)
	}
	w.ctx, w.stop = context.WithCancel(context.Background())
	go w.run()
	return w, nil
}

func (w *Webhook) Name() string { return "webhook" }

// QueueLen is how many alerts wait for delivery.
func (w *Webhook) QueueLen() int { return len(w.queue) }

// Write queues the alert, or dead-letters it when the queue is full.
func (w *Webhook) Write(a *schema.Alert) error {
	w.seq++
	it := item{seq: w.seq, body: output.AppendAlertJSON(nil, a)}
	w.pending.Add(1)
	select {
	case w.queue <- it:
		return nil
	default:
		w.pending.Add(-1)
		w.deadLetter(it.body, "queue full")
		return nil
	}
}

// Mark implements Settler.
func (w *Webhook) Mark() uint64 { return w.seq }

// Settled implements Settler.
func (w *Webhook) Settled(mark uint64) bool {
	return w.finished.Load() >= mark || w.pending.Load() == 0
}

// Close stops taking alerts, tries to deliver the queue for up to Drain,
// and dead-letters what is left.
func (w *Webhook) Close() error {
	close(w.queue)
	timer := time.AfterFunc(w.opt.Drain, w.stop)
	<-w.done
	timer.Stop()
	w.stop()
	return w.dead.Close()
}

func (w *Webhook) run() {
	defer close(w.done)
	for it := range w.queue {
		if err := w.deliver(it.body); err != nil {
			w.deadLetter(it.body, err.Error())
		} else {
			w.Stats.Sent.Add(1)
		}
		w.finished.Store(it.seq)
		w.pending.Add(-1)
	}
}

// deliver POSTs body until it is accepted, the attempts are used up, the
// receiver refuses it for good (a 4xx other than 408 and 429), or Close
// gives up.
func (w *Webhook) deliver(body []byte) error {
	wait := w.opt.Backoff
	var err error
	for attempt := 1; ; attempt++ {
		var retry bool
		if retry, err = w.post(body); err == nil {
			return nil
		}
		if !retry || attempt >= w.opt.Attempts || w.ctx.Err() != nil {
			return fmt.Errorf("after %d attempt(s): %w", attempt, err)
		}
		w.Stats.Retries.Add(1)
		select {
		case <-time.After(wait):
		case <-w.ctx.Done():
			return fmt.Errorf("shutting down after %d attempt(s): %w", attempt, err)
		}
		wait = min(2*wait, w.opt.MaxBackoff)
	}
}

// post makes one attempt; retry says whether another may succeed.
func (w *Webhook) post(body []byte) (retry bool, err error) {
	ctx, cancel := context.WithTimeout(w.ctx, w.opt.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.opt.URL, bytes.NewReader(body))
	if err != nil {
		return false, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := w.opt.Client.Do(req)
	if err != nil {
		return true, err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	resp.Body.Close()
	switch {
	case resp.StatusCode/100 == 2:
		return false, nil
	case resp.StatusCode == http.StatusRequestTimeout, resp.StatusCode == http.StatusTooManyRequests, resp.StatusCode >= 500:
		return true, fmt.Errorf("webhook: %s", resp.Status)
	}
	return false, fmt.Errorf("webhook: %s", resp.Status)
}

// deadLetter sets an alert aside. If even that fails, the alert is logged
// whole, so it still exists somewhere, and counted as lost.
func (w *Webhook) deadLetter(body []byte, why string) {
	w.deadMu.Lock()
	_, err := w.dead.Write(append(body, '\n'))
	w.deadMu.Unlock()
	if err != nil {
		w.Stats.Lost.Add(1)
		w.log.Error("webhook: alert lost: dead-letter file not writable", "err", err, "why", why, "alert", string(body))
		return
	}
	w.Stats.DeadLettered.Add(1)
	w.log.Warn("webhook: alert dead-lettered", "why", why, "file", w.opt.DeadLetter)
}
