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
//     under a new queue id and is delivered from there.
//   - A message is a queue entry (host and queue id) with at least one
//     delivery, deferral or bounce that is not such a hand-off; received
//     counts them and their sizes. Events without a queue id count once
//     each. Messages rejected before queueing are rejections, not messages.
//   - delivered, deferred, bounced and rejected count recipients (events);
//     deferred messages counts queue entries with at least one deferral.
//   - Percentages are of all recipient outcomes: delivered, deferred,
//     bounced, rejected, quarantined and discarded.
//
// Builder is not safe for concurrent use; Report may be called once, after
// the last Add.
package report

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/detect-dev/detect/engine"
	"github.com/detect-dev/detect/query"
	"github.com/detect-dev/detect/schema"
)

// Search fragments shared by the report's queries.
const (
	// Handoff is a delivery that hands the message on under a new queue
	// id on this host: to a content filter (a relay on loopback answering
	// "queued as", as amavis does) or a local alias forward ("forwarded
	// as").
	Handoff = `(((relay=127.* OR relay=localhost* OR relay="[::1]*" OR relay=::1*) reason="*queued as*") OR reason="forwarded as *")`
	// Outcome is one recipient's outcome: a delivery (not a hand-off), a
	// reject or warning, a quarantine or discard.
	Outcome = `((event_type=delivery NOT ` + Handoff + `) OR event_type=reject OR action=quarantined OR action=discarded)`
	// messageSearch selects the events a message is counted from; the
	// builder keeps the first of each queue entry (the dedup below).
	messageSearch = `event_type=delivery NOT ` + Handoff
	messageDedup  = messageSearch + ` | dedup host queue_id keepempty=true`
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
}

// feed says which events a query sees.
type feed uint8

const (
	allEvents feed = iota
	messages       // the first non-hand-off delivery event of each queue entry
)

// tableSpec is one table of the report.
type tableSpec struct {
	section string
	id      string
	title   string
	feed    feed
	base    string // event query
	post    string // rows query over base's result ("" for none)
	chart   bool   // a timechart to draw
	hourly  bool   // an hourly timechart (text shows it only when short)
}

// Builder accumulates a report over a stream of events.
type Builder struct {
	opts     Options
	specs    []tableSpec
	runs     map[string]*query.Run // by feed and base query
	msgRuns  []*query.Run
	allRuns  []*query.Run
	msgQuery *query.Query
	seen     map[string]struct{}
	key      []byte
	alerts   map[string]int
	events   int64
	skipped  int64
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
		{section: "totals", id: "actions", base: "| stats count by action"},
		{section: "totals", id: "handoffs", base: Handoff + " | stats count as handoffs"},
		{section: "totals", id: "messages", feed: messages, base: "stats count as messages, sum(size) as bytes, dc(sender) as senders, dc(sender_domain) as sender_domains, dc(src_ip) as client_ips"},
		{section: "totals", id: "deliveries", base: "event_type=delivery action=delivered NOT " + Handoff + " | stats count as delivered, sum(size) as bytes, dc(recipient) as recipients, dc(recipient_domain) as recipient_domains"},
		{section: "totals", id: "deferred_messages", base: "action=deferred | stats dc(queue_id) as m by host | stats sum(m) as messages"},
		{section: "totals", id: "range", base: "| stats count as events, min(_time) as first, max(_time) as last"},

		{section: "traffic", id: "daily_by_action", title: "Per day by action", base: Outcome + " | timechart span=1d limit=0 count by action", chart: true},
		{section: "traffic", id: "daily_by_host", title: "Per day by host", base: Outcome + " | timechart span=1d count by host", chart: true},
		{section: "traffic", id: "hourly_by_action", title: "Per hour by action", base: Outcome + " | timechart span=1h limit=0 count by action", chart: true, hourly: true},
		{section: "traffic", id: "hourly_by_host", title: "Per hour by host", base: Outcome + " | timechart span=1h count by host", chart: true, hourly: true},

		{section: "top", id: "senders_by_messages", title: "Senders by messages", feed: messages, base: "stats count as messages, sum(size) as bytes by sender", post: top("sort -messages | head {N}")},
		{section: "top", id: "senders_by_bytes", title: "Senders by bytes", feed: messages, base: "stats count as messages, sum(size) as bytes by sender", post: top("sort -bytes | head {N}")},
		{section: "top", id: "sender_domains_by_messages", title: "Sending domains by messages", feed: messages, base: "stats count as messages, sum(size) as bytes by sender_domain", post: top("sort -messages | head {N}")},
		{section: "top", id: "sender_domains_by_bytes", title: "Sending domains by bytes", feed: messages, base: "stats count as messages, sum(size) as bytes by sender_domain", post: top("sort -bytes | head {N}")},
		{section: "top", id: "recipients_by_deliveries", title: "Recipients by deliveries", base: "event_type=delivery action=delivered NOT " + Handoff + " | stats count as deliveries, sum(size) as bytes by recipient", post: top("sort -deliveries | head {N}")},
		{section: "top", id: "recipients_by_bytes", title: "Recipients by bytes", base: "event_type=delivery action=delivered NOT " + Handoff + " | stats count as deliveries, sum(size) as bytes by recipient", post: top("sort -bytes | head {N}")},
		{section: "top", id: "recipient_domains_by_deliveries", title: "Receiving domains by deliveries", base: "event_type=delivery action=delivered NOT " + Handoff + " | stats count as deliveries, sum(size) as bytes by recipient_domain", post: top("sort -deliveries | head {N}")},
		{section: "top", id: "recipient_domains_by_bytes", title: "Receiving domains by bytes", base: "event_type=delivery action=delivered NOT " + Handoff + " | stats count as deliveries, sum(size) as bytes by recipient_domain", post: top("sort -bytes | head {N}")},
		{section: "top", id: "clients_by_messages", title: "Client IPs by messages", feed: messages, base: "stats count as messages, sum(size) as bytes by src_ip", post: top("sort -messages | head {N}")},
		{section: "top", id: "clients_by_rejects", title: "Client IPs by rejects", base: top("action=rejected | top limit={N} src_ip")},

		{section: "problems", id: "reject_reasons", title: "Reject reasons", base: top("action=rejected | top limit={N} reason")},
		{section: "problems", id: "reject_codes", title: "Reject codes", base: top("action=rejected | top limit={N} status_code")},
		{section: "problems", id: "deferrals_by_domain", title: "Deferrals by destination domain", base: top("action=deferred | top limit={N} recipient_domain")},
		{section: "problems", id: "deferral_reasons", title: "Deferral reasons", base: top("action=deferred | top limit={N} reason")},
		{section: "problems", id: "bounces_by_relay", title: "Bounces by relay", base: top("action=bounced | top limit={N} relay")},
		{section: "problems", id: "bounce_reasons", title: "Bounce reasons", base: top("action=bounced | top limit={N} reason")},
		{section: "problems", id: "warnings", title: "Warnings (reject_warning)", base: top("action=warned | top limit={N} reason")},

		{section: "security", id: "auth_failures_by_ip", title: "Authentication failures by client IP", base: top("event_type=auth action=failed | top limit={N} src_ip")},
		{section: "security", id: "auth_failures_by_user", title: "Authentication failures by user", base: top("event_type=auth action=failed | top limit={N} auth_user")},
		{section: "security", id: "relay_attempts", title: "Relay attempts by client IP", base: top(`action=rejected reason="*Relay access denied*" | stats count as attempts, dc(recipient_domain) as domains, dc(sender) as senders by src_ip | sort -attempts | head {N}`)},
		{section: "security", id: "attachment_types", title: "Attachments by extension (messages)", feed: messages, base: top("top limit={N} attachment_ext")},
		{section: "security", id: "dangerous_attachments", title: "Dangerous attachments by sender", feed: messages, base: top("search attachment_ext IN (" + dangerous + ") | stats count as messages, dc(attachment_name) as names, latest(attachment_name) as latest by sender | sort -messages | head {N}")},
		{section: "security", id: "oversized", title: "Oversized messages and attachments", feed: messages, base: top(fmt.Sprintf("search size > %d OR attachment_size > %d | sort -size | head {N} | table _time host sender recipient_count size attachment_name attachment_size", OversizedMessage, OversizedAttachment))},
	}
}

