// Package sigma loads Sigma rules (SigmaHQ specification v2) for mail-log
// events and compiles them into matchers that run without allocating.
//
// Rules are read from YAML with gopkg.in/yaml.v3 into yaml.Node trees, one
// rule per document of a file. Everything is compiled once, at load time:
// field names are resolved through schema.LookupField, string values become
// case-folded literal, prefix, suffix, substring or wildcard matchers,
// regular expressions are compiled, CIDR prefixes parsed and numbers
// converted, and the condition is parsed by a small hand-written parser into
// a tree whose leaves point at the compiled searches. Rule.Match then only
// walks that tree.
//
// Why not github.com/bradleyjkemp/sigma-go, which the design names as the
// parser: its evaluator recompiles regular expressions on every match, reads
// "*" literally, panics on "1 of selection" and is an order of magnitude
// slower than compiled matchers; its ParseRule runs a condition grammar that
// rejects valid conditions (identifiers containing "-" or digits before a
// "*") while decoding, reads only the first YAML document, and its
// FieldMatcher keeps the position of the key but not of each value and
// converts values to interface{}, losing the scalar text and tag. Walking the
// nodes directly gives every error an exact file:line:col, which matters more
// to rule authors than reusing those types. sigma-go's evaluator is still
// used by the tests as a differential oracle.
//
// # Semantics
//
// A search is a map (every field must match) or a list of maps and keyword
// strings (any item may match). A field's list of values matches if any value
// does, or every value with the "all" modifier. String values are
// case-insensitive and may use the wildcards "*" and "?", escaped as "\*",
// "\?" and "\\"; a backslash before anything else is literal. Numbers compare
// numerically against numeric fields (size, recipient_count, delay,
// attachment_size, ...) and as text elsewhere, while gt/gte/lt/lte on a text
// field is a load error (it could never match "550 5.7.1"); booleans compare
// as the text "true" or "false"; null matches an absent field (the null
// sender "" is present). On list fields (attachment_ext, attachment_name,
// ...) a value matches if any element does. Keywords (a list of strings, or
// a map key with no field name such as "|all") match if the text of the mail
// or session contains them: subject, reason, addresses, client, relay,
// attachment names and the like, not classification fields such as
// event_type or product, which every event shares.
//
// String matchers only look at fields the event has (schema.Event.Has): in
// this schema an empty string field is absent, except the null sender of
// bounces, so an empty string value for sender matches exactly the null
// sender, and the value "*" for subject means "has a subject". Use null (or
// the exists modifier) to test absence.
//
// Modifiers: contains, startswith, endswith, all, cased, re (with i, m, s),
// cidr, gt, gte, lt, lte, exists, base64 and base64offset. Anything else,
// and any combination that has no meaning, is a load error.
//
// Case folding of patterns that are pure ASCII folds ASCII letters only, so
// that matching needs no allocation; patterns with non-ASCII characters fold
// Unicode through a compiled regular expression.
package sigma
