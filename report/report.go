// Package report builds the mail admin's summary behind `detect report`:
// totals, traffic over time by action and by host, top lists, problems and
// security findings, as pflogsumm and eximstats print them, for every log
// format detect reads.
//
// Every table is a query of package query over the normalized events, run in
// one pass (Builder.Add feeds each event to all of them); Report returns the
// tables with the query that made each, so any figure can be reproduced
// with `detect query`. Rule alerts come from the engine through AddAlert.
//
// What is counted:
//
//   - Deliveries to a content filter on this host (a relay on loopback whose
//     reply says "queued as", as amavis's) and local alias forwards
//     ("forwarded as") are hand-offs, not deliveries: the message goes on
//     under a new queue id and is delivered from there. So are deliveries
//     to a content filter that discards or bounces the message (amavis's
//     "Ok, discarded" and "BOUNCE" replies): the filter's verdict is the
//     outcome (quarantined, discarded, bounced), not a delivery.
//   - A message is a queue entry (host and queue id) with at least one
//     delivery, deferral or bounce that does not pass it on under a new
//     queue id; received counts them and their sizes. Events without a
//     queue id count once each. Messages rejected before queueing are
//     rejections, not messages.
//   - delivered, deferred, bounced and rejected count recipients (events);
//     deferred messages counts queue entries with at least one deferral.
//   - Percentages are of all recipient outcomes: delivered, deferred,
//     bounced, rejected, quarantined and discarded.
//
// Builder is not safe for concurrent use (it shares its queries between a
// few goroutines of its own); Report may be called once, after the last Add.
package report

import (
	"fmt"
	"hash/maphash"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/detect-dev/detect/engine"
	"github.com/detect-dev/detect/query"
	"github.com/detect-dev/detect/schema"
)

// Search fragments shared by the report's queries.
const (
	// loopback is a relay on this host: where a content filter listens.
	loopback = `(relay=127.* OR relay=localhost* OR relay="[::1]*" OR relay=::1*)`
	// PassOn is a delivery that hands the message on under a new queue id
	// on this host: to a content filter that re-injects it (a relay on
	// loopback answering "queued as", as amavis does) or a local alias
	// forward ("forwarded as").
	PassOn = `((` + loopback + ` reason="*queued as*") OR reason="forwarded as *")`
	// FilterStop is a delivery to a content filter on loopback that took
	// the message and ended it there: amavis answers "250 2.7.0 Ok,
	// discarded" when it discards (or quarantines) and "250 2.5.0 Ok, ...
	// BOUNCE" when it bounces. Postfix logs status=sent either way; the
	// filter's own verdict (quarantined, discarded, bounced) is the outcome.
	FilterStop = `(` + loopback + ` (reason="*Ok, discarded*" OR reason="*, BOUNCE*"))`
	// Handoff is a delivery that is not a final delivery: PassOn or
	// FilterStop.
	Handoff = `(` + PassOn + ` OR ` + FilterStop + `)`
	// Outcome is one recipient's outcome: a delivery (not a hand-off), a
	// reject or warning, a quarantine or discard.
	Outcome = `((event_type=delivery NOT ` + Handoff + `) OR event_type=reject OR action=quarantined OR action=discarded)`
	// messageSearch selects the events a message is counted from; the
	// builder keeps the first of each queue entry (as dedup host queue_id
	// keepempty=true would). A FilterStop still counts: the message was
	// received and ends under this queue id; a PassOn does not, as its
	// copy is counted under the new one.
	messageSearch = `event_type=delivery NOT ` + PassOn
)

// DangerousExtensions are the attachment extensions listed as dangerous.
var DangerousExtensions = []string{
	"ace", "bat", "cab", "chm", "cmd", "com", "cpl", "docm", "exe", "hta", "img", "iso", "jar", "js", "jse",
	"lnk", "msi", "pif", "ps1", "reg", "scr", "vbe", "vbs", "vhd", "wsf", "wsh", "xlsm",
}

// Oversized thresholds: a message over 25 MiB or an attachment over 10 MiB.
const (
	OversizedMessage    = 25 << 20
	OversizedAttachment = 10 << 20
)

// Options tune a report.
type Options struct {
	Top   int       // rows per top list; 10 when 0
	Since time.Time // events before are left out (zero: no bound)
	Until time.Time // events at or after are left out (zero: no bound)
	// Rules gives titles and levels to the alerts (optional).
	Rules *engine.Ruleset
	// Workers share the feeds between goroutines: 1 runs every query on
	// the caller's goroutine; 0 means up to 3, as GOMAXPROCS allows.
	Workers int
}

