package query

// The parse tree. Every node keeps the byte span of its source text so the
// compiler can point at it.

// span is a byte range of the query.
type span struct{ pos, end int }

// name is a field or column name as written.
type name struct {
	text string
	span
}

// command is one stage of the pipeline.
type command interface {
	cmdName() string
}

type cmdBase struct {
	name string
	span // the command word
}

func (c *cmdBase) cmdName() string { return c.name }

type searchCmd struct {
	cmdBase
	expr sexpr // nil matches everything
}

type whereCmd struct {
	cmdBase
	expr eexpr
}

type topCmd struct {
	cmdBase
	rare         bool
	limit        int // 0: all
	countField   string
	percentField string
	showCount    bool
	showPerc     bool
	useOther     bool
	otherStr     string
	fields       []name
	by           []name
}

type statsCmd struct {
	cmdBase
	aggs []aggSpec
	by   []name
}

type timechartCmd struct {
	cmdBase
	bucket   spanSpec // zero: automatic
	limit    int      // 0: all series
	useOther bool
	useNull  bool
	cont     bool
	otherStr string
	nullStr  string
	aggs     []aggSpec
	by       *name
}

type sortCmd struct {
	cmdBase
	limit int // 0: all
	keys  []sortKey
}

type headCmd struct {
	cmdBase
	n int
}

type tailCmd struct {
	cmdBase
	n int
}

type tableCmd struct {
	cmdBase
	fields []name
}

type fieldsCmd struct {
	cmdBase
	remove bool
	fields []name
}

type renameCmd struct {
	cmdBase
	pairs [][2]name
}

type dedupCmd struct {
	cmdBase
	n           int
	fields      []name
	keepEmpty   bool
	consecutive bool
}

// aggSpec is one statistical function: count, dc(recipient) as rcpts.
type aggSpec struct {
	fn    string // canonical: count, dc, sum, avg, min, max, values, latest, earliest
	field *name  // nil for plain count
	out   string // output column name
	span
}

type sortKey struct {
	field name
	desc  bool
	mode  string // auto, num, str, ip
}

// Search expressions (the search command and the leading search).

type sexpr interface{ sspan() span }

type sAnd struct{ l, r sexpr }
type sOr struct{ l, r sexpr }
type sNot struct {
	x sexpr
	span
}

// sTerm is field OP value.
type sTerm struct {
	field  name
	op     itemType
	value  string
	quoted bool
	vspan  span
}

// sIn is field IN (v1, v2, ...).
type sIn struct {
	field  name
	values []string
	end    int
}

// sWord is a bare word or quoted phrase matched against the event text.
type sWord struct {
	text   string
	quoted bool
	span
}

func (x *sAnd) sspan() span  { return span{x.l.sspan().pos, x.r.sspan().end} }
func (x *sOr) sspan() span   { return span{x.l.sspan().pos, x.r.sspan().end} }
func (x *sNot) sspan() span  { return x.span }
func (x *sTerm) sspan() span { return span{x.field.pos, x.vspan.end} }
func (x *sIn) sspan() span   { return span{x.field.pos, x.end} }
func (x *sWord) sspan() span { return x.span }

// Eval expressions (the where command).

type eexpr interface{ espan() span }

type eBin struct {
	op   string // OR AND = != < <= > >= LIKE
	l, r eexpr
	span // the operator
}

type eNot struct {
	x eexpr
	span
}

type eCall struct {
	fn   string
	args []eexpr
	span // the whole call
}

type eField struct{ name }

type eLit struct {
	v Value
	span
}

func (x *eBin) espan() span   { return span{x.l.espan().pos, x.r.espan().end} }
func (x *eNot) espan() span   { return x.span }
func (x *eCall) espan() span  { return x.span }
func (x *eField) espan() span { return x.span }
func (x *eLit) espan() span   { return x.span }
