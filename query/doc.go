// Package query runs Splunk-style searches over normalized mail events:
// the language of `detect query` and the engine under `detect report`.
//
//	index=mail sourcetype=smtp | top limit=10 sender
//	action=rejected | stats count, dc(recipient) by src_ip | sort -count | head 5
//	attachment_type="application/x-msdownload" OR attachment_size > 1000000
//	| timechart span=1d count by host
//
// Parse checks a query completely before any event is read: syntax, command
// options, and every field name (a schema field, one of its aliases such as
// src_user or _time, or a column made by an earlier command). Errors are
// *Error values carrying the column, printed with a caret under the culprit.
// A Query is immutable; Start gives a Run, which takes events one at a time
// in input order (Add) and returns a Result (columns and rows of Values).
//
// # The search
//
// The first segment is a search; a leading `search` keyword is optional.
// Terms are field=value (values compare case-insensitively, * matches any
// run of characters, "quoted values" may hold spaces), field!=value
// (present and different), <, <=, >, >= (numerically when the value is a
// number, else as text), field IN (a, b), field=* (present). Terms combine
// with implicit AND, OR, NOT and parentheses; as in Splunk, the operators
// are upper case and bind NOT, then OR, then AND: `a b OR c` is
// `a AND (b OR c)`. A list field (attachment_name, attachment_ext,
// attachment_type, attachment_size) matches when any element does, so
// `attachment_size > 1000000` finds messages with one large attachment. The
// null sender of bounces is the value "" (sender="" finds it).
//
// Events carry no raw line, so a bare word or "quoted phrase" matches when
// any text field contains it (ignoring case): every string field except
// source_file, attachment names and types, and the size.
//
// Leading index= and sourcetype= terms are accepted and ignored (there is
// no index: the inputs are the data); Ignored lists them. A query that
// starts with the name of a command (`stats count by host`) runs that
// command over every event; Splunk would search for the words.
//
// # Commands
//
//	search EXPR                     filter (same language as above)
//	where EXPR                      filter: = == != < <= > >= LIKE, AND OR NOT,
//	                                isnull isnotnull like match cidrmatch in
//	                                lower upper len tonumber coalesce if null;
//	                                text in double quotes, numbers bare, bare
//	                                words are fields, 'quoted' names are columns
//	top [N] [limit=N] [countfield= percentfield= showcount= showperc=
//	    useother= otherstr=] FIELD... [by FIELD...]
//	rare                            as top, least common first
//	stats FN[(FIELD)] [as NAME], ... [by FIELD, ...]
//	                                FN: count c dc distinct_count sum avg mean
//	                                min max values latest last earliest first
//	timechart [span=N(s|m|h|d|w|mon)] [limit=N] [useother=] [usenull=]
//	    [cont=] [otherstr=] [nullstr=] FN[(FIELD)], ... [by FIELD]
//	sort [N] [limit=N] [+|-][num(|str(|ip(|auto(]FIELD[)], ... [desc]
//	head [N]  tail [N]              first / last N (tail lists the last first)
//	table FIELD...  fields [+|-] FIELD...   keep (in order) or drop; * wildcards
//	rename FIELD as NAME, ...
//	dedup [N] FIELD... [keepempty=] [consecutive=]
//
// # Semantics kept from Splunk
//
// top and rare give count and percent columns; percent is the share of the
// events that have the field (per by group), shown with six decimals;
// ties are broken by value. stats, top, rare and timechart drop events
// that lack a by-field, and count an event once per value of a list field.
// stats sorts its rows by the by-fields; with no by it always gives one
// row (count 0 over no events). timechart buckets are aligned to the span
// in UTC (hours on the hour, days at midnight UTC, weeks on Monday, months
// on the 1st), cover every bucket from the first event to the last (empty
// ones 0 for count, dc and sum, absent for the others), keep the limit
// (default 10) series with the largest totals and fold the rest into
// OTHER; events without the by-field make the NULL series. Without span,
// the smallest of 1s 5s 10s 30s 1m 5m 10m 30m 1h 1d 1mon giving at most 100
// buckets is used. sort keeps 10000 rows unless given a count (0: all);
// numbers sort before text, absent values last.
//
// # Memory
//
// Aggregations stream: top, rare, stats and timechart keep one state per
// group (per series and bucket for timechart), never the events; dc and
// values keep their distinct values. sort keeps at most its limit, tail its
// count, dedup one key per distinct value. A query that ends with events
// (no aggregation) keeps the matching events for output.
package query
