package sigma

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

// tokKind is one piece of a Sigma string value.
type tokKind uint8

const (
	tokLit  tokKind = iota // literal text
	tokStar                // * : any run of characters
	tokOne                 // ? : exactly one character
)

type token struct {
	kind tokKind
	lit  string
}

// parseWildcards splits a Sigma string value into literals and wildcards.
// Following the specification, a backslash escapes "*", "?" and itself; a
// backslash before any other character, or at the end, is literal, so that
// Windows-style paths need no doubling.
func parseWildcards(s string) []token {
	var toks []token
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			toks = append(toks, token{kind: tokLit, lit: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\\':
			if i+1 < len(s) && (s[i+1] == '*' || s[i+1] == '?' || s[i+1] == '\\') {
				lit.WriteByte(s[i+1])
				i++
			} else {
				lit.WriteByte('\\')
			}
		case '*':
			flush()
			// Adjacent stars mean the same as one; merging them keeps the
			// matcher from backtracking over equivalent choices.
			if len(toks) == 0 || toks[len(toks)-1].kind != tokStar {
				toks = append(toks, token{kind: tokStar})
			}
		case '?':
			flush()
			toks = append(toks, token{kind: tokOne})
		default:
			lit.WriteByte(c)
		}
	}
	flush()
	return toks
}

// hasWildcards reports whether the tokens contain * or ?.
func hasWildcards(toks []token) bool {
	for _, t := range toks {
		if t.kind != tokLit {
			return true
		}
	}
	return false
}

// wrapStars adds a leading and/or trailing star (the contains, startswith
// and endswith modifiers), without doubling an existing one.
func wrapStars(toks []token, lead, trail bool) []token {
	out := make([]token, 0, len(toks)+2)
	if lead && (len(toks) == 0 || toks[0].kind != tokStar) {
		out = append(out, token{kind: tokStar})
	}
	out = append(out, toks...)
	if trail && (len(out) == 0 || out[len(out)-1].kind != tokStar) {
		out = append(out, token{kind: tokStar})
	}
	return out
}

// strKind selects the matching strategy of a strMatcher. The common shapes
// get a dedicated loop; only patterns with inner wildcards need the general
// glob matcher.
type strKind uint8

const (
	strExact    strKind = iota // lit
	strPrefix                  // lit*
	strSuffix                  // *lit
	strContains                // *lit*
	strAny                     // *  (any value, including "")
	strGlob                    // anything else with wildcards
	strRegexp                  // re modifier, or Unicode case folding
)

// strMatcher matches one text value. When fold is set, lit and the literals
// of toks are lower-case ASCII and the comparison folds ASCII letters of the
// event text on the fly, so no lower-cased copy is ever made.
type strMatcher struct {
	kind strKind
	fold bool
	lit  string
	toks []token
	re   *regexp.Regexp
}

// newStrMatcher compiles wildcard tokens. cased selects case-sensitive
// matching (the cased modifier, or base64 text which is case-sensitive by
// nature).
func newStrMatcher(toks []token, cased bool) strMatcher {
	if !cased && !isASCIITokens(toks) {
		// ASCII folding would be wrong for "É" vs "é"; a regexp with (?i)
		// folds Unicode and still compiles only once.
		return strMatcher{kind: strRegexp, re: regexp.MustCompile(globRegexp(toks))}
	}
	m := strMatcher{fold: !cased}
	if m.fold {
		toks = lowerTokens(toks)
	}
	n := len(toks)
	switch {
	case n == 0:
		m.kind = strExact
	case n == 1 && toks[0].kind == tokLit:
		m.kind, m.lit = strExact, toks[0].lit
	case n == 1 && toks[0].kind == tokStar:
		m.kind = strAny
	case n == 2 && toks[0].kind == tokLit && toks[1].kind == tokStar:
		m.kind, m.lit = strPrefix, toks[0].lit
	case n == 2 && toks[0].kind == tokStar && toks[1].kind == tokLit:
		m.kind, m.lit = strSuffix, toks[1].lit
	case n == 3 && toks[0].kind == tokStar && toks[1].kind == tokLit && toks[2].kind == tokStar:
		m.kind, m.lit = strContains, toks[1].lit
	default:
		m.kind, m.toks = strGlob, toks
	}
	return m
}