// feed is a search shared by several tables: the builder runs it once per
// event and hands the events that pass to the tables' queries.
type feed struct {
	name   string
	search string // "" for every event
	query  *query.Query
	runs   []*query.Run
	dedup  bool // keep the first event of each queue entry (host, queue_id)
	cost   int
}

// feeds, in the order the builder tries them, with a rough cost used to
// share them between workers.
func feeds() []*feed {
	return []*feed{
		{name: "all", cost: 2},
		{name: "handoff", search: Handoff, cost: 1},
		{name: "outcome", search: Outcome, cost: 4},
		{name: "delivered", search: "event_type=delivery action=delivered NOT " + Handoff, cost: 3},
		{name: "messages", search: messageSearch, dedup: true, cost: 6},
		{name: "rejected", search: "action=rejected", cost: 2},
		{name: "deferred", search: "action=deferred", cost: 1},
		{name: "bounced", search: "action=bounced", cost: 1},
		{name: "warned", search: "action=warned", cost: 1},
		{name: "authfail", search: "event_type=auth action=failed", cost: 1},
	}
}

// worker runs some of the feeds over batches of events.
type worker struct {
	feeds []*feed
	// seen holds the queue entries already counted (dedup feeds) by a
	// 64-bit hash of host and queue id, not the text: a report keeps one
	// per message of the whole input. Two entries share a hash with odds
	// of about n²/2⁶⁵ (1 in 10⁸ for a million messages), and then the
	// second is not counted.
	seen hashSet
	seed maphash.Seed
	key  []byte
	in   chan []*schema.Event
	done chan struct{}
}

func (w *worker) add(e *schema.Event) {
	for _, f := range w.feeds {
		if f.query != nil && !f.query.Matches(e) {
			continue
		}
		if f.dedup && e.QueueID != "" {
			w.key = append(append(append(w.key[:0], e.Host...), 0), e.QueueID...)
			if !w.seen.add(maphash.Bytes(w.seed, w.key)) {
				continue
			}
		}
		for _, r := range f.runs {
			r.Add(e)
		}
	}
}

func (w *worker) loop() {
	defer close(w.done)
	for batch := range w.in {
		for _, e := range batch {
			w.add(e)
		}
	}
}

// batchSize is how many events the builder hands its workers at a time.
const batchSize = 512

// tableSpec is one table of the report: its feed's search, then rest over
// the events, then post over the rows.
type tableSpec struct {
	section string
	id      string
	title   string
	feed    string
	rest    string // event query after the feed's search
	post    string // rows query over rest's result ("" for none)
	chart   bool   // a timechart to draw
	hourly  bool   // an hourly timechart (text shows it only when short)
}

// Builder accumulates a report over a stream of events.
type Builder struct {
	opts    Options
	specs   []tableSpec
	feeds   []*feed
	runs    map[string]*query.Run // by feed and rest
	workers []*worker
	batch   []*schema.Event
	alerts  map[string]int
	events  int64
	skipped int64
}

func sections() []struct{ id, title string } {
	return []struct{ id, title string }{
		{"traffic", "Traffic"},
		{"top", "Top senders, recipients and clients"},
		{"problems", "Problems"},
		{"security", "Security"},
	}
}

