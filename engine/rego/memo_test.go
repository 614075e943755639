package rego

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/detect-dev/detect/schema"
)

// hitView is a Hit without its Rule pointer, to compare the hits of two Sets.
type hitView struct {
	Rule    string
	Message string
	Fields  map[string]any
}

func viewHits(hits []Hit) []hitView {
	var out []hitView
	for _, h := range hits {
		out = append(out, hitView{h.Rule.ID, h.Message, h.Fields})
	}
	return out
}

// memoEvents is a large set of events for comparing memoized and plain
// evaluation: the traffic stream (values repeating as in real logs), the
// benchmark mix, and variations of them in which single fields change, so
// that events agree on some of the fields a rule reads and not on others.
func memoEvents(n int) []*schema.Event {
	events := trafficEvents(n, 7)
	events = append(events, benchEvents()...)
	rng := rand.New(rand.NewPCG(3, 4))
	pick := func(list ...string) string { return list[rng.IntN(len(list))] }
	for i := range n / 4 {
		e := *events[rng.IntN(len(events))]
		switch i % 9 {
		case 0:
			e.EventType = pick(schema.TypeDelivery, schema.TypeReject, schema.TypeFilter, schema.TypeAuth, "")
		case 1:
			e.SetSender(pick("", "a@corp.example", "ceo@corp.example", "x@paypa1.com", "x@mail.paypa1.com", "j.doe@partner.example"))
		case 2:
			e.AuthUser = pick("", "j.doe@corp.example", "J.Doe@Corp.Example", "admin", "svc@partner.example")
		case 3:
			e.SrcIP = pick("", "10.1.2.3", "127.0.0.1", "203.0.113.9", "::1", "192.168.1.1")
		case 4:
			e.Relay = pick("", "127.0.0.1[127.0.0.1]:10024", "localhost", "mx.partner.example[198.51.100.23]:25")
		case 5:
			e.Direction = pick("", schema.DirectionInbound, schema.DirectionOutbound)
		case 6:
			e.Attachments = []schema.Attachment{{Name: pick("", "a.zip", "b.pdf"), Size: int64(rng.IntN(20_000_000))}}
		case 7:
			e.Attachments = nil
		case 8:
			e.SenderDomain = pick("", "corp.example", "c0rp.example", "rnicrosoft.com", "email.microsoft.com")
		}
		e.AttachmentName, e.AttachmentExt, e.AttachmentType, e.AttachmentSize = nil, nil, nil, nil
		e.Complete()
		events = append(events, &e)
	}
	// Repeat a shuffled share so that memos are hit out of order as well.
	for range n / 4 {
		events = append(events, events[rng.IntN(len(events))])
	}
	return events
}

// plainSet is a Set that evaluates every rule on every event, without
// memos or shared constants: the path TestFastPathAgreesWithPlainEval
// checks against OPA's plain evaluation.
func plainSet(t *testing.T, files []File, config map[string]any) *Set {
	t.Helper()
	s, err := Compile(files, config, Options{CacheSize: -1, Budget: slowMachine})
	if err != nil {
		t.Fatal(err)
	}
	s.consts = nil
	return s
}

// Memoized evaluation yields exactly what evaluating every rule on every
// event does, with the default cache and with one so small that it evicts
// all the time.
func TestMemoAgreesWithUncached(t *testing.T) {
	n := 20_000
	if testing.Short() {
		n = 4_000
	}
	events := memoEvents(n)
	rules, config := shippedRules(t)
	plain := plainSet(t, rules, config)
	want := make([][]hitView, len(events))
	alerts := 0
	for i, e := range events {
		want[i] = viewHits(plain.Eval(e))
		alerts += len(want[i])
	}
	if alerts == 0 {
		t.Fatal("no alerts: the events do not exercise the rules")
	}
	for _, size := range []int{0, 64} {
		s, err := Compile(rules, config, Options{CacheSize: size, Budget: slowMachine})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range s.Rules() {
			if r.memo == nil && r.Window == nil { // windowed rules judge windows, not events
				t.Errorf("%s is not memoized: %s", r.Package, r.noMemo)
			}
		}
		bad := 0
		for i, e := range events {
			if got := viewHits(s.Eval(e)); !reflect.DeepEqual(got, want[i]) {
				if bad++; bad <= 5 {
					t.Errorf("cache size %d, event %d (%s): memoized %+v, plain %+v", size, i, e.AppendJSON(nil), got, want[i])
				}
			}
		}
		if bad > 0 {
			t.Errorf("cache size %d: %d of %d events differ", size, bad, len(events))
		}
		for _, r := range s.Rules() {
			if limit := max(64, 2*cacheShards); size > 0 && r.memo != nil && r.memo.cache.len() > limit {
				t.Errorf("cache size %d: %s holds %d entries", size, r.Package, r.memo.cache.len())
			}
		}
	}
}

