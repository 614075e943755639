package csvevents

import (
	"errors"
	"strings"
)

// ErrQuote is returned by SplitRow for a quoted field that does not end on
// its line (a record spread over several lines, or a cut line).
var ErrQuote = errors.New("csv: unterminated quoted field")

// SplitRow splits one CSV record (RFC 4180, without its line end) into its
// fields, appending them to dst[:0]. A quoted field may hold commas and
// doubled quotes; text after its closing quote is kept, as encoding/csv
// does with LazyQuotes. A quote inside an unquoted field is literal. Fields
// are substrings of line unless they held doubled quotes, so splitting
// allocates nothing once dst has grown. This is the row reader of the CSV
// formats: csv, exchange, exchange-smtp and m365.
func SplitRow(line string, dst []string) ([]string, error) {
	dst = dst[:0]
	for i := 0; ; {
		if i < len(line) && line[i] == '"' {
			// Quoted field.
			j := i + 1
			var b strings.Builder
			doubled := false
			start := j
			for {
				k := strings.IndexByte(line[j:], '"')
				if k < 0 {
					return dst, ErrQuote
				}
				j += k
				if j+1 < len(line) && line[j+1] == '"' {
					if !doubled {
						doubled = true
					}
					b.WriteString(line[start : j+1])
					j += 2
					start = j
					continue
				}
				break
			}
			var f string
			if doubled {
				b.WriteString(line[start:j])
				f = b.String()
			} else {
				f = line[start:j]
			}
			j++ // closing quote
			if end := strings.IndexByte(line[j:], ','); end != 0 {
				// Stray text after the closing quote: keep it.
				if end < 0 {
					end = len(line) - j
				}
				f += line[j : j+end]
				j += end
			}
			dst = append(dst, f)
			if j >= len(line) {
				return dst, nil
			}
			i = j + 1 // past the comma
			continue
		}
		end := strings.IndexByte(line[i:], ',')
		if end < 0 {
			return append(dst, line[i:]), nil
		}
		dst = append(dst, line[i:i+end])
		i += end + 1
	}
}