func specs(n int) []tableSpec {
	top := func(s string) string { return strings.ReplaceAll(s, "{N}", fmt.Sprint(n)) }
	dangerous := strings.Join(DangerousExtensions, ", ")
	return []tableSpec{
		// Totals (rendered as one block, not as tables).
		{section: "totals", id: "actions", feed: "all", rest: "stats count by action"},
		{section: "totals", id: "range", feed: "all", rest: "stats count as events, min(_time) as first, max(_time) as last"},
		{section: "totals", id: "handoffs", feed: "handoff", rest: "stats count as handoffs"},
		// The distinct senders, domains, client IPs and recipients are the
		// rows of the by-field tables below (before their sort | head).
		{section: "totals", id: "messages", feed: "messages", rest: "stats count as messages, sum(size) as bytes"},
		{section: "totals", id: "deliveries", feed: "delivered", rest: "stats count as delivered, sum(size) as bytes"},
		{section: "totals", id: "deferred_messages", feed: "deferred", rest: "stats dc(queue_id) as m by host | stats sum(m) as messages"},

		{section: "traffic", id: "daily_by_action", title: "Per day by action", feed: "outcome", rest: "timechart span=1d limit=0 count by action", chart: true},
		{section: "traffic", id: "daily_by_host", title: "Per day by host", feed: "outcome", rest: "timechart span=1d count by host", chart: true},
		{section: "traffic", id: "hourly_by_action", title: "Per hour by action", feed: "outcome", rest: "timechart span=1h limit=0 count by action", chart: true, hourly: true},
		{section: "traffic", id: "hourly_by_host", title: "Per hour by host", feed: "outcome", rest: "timechart span=1h count by host", chart: true, hourly: true},

		{section: "top", id: "senders_by_messages", title: "Senders by messages", feed: "messages", rest: "stats count as messages, sum(size) as bytes by sender", post: top("sort -messages | head {N}")},
		{section: "top", id: "senders_by_bytes", title: "Senders by bytes", feed: "messages", rest: "stats count as messages, sum(size) as bytes by sender", post: top("sort -bytes | head {N}")},
		{section: "top", id: "sender_domains_by_messages", title: "Sending domains by messages", feed: "messages", rest: "stats count as messages, sum(size) as bytes by sender_domain", post: top("sort -messages | head {N}")},
		{section: "top", id: "sender_domains_by_bytes", title: "Sending domains by bytes", feed: "messages", rest: "stats count as messages, sum(size) as bytes by sender_domain", post: top("sort -bytes | head {N}")},
		{section: "top", id: "recipients_by_deliveries", title: "Recipients by deliveries", feed: "delivered", rest: "stats count as deliveries, sum(size) as bytes by recipient", post: top("sort -deliveries | head {N}")},
		{section: "top", id: "recipients_by_bytes", title: "Recipients by bytes", feed: "delivered", rest: "stats count as deliveries, sum(size) as bytes by recipient", post: top("sort -bytes | head {N}")},
		{section: "top", id: "recipient_domains_by_deliveries", title: "Receiving domains by deliveries", feed: "delivered", rest: "stats count as deliveries, sum(size) as bytes by recipient_domain", post: top("sort -deliveries | head {N}")},
		{section: "top", id: "recipient_domains_by_bytes", title: "Receiving domains by bytes", feed: "delivered", rest: "stats count as deliveries, sum(size) as bytes by recipient_domain", post: top("sort -bytes | head {N}")},
		{section: "top", id: "clients_by_messages", title: "Client IPs by messages", feed: "messages", rest: "stats count as messages, sum(size) as bytes by src_ip", post: top("sort -messages | head {N}")},
		{section: "top", id: "clients_by_rejects", title: "Client IPs by rejects", feed: "rejected", rest: top("top limit={N} src_ip")},

		{section: "problems", id: "reject_reasons", title: "Reject reasons", feed: "rejected", rest: top("top limit={N} reason")},
		{section: "problems", id: "reject_codes", title: "Reject codes", feed: "rejected", rest: top("top limit={N} status_code")},
		{section: "problems", id: "deferrals_by_domain", title: "Deferrals by destination domain", feed: "deferred", rest: top("top limit={N} recipient_domain")},
		{section: "problems", id: "deferral_reasons", title: "Deferral reasons", feed: "deferred", rest: top("top limit={N} reason")},
		{section: "problems", id: "bounces_by_relay", title: "Bounces by relay", feed: "bounced", rest: top("top limit={N} relay")},
		{section: "problems", id: "bounce_reasons", title: "Bounce reasons", feed: "bounced", rest: top("top limit={N} reason")},
		{section: "problems", id: "warnings", title: "Warnings (reject_warning)", feed: "warned", rest: top("top limit={N} reason")},

		{section: "security", id: "auth_failures_by_ip", title: "Authentication failures by client IP", feed: "authfail", rest: top("top limit={N} src_ip")},
		{section: "security", id: "auth_failures_by_user", title: "Authentication failures by user", feed: "authfail", rest: top("top limit={N} auth_user")},
		{section: "security", id: "relay_attempts", title: "Relay attempts by client IP", feed: "rejected", rest: top(`search reason="*Relay access denied*" | stats count as attempts, dc(recipient_domain) as domains, dc(sender) as senders by src_ip | sort -attempts | head {N}`)},
		{section: "security", id: "attachment_types", title: "Attachments by extension (messages)", feed: "messages", rest: top("top limit={N} attachment_ext")},
		{section: "security", id: "dangerous_attachments", title: "Dangerous attachments by sender", feed: "messages", rest: top("search attachment_ext IN (" + dangerous + ") | stats count as messages, dc(attachment_name) as names, latest(attachment_name) as latest by sender | sort -messages | head {N}")},
		{section: "security", id: "oversized", title: "Oversized messages and attachments", feed: "messages", rest: top(fmt.Sprintf("search size > %d OR attachment_size > %d | sort -size | head {N} | table _time host sender recipient_count size attachment_name attachment_size", OversizedMessage, OversizedAttachment))},
	}
}

