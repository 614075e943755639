package schema

// Line is one line of input text together with where it came from, so every
// event, warning and skipped line can be traced back to file:line.
type Line struct {
	Text   string // without the trailing newline
	File   string // path as given by the user, or "-" for stdin
	Number int    // 1-based line number within File (after decompression)
}
