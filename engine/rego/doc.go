// Package rego loads and evaluates detection rules written in Rego v1 with
// the embedded OPA library (DESIGN.md section 3).
//
// A rule is one module, `package detect.rules.<name>`, with an OPA
// `# METADATA` block above the package clause (title, description and, under
// custom, id, level, tags, references and requires) and a rule
// `alert contains x if { ... }` over input, one normalized event. x is the
// alert message, or an object with a message and extra fields that are copied
// into the alert. Tunables come from data.config, merged from the rule
// trees' data/*.yaml|json files and the user's overrides.
//
// Loading is strict so that mistakes are load errors with a position, not
// rules that silently never match: the event schema (generated from package
// schema) is given to the type checker, so input.attachmnts does not compile;
// the compiler runs in strict mode; built-ins that reach outside the event
// (http.send, net.lookup_ip_addr, opa.runtime, trace) are not in the
// capabilities.
//
// A windowed rule (custom.window: {group_by: [...], span: 10m}) judges a
// window of events instead: the engine gathers, per group and tumbling
// window on event time, the events its custom.requires selects, and
// EvalWindow gives the rule input = {group, events, count, start, end},
// plus sum (custom.window.sum: a numeric field added up over all the
// window's events) and history (custom.window.history: the group's
// previous windows, newest first) when the window asks for them. The
// matches of Sigma detections named in custom.window.rules may feed the
// windows instead of custom.requires (the engine links them). Its input
// is type-checked against WindowSchema (input.events[_] are events,
// input.group holds exactly the group_by fields, sum and history exist
// only when declared), through a schema annotation added to the rule's
// METADATA. It is left out of the per-event query, of memoization and of
// the custom.requires lint.
//
// Evaluation is built for many events and few alerts: all rules of a Set are
// answered by one prepared query, the input is an ast.Value built straight
// from the Event with only the fields some rule reads, and a rule that
// declares custom.requires is not evaluated at all on events that lack what
// it requires. Every evaluation has a time budget; a rule that exceeds it is
// counted, and after MaxStrikes such events disabled, so it cannot stall a
// scan.
//
// Rules are memoized. A rule's alerts on an event depend only on the values
// of the input fields its evaluation reads (data.config is fixed for a
// Set), so each rule keeps a bounded cache of its hits (Options.CacheSize
// answers; two generations per shard, sharded locks for concurrent Evals)
// and is evaluated only on a miss. Evaluations record which fields they
// actually read: the rule modules are compiled instrumented, with a marker
// before every expression that reads input (instrument), and the answer is
// keyed by the values of those fields only. internal_domain_spoof, say,
// stops at input.sender_domain in local_domains for almost all mail, so
// its answer for any event of that type from that domain is known after
// one evaluation, whatever the sender, client and relay. The sets of fields
// evaluations read (a rule's shapes, a handful) are tried in turn on
// lookup. Only answers are cached, never failures, so budget and error
// accounting are unchanged. A rule is not memoized (and is evaluated on
// every event it applies to) when its reads cannot be known or its result
// is not a function of them (see planMemo): it reads input as a whole or
// with a computed key (input[k], object.get(input, ...)), reads data
// outside data.config and the Set's rules, or calls a built-in such as
// time.now_ns, rand.intn or uuid.rfc4122.
//
// Rules whose value does not depend on the event (tables built from
// data.config, like lookalike_domain's protected) are computed once per Set
// instead of once per evaluation (constRules).
package rego