// New makes a Builder. Every query is parsed here; they are constants, so
// an error is a bug and panics.
func New(opts Options) *Builder {
	if opts.Top <= 0 {
		opts.Top = 10
	}
	b := &Builder{
		opts:   opts,
		specs:  specs(opts.Top),
		feeds:  feeds(),
		runs:   map[string]*query.Run{},
		alerts: map[string]int{},
	}
	byName := map[string]*feed{}
	for _, f := range b.feeds {
		if f.search != "" {
			f.query = query.MustParse(f.search)
		}
		byName[f.name] = f
	}
	for _, s := range b.specs {
		k := runKey(s)
		if _, ok := b.runs[k]; ok {
			continue
		}
		f := byName[s.feed]
		if f == nil {
			panic("report: no feed " + s.feed)
		}
		run := query.MustParse(s.rest).Start()
		b.runs[k] = run
		f.runs = append(f.runs, run)
	}
	n := opts.Workers
	if n <= 0 {
		n = min(runtime.GOMAXPROCS(0), 3)
	}
	b.workers = make([]*worker, n)
	load := make([]int, n)
	for i := range b.workers {
		b.workers[i] = &worker{seed: maphash.MakeSeed()}
	}
	// Costliest feeds first, each to the least loaded worker; a worker
	// keeps the feeds in the builder's order.
	byCost := append([]*feed{}, b.feeds...)
	sort.SliceStable(byCost, func(i, j int) bool { return byCost[i].cost > byCost[j].cost })
	owner := map[*feed]int{}
	for _, f := range byCost {
		w := 0
		for i := range load {
			if load[i] < load[w] {
				w = i
			}
		}
		load[w] += f.cost
		owner[f] = w
	}
	for _, f := range b.feeds {
		b.workers[owner[f]].feeds = append(b.workers[owner[f]].feeds, f)
	}
	if n > 1 {
		for _, w := range b.workers {
			w.in, w.done = make(chan []*schema.Event, 4), make(chan struct{})
			go w.loop()
		}
	}
	return b
}

func runKey(s tableSpec) string { return s.feed + "\x00" + s.rest }

// shownQuery is the whole query behind a table, as `detect query` takes it.
func (b *Builder) shownQuery(s tableSpec) string {
	for _, f := range b.feeds {
		if f.name != s.feed {
			continue
		}
		q := "| " + s.rest
		switch {
		case f.dedup:
			q = f.search + " | dedup host queue_id keepempty=true | " + s.rest
		case f.search != "":
			q = f.search + " | " + s.rest
		}
		if s.post != "" {
			q += " | " + s.post
		}
		return q
	}
	return s.rest
}

// inRange reports whether t falls in [Since, Until). Events without a time
// are kept only when there are no bounds.
func (b *Builder) inRange(t time.Time) bool {
	if b.opts.Since.IsZero() && b.opts.Until.IsZero() {
		return true
	}
	if t.IsZero() {
		return false
	}
	return (b.opts.Since.IsZero() || !t.Before(b.opts.Since)) && (b.opts.Until.IsZero() || t.Before(b.opts.Until))
}

// Add feeds one event, in input order. The report may keep e, and reads
// it from other goroutines until Report returns: e must not change.
func (b *Builder) Add(e *schema.Event) {
	if !b.inRange(e.Time) {
		b.skipped++
		return
	}
	b.events++
	if len(b.workers) == 1 {
		b.workers[0].add(e)
		return
	}
	b.batch = append(b.batch, e)
	if len(b.batch) == batchSize {
		b.flush()
	}
}

// flush hands the pending batch to every worker.
func (b *Builder) flush() {
	if len(b.batch) == 0 {
		return
	}
	for _, w := range b.workers {
		w.in <- b.batch
	}
	b.batch = make([]*schema.Event, 0, batchSize)
}

// AddAlert counts an alert of the rule pack (those outside the time range
// are left out).
func (b *Builder) AddAlert(a *schema.Alert) {
	if b.inRange(a.Time) {
		b.alerts[a.RuleID]++
	}
}