// Concurrent Evals share the memos safely and still agree with plain
// evaluation (run with -race).
func TestMemoConcurrentEval(t *testing.T) {
	events := memoEvents(1_000)
	rules, config := shippedRules(t)
	plain := plainSet(t, rules, config)
	want := make([][]hitView, len(events))
	for i, e := range events {
		want[i] = viewHits(plain.Eval(e))
	}
	s, err := Compile(rules, config, Options{CacheSize: 128, Budget: slowMachine})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for k := range len(events) {
				i := (k*7 + w*len(events)/4) % len(events)
				hits := s.Eval(events[i])
				if got := viewHits(hits); !reflect.DeepEqual(got, want[i]) {
					t.Errorf("worker %d, event %d: memoized %+v, plain %+v", w, i, got, want[i])
					return
				}
				// Callers may modify what they get: the memo keeps its own.
				for _, h := range hits {
					if h.Fields != nil {
						h.Fields["scribble"] = w
					}
				}
			}
		})
	}
	wg.Wait()
}

// Events with equal memo keys have equal input for the fields of the key,
// and events whose input differs on those fields have different keys.
func TestMemoKeyMatchesInput(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	pick := func(list ...string) string { return list[rng.IntN(len(list))] }
	event := func() *schema.Event {
		e := &schema.Event{EventType: pick("", "delivery"), Host: pick("", "a", "ab"), Subject: pick("", "a", "b", "ab")}
		if rng.IntN(2) == 0 {
			e.SetSender(pick("", "a", "b"))
		}
		if rng.IntN(2) == 0 {
			e.Time = time.Unix(int64(rng.IntN(2)), int64(rng.IntN(2))).In(time.FixedZone("x", 3600*rng.IntN(2)))
		}
		e.Size = int64(rng.IntN(3)) - 1
		if rng.IntN(2) == 0 {
			e.SetDelay(float64(rng.IntN(2)) / 2)
		}
		for range rng.IntN(3) {
			e.Attachments = append(e.Attachments, schema.Attachment{Name: pick("", "a", "b"), Ext: pick("", "a"), Type: pick("", "a"), Size: int64(rng.IntN(2)), SHA256: pick("", "a")})
		}
		for range rng.IntN(3) {
			e.AttachmentName = append(e.AttachmentName, pick("", "a", "ab"))
		}
		for range rng.IntN(3) {
			e.AttachmentSize = append(e.AttachmentSize, int64(rng.IntN(3))-1)
		}
		return e
	}
	var all []schema.Field
	for _, f := range schema.Fields() {
		if !keyable(f) {
			t.Errorf("field %s of kind %d cannot be keyed", f.Name(), f.Kind())
			continue
		}
		all = append(all, f)
	}
	events := make([]*schema.Event, 300)
	for i := range events {
		events[i] = event()
	}
	// Each field on its own (many events agree) and all together.
	subsets := [][]schema.Field{all}
	for _, f := range all {
		subsets = append(subsets, []schema.Field{f})
	}
	for _, fields := range subsets {
		var set fieldSet
		for _, f := range fields {
			set.add(f)
		}
		keys := make([]string, len(events))
		values := make([]ast.Value, len(events))
		for i, e := range events {
			keys[i], values[i] = string(appendKey(nil, e, fields)), eventValue(e, set)
		}
		for i := range events {
			for j := range events {
				if (keys[i] == keys[j]) != (values[i].Compare(values[j]) == 0) {
					t.Fatalf("%v: keys equal %v, input equal %v:\n%v\n%v", fields, keys[i] == keys[j], values[i].Compare(values[j]) == 0, values[i], values[j])
				}
			}
		}
	}
	// Every member of Attachment is in the key: a new one must be added to
	// appendKey (and to attachmentTerm).
	if n := reflect.TypeFor[schema.Attachment]().NumField(); n != 5 {
		t.Errorf("schema.Attachment has %d fields; appendKey encodes 5", n)
	}
}

