package query

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// The lexer is a small state machine in the manner of
// text/template/parse/lex.go: each state function scans one kind of token
// and returns the next state. The query is short, so the parser asks for all
// tokens up front (lexAll) instead of running the lexer in a goroutine.

// itemType identifies the kind of a lexical item.
type itemType uint8

const (
	itemError  itemType = iota // lexing error; val is the message
	itemEOF                    // end of the query
	itemWord                   // an unquoted run: field, value, command, keyword, number
	itemString                 // "double-quoted" text; val is unescaped
	itemQuoted                 // 'single-quoted' field name; val is unescaped
	itemPipe                   // |
	itemLParen                 // (
	itemRParen                 // )
	itemComma                  // ,
	itemEq                     // =
	itemEqEq                   // ==
	itemNe                     // !=
	itemLt                     // <
	itemLe                     // <=
	itemGt                     // >
	itemGe                     // >=
)

var itemNames = [...]string{
	itemError:  "error",
	itemEOF:    "end of query",
	itemWord:   "word",
	itemString: "string",
	itemQuoted: "quoted field",
	itemPipe:   "|",
	itemLParen: "(",
	itemRParen: ")",
	itemComma:  ",",
	itemEq:     "=",
	itemEqEq:   "==",
	itemNe:     "!=",
	itemLt:     "<",
	itemLe:     "<=",
	itemGt:     ">",
	itemGe:     ">=",
}

func (t itemType) String() string { return itemNames[t] }

// isCompare reports whether t is a comparison operator.
func (t itemType) isCompare() bool { return t >= itemEq && t <= itemGe }

// item is one token with its byte span in the query.
type item struct {
	typ itemType
	pos int    // byte offset of the first character
	end int    // byte offset just past the last character
	val string // the text (unescaped for strings)
}

func (i item) String() string {
	switch i.typ {
	case itemEOF:
		return "end of query"
	case itemWord:
		return fmt.Sprintf("%q", i.val)
	case itemString:
		return fmt.Sprintf("string %q", i.val)
	case itemQuoted:
		return fmt.Sprintf("'%s'", i.val)
	case itemError:
		return i.val
	}
	return fmt.Sprintf("%q", i.typ.String())
}

// lexer holds the state of the scanner.
type lexer struct {
	input string
	start int // start of the current item
	pos   int // current position
	items []item
}

type stateFn func(*lexer) stateFn

// lexAll scans the whole query. The last item is itemEOF or itemError.
func lexAll(input string) []item {
	l := &lexer{input: input}
	for state := lexAny; state != nil; {
		state = state(l)
	}
	return l.items
}

const eof = -1

func (l *lexer) next() rune {
	if l.pos >= len(l.input) {
		return eof
	}
	r, w := utf8.DecodeRuneInString(l.input[l.pos:])
	l.pos += w
	return r
}

func (l *lexer) peek() rune {
	if l.pos >= len(l.input) {
		return eof
	}
	r, _ := utf8.DecodeRuneInString(l.input[l.pos:])
	return r
}

func (l *lexer) emit(t itemType) {
	l.emitVal(t, l.input[l.start:l.pos])
}

func (l *lexer) emitVal(t itemType, val string) {
	l.items = append(l.items, item{typ: t, pos: l.start, end: l.pos, val: val})
	l.start = l.pos
}

// errorf emits an error item spanning the current item and stops the scan.
func (l *lexer) errorf(format string, args ...any) stateFn {
	l.items = append(l.items, item{typ: itemError, pos: l.start, end: l.pos, val: fmt.Sprintf(format, args...)})
	return nil
}

func isSpace(r rune) bool {
	return r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\f' || r == '\v'
}

// isDelim reports whether r ends a word. A '!' ends a word only before '='
// (checked by lexWord), so "hello!" is one word.
func isDelim(r rune) bool {
	switch r {
	case eof, '|', '(', ')', ',', '=', '<', '>', '"', '\'':
		return true
	}
	return isSpace(r)
}

// lexAny scans between items.
func lexAny(l *lexer) stateFn {
	for isSpace(l.peek()) {
		l.next()
	}
	l.start = l.pos
	switch r := l.next(); r {
	case eof:
		l.emitVal(itemEOF, "")
		return nil
	case '|':
		l.emit(itemPipe)
	case '(':
		l.emit(itemLParen)
	case ')':
		l.emit(itemRParen)
	case ',':
		l.emit(itemComma)
	case '=':
		if l.peek() == '=' {
			l.next()
			l.emit(itemEqEq)
		} else {
			l.emit(itemEq)
		}
	case '<':
		if l.peek() == '=' {
			l.next()
			l.emit(itemLe)
		} else {
			l.emit(itemLt)
		}
	case '>':
		if l.peek() == '=' {
			l.next()
			l.emit(itemGe)
		} else {
			l.emit(itemGt)
		}
	case '!':
		if l.peek() == '=' {
			l.next()
			l.emit(itemNe)
			return lexAny
		}
		return lexWord
	case '"':
		return lexQuote('"', itemString)
	case '\'':
		return lexQuote('\'', itemQuoted)
	default:
		if r == utf8.RuneError && l.pos-l.start == 1 {
			return l.errorf("invalid UTF-8")
		}
		return lexWord
	}
	return lexAny
}

// lexWord scans the rest of an unquoted word.
func lexWord(l *lexer) stateFn {
	for {
		r := l.peek()
		if isDelim(r) {
			break
		}
		if r == '!' && strings.HasPrefix(l.input[l.pos:], "!=") {
			break
		}
		p := l.pos
		if l.next() == utf8.RuneError && l.pos-p == 1 {
			l.start = p
			return l.errorf("invalid UTF-8")
		}
	}
	l.emit(itemWord)
	return lexAny
}

// lexQuote returns the state that scans a quoted string up to the closing
// quote q. A backslash escapes the next character (\" \' \\); any other
// backslash is kept as written, so regular expressions read naturally.
func lexQuote(q rune, t itemType) stateFn {
	return func(l *lexer) stateFn {
		var b strings.Builder
		for {
			p := l.pos
			switch r := l.next(); r {
			case eof:
				return l.errorf("unterminated %c string", q)
			case '\\':
				switch n := l.peek(); n {
				case q, '\\':
					l.next()
					b.WriteRune(n)
				default:
					b.WriteRune(r)
				}
			case q:
				l.emitVal(t, b.String())
				return lexAny
			default:
				if r == utf8.RuneError && l.pos-p == 1 {
					l.start = p
					return l.errorf("invalid UTF-8")
				}
				b.WriteRune(r)
			}
		}
	}
}