// Report is the finished summary.
type Report struct {
	Generated time.Time  `json:"generated"`
	Period    Period     `json:"period"`
	Totals    Totals     `json:"totals"`
	Sections  []*Section `json:"sections"`
	// Skipped counts events left out by Since and Until.
	Skipped int64 `json:"skipped_events"`
	// RulesRun tells whether the rule pack ran (Options.Rules was set).
	RulesRun bool `json:"rules_run"`
}

// Period is the time the report covers.
type Period struct {
	First time.Time `json:"first,omitzero"` // first event
	Last  time.Time `json:"last,omitzero"`  // last event
	Since time.Time `json:"since,omitzero"`
	Until time.Time `json:"until,omitzero"`
}

// Totals are the grand totals (see the package doc for what each counts).
type Totals struct {
	Events           int64              `json:"events"`
	Received         int64              `json:"received"`
	Delivered        int64              `json:"delivered"`
	Handoffs         int64              `json:"handoffs"`
	Deferred         int64              `json:"deferred"`
	DeferredMessages int64              `json:"deferred_messages"`
	Bounced          int64              `json:"bounced"`
	Rejected         int64              `json:"rejected"`
	Warned           int64              `json:"warned"`
	Quarantined      int64              `json:"quarantined"`
	Discarded        int64              `json:"discarded"`
	AuthFailed       int64              `json:"auth_failed"`
	Percent          map[string]float64 `json:"percent"`
	BytesReceived    int64              `json:"bytes_received"`
	BytesDelivered   int64              `json:"bytes_delivered"`
	Senders          int64              `json:"senders"`
	Recipients       int64              `json:"recipients"`
	SenderDomains    int64              `json:"sender_domains"`
	RecipientDomains int64              `json:"recipient_domains"`
	ClientIPs        int64              `json:"client_ips"`
	Alerts           int64              `json:"alerts"`
}

// Section is a titled group of tables.
type Section struct {
	ID     string   `json:"id"`
	Title  string   `json:"title"`
	Tables []*Table `json:"tables"`
}

// Table is one list or series, with the query that reproduces it.
type Table struct {
	ID     string        `json:"id"`
	Title  string        `json:"title"`
	Query  string        `json:"query"`
	Result *query.Result `json:"-"`
	Chart  bool          `json:"-"`
	Hourly bool          `json:"-"`
}

// MarshalJSON writes the table with its rows as objects keyed by column,
// as `detect query --json` prints them.
func (t *Table) MarshalJSON() ([]byte, error) {
	buf := []byte(`{"id":`)
	buf = schema.AppendJSONString(buf, t.ID)
	buf = append(buf, `,"title":`...)
	buf = schema.AppendJSONString(buf, t.Title)
	buf = append(buf, `,"query":`...)
	buf = schema.AppendJSONString(buf, t.Query)
	buf = append(buf, `,"columns":[`...)
	for i, c := range t.Result.Columns {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = schema.AppendJSONString(buf, c)
	}
	buf = append(buf, `],"rows":[`...)
	for i := range t.Result.Rows {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = t.Result.AppendRowJSON(buf, i)
	}
	return append(buf, "]}"...), nil
}

// Report finishes the runs and assembles the report. Call it once, after
// the last Add.
func (b *Builder) Report() *Report {
	if len(b.workers) > 1 {
		b.flush()
		for _, w := range b.workers {
			close(w.in)
		}
		for _, w := range b.workers {
			<-w.done
		}
	}
	results := map[string]*query.Result{}
	for k, r := range b.runs {
		results[k] = r.Result()
	}
	rep := &Report{Period: Period{Since: b.opts.Since, Until: b.opts.Until}, Skipped: b.skipped}
	byID := map[string]*query.Result{}
	secs := map[string]*Section{}
	for _, s := range sections() {
		sec := &Section{ID: s.id, Title: s.title}
		secs[s.id] = sec
		rep.Sections = append(rep.Sections, sec)
	}
	for _, s := range b.specs {
		res := results[runKey(s)]
		shown := b.shownQuery(s)
		if s.post != "" {
			q, err := query.ParseRows(s.post, res.Columns)
			if err != nil {
				panic("report: " + err.Error())
			}
			res = q.Apply(res)
		}
		byID[s.id] = res
		if sec := secs[s.section]; sec != nil {
			sec.Tables = append(sec.Tables, &Table{ID: s.id, Title: s.title, Query: shown, Result: res, Chart: s.chart, Hourly: s.hourly})
		}
	}
	rep.Totals = b.totals(byID)
	distinct := func(id string) int64 {
		for _, s := range b.specs {
			if s.id == id {
				return int64(len(results[runKey(s)].Rows))
			}
		}
		return 0
	}
	rep.Totals.Senders = distinct("senders_by_messages")
	rep.Totals.SenderDomains = distinct("sender_domains_by_messages")
	rep.Totals.ClientIPs = distinct("clients_by_messages")
	rep.Totals.Recipients = distinct("recipients_by_deliveries")
	rep.Totals.RecipientDomains = distinct("recipient_domains_by_deliveries")
	if r := byID["range"]; len(r.Rows) == 1 {
		if v := cell(r, 0, "first"); v.Kind == query.Time {
			rep.Period.First = v.Time()
		}
		if v := cell(r, 0, "last"); v.Kind == query.Time {
			rep.Period.Last = v.Time()
		}
	}
	rep.RulesRun = b.opts.Rules != nil
	if rep.RulesRun || len(b.alerts) > 0 {
		secs["security"].Tables = append(secs["security"].Tables, b.alertTable())
	}
	for _, a := range b.alerts {
		rep.Totals.Alerts += int64(a)
	}
	return rep
}