// Which rules are memoized, and by which fields.
func TestMemoPlan(t *testing.T) {
	rule := func(name, body string) File {
		return File{Path: name + ".rego", Data: fmt.Appendf(nil, "# METADATA\n# title: %s\n# custom:\n#   id: 11111111-2222-4333-8444-%012d\npackage detect.rules.%s\n\n%s\n", name, len(name), name, body)}
	}
	files := []File{
		rule("plain", "alert contains input.sender if input.size > data.config.n"),
		rule("helper", "big if input.size > 10\n\nalert contains \"x\" if input.host == \"h\""),
		rule("uses", "alert contains \"y\" if {\n\tdata.detect.rules.helper.big\n\tinput.subject == \"s\"\n}"),
		rule("whole", "alert contains \"z\" if count(input) > 3"),
		rule("dyn", "alert contains \"d\" if {\n\tsome k in [\"host\"]\n\tinput[k] == \"h\"\n}"),
		rule("clock", "alert contains \"c\" if time.now_ns() > input.size"),
		rule("random", "alert contains \"r\" if rand.intn(\"k\", 10) > input.size"),
		rule("elsewhere", "alert contains \"e\" if {\n\tdata.lists.blocked[input.host]\n\tinput.size > 1\n}"),
		rule("usesclock", "alert contains \"u\" if {\n\tdata.detect.rules.clock.alert\n\tinput.host == \"h\"\n}"),
	}
	s, err := Compile(files, map[string]any{"n": 1}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"plain":     "sender size",
		"helper":    "host size",
		"uses":      "host size subject",
		"whole":     "-whole",
		"dyn":       "-computed key",
		"clock":     "-time.now_ns",
		"random":    "-rand.intn",
		"elsewhere": "-neither data.config",
		"usesclock": "-which is not memoized",
	}
	for _, r := range s.Rules() {
		w := want[r.name]
		if why, ok := strings.CutPrefix(w, "-"); ok {
			if r.memo != nil || !strings.Contains(r.noMemo, why) {
				t.Errorf("%s: memoized %v (%q), want not memoized for %q", r.name, r.memo != nil, r.noMemo, why)
			}
			continue
		}
		if r.memo == nil {
			t.Errorf("%s: not memoized (%s), want memoized by %s", r.name, r.noMemo, w)
			continue
		}
		var names []string
		for _, f := range schema.Fields() {
			if r.memo.fields.has(f) {
				names = append(names, f.Name())
			}
		}
		slices.Sort(names)
		if strings.Join(names, " ") != w {
			t.Errorf("%s: memoized by %v, want by %s", r.name, names, w)
		}
	}
	// Off.
	s, err = Compile(files[:1], map[string]any{"n": 1}, Options{CacheSize: -1})
	if err != nil {
		t.Fatal(err)
	}
	if r := s.Rules()[0]; r.memo != nil {
		t.Error("CacheSize -1 memoizes")
	}
}

// slowMachine is the budget of tests that compare alerts: a loaded machine
// running -race must not make an evaluation time out and lose its alerts.
const slowMachine = time.Minute

// trickyRules read input in every way the memo's read recording must see:
// imports, default rules, else chains, functions, comprehensions, every,
// with, not, partial rules, rules of other modules and heads.
var trickyRules = map[string]string{
	"imports": `import input.sender as s

alert contains "imp" if {
	input.host == "h1"
	s == "a"
}`,
	"defaults": `default lvl := "none"

lvl := "high" if input.size > 5
else := "mid" if input.size > 2

alert contains sprintf("lvl %s %s", [lvl, input.host]) if {
	input.event_type == "delivery"
	lvl != "none"
}`,
	"functions": `f(x) := y if y := concat("-", [x, input.subject])

alert contains f(input.host) if input.action == "a"`,
	"closures": `alert contains "big" if {
	input.event_type == "reject"
	count([a | some a in input.attachments; a.size > 3]) > 0
}

alert contains "all" if {
	input.event_type == "auth"
	every a in input.attachments {
		a.size > 1
	}
}`,
	"with": `helper if input.subject == "x"

alert contains "with" if {
	input.host == "h2"
	helper with input.subject as input.helo
}`,
	"flag": `flag if input.recipient == "r1"

alert contains "flag" if {
	input.host == "h4"
	flag
}`,
	"uses": `alert contains "dep" if {
	input.host == "h1"
	data.detect.rules.flag.flag
}`,
	"heads": `alert contains input.sender if input.status == "s1"

alert contains {"message": "obj", "from": input.src_ip, "n": input.size} if input.status == "s2"`,
	"negation": `alert contains "neg" if {
	input.host == "h3"
	not input.src_ip
	not input.direction == "inbound"
}`,
	"withdata": `default limit := 3

limit := data.config.limit

over_low if input.size > limit

alert contains sprintf("over %d", [limit]) if input.size > limit

alert contains "low" if {
	input.host == "h3"
	over_low with data.config.limit as 1
}`,
	"partial": `known contains x if some x in ["a", "x", "b"]

alert contains concat(":", ["known", input.subject]) if {
	input.host == "h2"
	known[input.subject]
}`,
}

