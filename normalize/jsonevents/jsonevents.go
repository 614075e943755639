// Package jsonevents reads normalized events back: one JSON object a line, as
// `detect normalize` writes them, registered as format "json". It is what
// makes `detect normalize x | detect scan --format json -` round-trip, and
// lets other tools feed detect without a parser of their own.
package jsonevents

import (
	"encoding/json"
	"strings"

	"github.com/detect-dev/detect/normalize"
	"github.com/detect-dev/detect/schema"
)

func init() {
	normalize.Register("json", func(normalize.Options) normalize.Parser { return &Parser{} })
}

// Parser decodes JSON-lines events. It keeps no state between lines.
type Parser struct {
	blank int
}

// Parse decodes one line. Blank lines are ignored; anything that is not a
// JSON object is not understood (and sampled by the caller).
func (p *Parser) Parse(line schema.Line, emit normalize.Emit) normalize.Result {
	text := strings.TrimSpace(line.Text)
	if text == "" {
		p.blank++
		return normalize.Ignored
	}
	if text[0] != '{' {
		return normalize.NotUnderstood
	}
	e := new(schema.Event)
	if err := json.Unmarshal([]byte(text), e); err != nil {
		return normalize.NotUnderstood
	}
	// Events keep the origin they were normalized from; only events without
	// one get this file's position, so alerts still point somewhere real.
	if e.SourceFile == "" {
		e.SourceFile, e.SourceLine = line.File, line.Number
	}
	emit(e)
	return normalize.Understood
}

// Flush does nothing: the format is stateless.
func (p *Parser) Flush(normalize.Emit) {}

// Stats reports blank lines skipped.
func (p *Parser) Stats() map[string]int {
	if p.blank == 0 {
		return nil
	}
	return map[string]int{"blank_lines": p.blank}
}