func cell(res *query.Result, row int, col string) query.Value {
	i := res.Column(col)
	if i < 0 || row >= len(res.Rows) {
		return query.Value{}
	}
	return res.Rows[row][i]
}

func num(v query.Value) int64 {
	n, _ := v.Float()
	return int64(n)
}

func (b *Builder) totals(byID map[string]*query.Result) Totals {
	var t Totals
	t.Events = b.events
	actions := map[string]int64{}
	if r := byID["actions"]; r != nil {
		for i := range r.Rows {
			actions[cell(r, i, "action").Text("")] = num(cell(r, i, "count"))
		}
	}
	t.Handoffs = num(cell(byID["handoffs"], 0, "handoffs"))
	t.Delivered = actions[schema.ActionDelivered] - t.Handoffs
	if r := byID["deliveries"]; r != nil {
		t.BytesDelivered = num(cell(r, 0, "bytes"))
	}
	t.Deferred = actions[schema.ActionDeferred]
	t.DeferredMessages = num(cell(byID["deferred_messages"], 0, "messages"))
	t.Bounced = actions[schema.ActionBounced]
	t.Rejected = actions[schema.ActionRejected]
	t.Warned = actions[schema.ActionWarned]
	t.Quarantined = actions[schema.ActionQuarantined]
	t.Discarded = actions[schema.ActionDiscarded]
	t.AuthFailed = actions[schema.ActionFailed]
	if r := byID["messages"]; r != nil {
		t.Received = num(cell(r, 0, "messages"))
		t.BytesReceived = num(cell(r, 0, "bytes"))
	}
	// The delivered action also counts content-filter verdicts (amavis
	// "Passed"): those are not deliveries either.
	if r := byID["deliveries"]; r != nil {
		t.Delivered = num(cell(r, 0, "delivered"))
	}
	outcomes := t.Delivered + t.Deferred + t.Bounced + t.Rejected + t.Quarantined + t.Discarded
	t.Percent = map[string]float64{}
	for k, v := range map[string]int64{"delivered": t.Delivered, "deferred": t.Deferred, "bounced": t.Bounced,
		"rejected": t.Rejected, "quarantined": t.Quarantined, "discarded": t.Discarded} {
		if outcomes > 0 {
			t.Percent[k] = float64(int64(float64(v)*1000/float64(outcomes)+0.5)) / 10
		} else {
			t.Percent[k] = 0
		}
	}
	return t
}

// alertTable lists the alerts by rule, most first.
func (b *Builder) alertTable() *Table {
	ids := make([]string, 0, len(b.alerts))
	for id := range b.alerts {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool {
		if b.alerts[ids[i]] != b.alerts[ids[j]] {
			return b.alerts[ids[i]] > b.alerts[ids[j]]
		}
		return ids[i] < ids[j]
	})
	res := &query.Result{Columns: []string{"rule_id", "level", "rule_title", "alerts"}}
	for _, id := range ids {
		title, level := "", ""
		if b.opts.Rules != nil {
			if r, ok := b.opts.Rules.Rule(id); ok {
				title, level = r.Title, r.Level
			}
		}
		res.Rows = append(res.Rows, []query.Value{query.Str(id), query.Str(level), query.Str(title), query.Num(float64(b.alerts[id]))})
	}
	return &Table{ID: "alerts_by_rule", Title: "Alerts of the rule pack by rule", Query: "detect scan (the engine, not a query)", Result: res}
}