func trickyFiles() []File {
	var files []File
	for name, body := range trickyRules {
		src := fmt.Sprintf("# METADATA\n# title: %s\n# custom:\n#   id: 11111111-2222-4333-8444-%012d\npackage detect.rules.%s\n\n%s\n", name, len(files), name, body)
		files = append(files, File{Path: name + ".rego", Data: []byte(src)})
	}
	return files
}

// trickyEvents draw every field the tricky rules read from a few values, so
// that events agree on the fields one evaluation read and differ on others.
func trickyEvents(n int) []*schema.Event {
	rng := rand.New(rand.NewPCG(8, 9))
	pick := func(list ...string) string { return list[rng.IntN(len(list))] }
	out := make([]*schema.Event, n)
	for i := range out {
		e := &schema.Event{
			Host: pick("h1", "h2", "h3", "h4", ""), EventType: pick("delivery", "reject", "auth", ""),
			Size: int64(rng.IntN(8)), Subject: pick("a", "x", "b", "z", ""), Action: pick("a", "b"),
			Helo: pick("x", "y", ""), Recipient: pick("r1", "r2", ""), Status: pick("s1", "s2", "s3", ""),
			SrcIP: pick("", "1.2.3.4"), Direction: pick("", "inbound", "outbound"),
		}
		if rng.IntN(3) > 0 {
			e.SetSender(pick("a", "b", ""))
		}
		for range rng.IntN(3) {
			e.Attachments = append(e.Attachments, schema.Attachment{Name: "f", Size: int64(rng.IntN(6))})
		}
		e.Complete()
		out[i] = e
	}
	return out
}

// Memoized rules of every shape yield what plain evaluation does, though
// each evaluation keys its answer by only the fields it read.
func TestMemoTrickyRules(t *testing.T) {
	files := trickyFiles()
	config := map[string]any{"limit": 4}
	plain := plainSet(t, files, config)
	events := trickyEvents(20_000)
	want := make([][]hitView, len(events))
	fired := map[string]int{}
	for i, e := range events {
		hits := plain.Eval(e)
		want[i] = viewHits(hits)
		for _, h := range hits {
			fired[h.Rule.name]++
		}
	}
	for name := range trickyRules {
		if fired[name] == 0 {
			t.Errorf("%s never fires: the events do not exercise it", name)
		}
	}
	for _, size := range []int{0, 100} {
		s, err := Compile(files, config, Options{CacheSize: size, Budget: slowMachine})
		if err != nil {
			t.Fatal(err)
		}
		bad := 0
		for i, e := range events {
			if got := viewHits(s.Eval(e)); !reflect.DeepEqual(got, want[i]) {
				if bad++; bad <= 5 {
					t.Errorf("cache size %d, event %s: memoized %+v, plain %+v", size, e.AppendJSON(nil), got, want[i])
				}
			}
		}
		for _, r := range s.Rules() {
			if r.memo == nil || !r.memo.traced {
				t.Errorf("%s: not memoized by what it reads (%s)", r.name, r.noMemo)
				continue
			}
			if shapes := r.memo.shapes.Load(); size == 0 && (shapes == nil || len(*shapes) < 2) && r.name != "imports" && r.name != "withdata" {
				t.Errorf("%s: one shape only: the test does not exercise recorded reads", r.name)
			}
		}
	}
}