func (m *strMatcher) match(s string) bool {
	switch m.kind {
	case strExact:
		if m.fold {
			return len(s) == len(m.lit) && hasPrefixFold(s, m.lit)
		}
		return s == m.lit
	case strPrefix:
		if m.fold {
			return hasPrefixFold(s, m.lit)
		}
		return strings.HasPrefix(s, m.lit)
	case strSuffix:
		if m.fold {
			return len(s) >= len(m.lit) && hasPrefixFold(s[len(s)-len(m.lit):], m.lit)
		}
		return strings.HasSuffix(s, m.lit)
	case strContains:
		if m.fold {
			return indexFold(s, m.lit) >= 0
		}
		return strings.Contains(s, m.lit)
	case strAny:
		return true
	case strGlob:
		return globMatch(m.toks, s, m.fold)
	case strRegexp:
		return m.re.MatchString(s)
	}
	return false
}

func isASCIITokens(toks []token) bool {
	for _, t := range toks {
		for i := 0; i < len(t.lit); i++ {
			if t.lit[i] >= utf8.RuneSelf {
				return false
			}
		}
	}
	return true
}

func lowerTokens(toks []token) []token {
	out := make([]token, len(toks))
	for i, t := range toks {
		t.lit = strings.ToLower(t.lit)
		out[i] = t
	}
	return out
}

// globRegexp translates tokens into an equivalent case-insensitive regexp.
// Leading and trailing stars become an unanchored end instead of ".*",
// which would make the regexp engine scan for nothing.
func globRegexp(toks []token) string {
	var b strings.Builder
	b.WriteString("(?is)")
	start, end := 0, len(toks)
	if end > 0 && toks[0].kind == tokStar {
		start++
	} else {
		b.WriteByte('^')
	}
	trailing := end > start && toks[end-1].kind == tokStar
	if trailing {
		end--
	}
	for _, t := range toks[start:end] {
		switch t.kind {
		case tokLit:
			b.WriteString(regexp.QuoteMeta(t.lit))
		case tokStar:
			b.WriteString(".*")
		case tokOne:
			b.WriteByte('.')
		}
	}
	if !trailing {
		b.WriteByte('$')
	}
	return b.String()
}

// lowerASCII maps A-Z to a-z and leaves every other byte alone.
func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// hasPrefixFold reports whether s starts with lower, folding ASCII letters
// of s. lower must already be lower case.
func hasPrefixFold(s, lower string) bool {
	if len(s) < len(lower) {
		return false
	}
	for i := 0; i < len(lower); i++ {
		if lowerASCII(s[i]) != lower[i] {
			return false
		}
	}
	return true
}

// indexFold returns the index of the first case-insensitive occurrence of
// lower in s, or -1. The first byte is searched for in both cases, then the
// rest compared; mail-log fields are short, so this beats building tables.
func indexFold(s, lower string) int {
	n := len(lower)
	if n == 0 {
		return 0
	}
	first := lower[0]
	upper := first
	if 'a' <= first && first <= 'z' {
		upper = first - ('a' - 'A')
	}
	for i := 0; i+n <= len(s); i++ {
		if c := s[i]; (c == first || c == upper) && hasPrefixFold(s[i+1:], lower[1:]) {
			return i
		}
	}
	return -1
}

// globMatch matches s against wildcard tokens. It is the classic linear
// greedy matcher: on a mismatch it returns to the most recent star and lets
// it swallow one more character. Remembering only the last star is enough
// because a later star can absorb anything an earlier one could. "?" and
// the star advance by whole UTF-8 characters.
func globMatch(toks []token, s string, fold bool) bool {
	ti, si := 0, 0
	starTi, starSi := -1, 0
	for {
		if ti < len(toks) {
			t := toks[ti]
			switch t.kind {
			case tokStar:
				starTi, starSi = ti, si
				ti++
				continue
			case tokOne:
				if si < len(s) {
					_, w := utf8.DecodeRuneInString(s[si:])
					si += w
					ti++
					continue
				}
			case tokLit:
				var ok bool
				if fold {
					ok = hasPrefixFold(s[si:], t.lit)
				} else {
					ok = strings.HasPrefix(s[si:], t.lit)
				}
				if ok {
					si += len(t.lit)
					ti++
					continue
				}
			}
		} else if si == len(s) {
			return true
		}
		if starTi < 0 || starSi >= len(s) {
			return false
		}
		_, w := utf8.DecodeRuneInString(s[starSi:])
		starSi += w
		si, ti = starSi, starTi+1
	}
}