// New makes a Builder. Every query is parsed here; they are constants, so
// an error is a bug and panics.
func New(opts Options) *Builder {
	if opts.Top <= 0 {
		opts.Top = 10
	}
	b := &Builder{
		opts:     opts,
		specs:    specs(opts.Top),
		runs:     map[string]*query.Run{},
		msgQuery: query.MustParse(messageSearch),
		seen:     map[string]struct{}{},
		alerts:   map[string]int{},
	}
	for _, s := range b.specs {
		k := runKey(s)
		if _, ok := b.runs[k]; ok {
			continue
		}
		run := query.MustParse(s.base).Start()
		b.runs[k] = run
		if s.feed == messages {
			b.msgRuns = append(b.msgRuns, run)
		} else {
			b.allRuns = append(b.allRuns, run)
		}
	}
	return b
}

func runKey(s tableSpec) string { return fmt.Sprint(s.feed, "\x00", s.base) }

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

// Add feeds one event, in input order. The report may keep e.
func (b *Builder) Add(e *schema.Event) {
	if !b.inRange(e.Time) {
		b.skipped++
		return
	}
	b.events++
	for _, r := range b.allRuns {
		r.Add(e)
	}
	if !b.msgQuery.Matches(e) {
		return
	}
	if e.QueueID != "" {
		b.key = append(append(append(b.key[:0], e.Host...), 0), e.QueueID...)
		if _, dup := b.seen[string(b.key)]; dup {
			return
		}
		b.seen[string(b.key)] = struct{}{}
	}
	for _, r := range b.msgRuns {
		r.Add(e)
	}
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

// Report finishes the runs and assembles the report.
func (b *Builder) Report() *Report {
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
		shown := s.base
		if s.feed == messages {
			shown = messageDedup + " | " + s.base
		}
		if s.post != "" {
			q, err := query.ParseRows(s.post, res.Columns)
			if err != nil {
				panic("report: " + err.Error())
			}
			res = q.Apply(res)
			shown += " | " + s.post
		}
		byID[s.id] = res
		if sec := secs[s.section]; sec != nil {
			sec.Tables = append(sec.Tables, &Table{ID: s.id, Title: s.title, Query: shown, Result: res, Chart: s.chart, Hourly: s.hourly})
		}
	}
	rep.Totals = b.totals(byID)
	if r := byID["range"]; len(r.Rows) == 1 {
		if v := cell(r, 0, "first"); v.Kind == query.Time {
			rep.Period.First = v.Time()
		}
		if v := cell(r, 0, "last"); v.Kind == query.Time {
			rep.Period.Last = v.Time()
		}
	}
	secs["security"].Tables = append(secs["security"].Tables, b.alertTable())
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
		t.Recipients = num(cell(r, 0, "recipients"))
		t.RecipientDomains = num(cell(r, 0, "recipient_domains"))
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
		t.Senders = num(cell(r, 0, "senders"))
		t.SenderDomains = num(cell(r, 0, "sender_domains"))
		t.ClientIPs = num(cell(r, 0, "client_ips"))
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
