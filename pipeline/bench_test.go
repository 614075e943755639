package pipeline

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/detect-dev/detect/bench/postfixgen"
	"github.com/detect-dev/detect/engine"
	"github.com/detect-dev/detect/normalize"
	"github.com/detect-dev/detect/rules"
	"github.com/detect-dev/detect/schema"
	"github.com/detect-dev/detect/source"
)

// benchLog is a generated Postfix log of 300,000 lines (about a day of the
// benchmark's week), made once per test binary.
var benchLog = sync.OnceValue(func() []byte {
	var b bytes.Buffer
	_, err := postfixgen.Generate(&b, postfixgen.Config{Lines: 300_000, Seed: 1, Span: 22 * time.Hour})
	if err != nil {
		panic(err)
	}
	return b.Bytes()
})

func reportLines(b *testing.B, lines int) {
	b.ReportMetric(float64(lines)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}

// benchLogGzip is benchLog compressed, as archives are stored.
var benchLogGzip = sync.OnceValue(func() []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write(benchLog()); err != nil {
		panic(err)
	}
	if err := zw.Close(); err != nil {
		panic(err)
	}
	return b.Bytes()
})

// BenchmarkRead compares the pipeline's reading and parsing (no rules:
// what detect normalize does before writing) with the same work in one
// goroutine, the way the pipeline read before it split the reading off:
// the ratio is what the reader goroutine buys on this machine, on the log
// as text and gzipped (where decompression overlaps parsing).
func BenchmarkRead(b *testing.B) {
	log := benchLog()
	lines := bytes.Count(log, []byte{'\n'})
	for _, input := range []struct {
		name string
		data []byte
	}{{"text", log}, {"gzip", benchLogGzip()}} {
		open := func(source.Input) (io.ReadCloser, error) {
			var o source.Opener
			o.Stdin = bytes.NewReader(input.data)
			return o.Open(source.Input{Path: source.Stdin})
		}
		b.Run(input.name+"/sequential", func(b *testing.B) {
			b.SetBytes(int64(len(log)))
			for b.Loop() {
				p, err := normalize.New("postfix", normalize.Options{})
				if err != nil {
					b.Fatal(err)
				}
				events := 0
				emit := func(*schema.Event) { events++ }
				rc, err := open(source.Input{})
				if err != nil {
					b.Fatal(err)
				}
				sc := source.NewScanner(rc, "mail.log")
				for sc.Scan() {
					if l := sc.Line(); !normalize.IsBlank(l.Text) {
						p.Parse(l, emit)
					}
				}
				p.Flush(emit)
				rc.Close()
			}
			reportLines(b, lines)
		})
		b.Run(input.name+"/pipeline", func(b *testing.B) {
			b.SetBytes(int64(len(log)))
			for b.Loop() {
				_, err := Run(context.Background(), Config{
					Inputs:  []source.Input{{Path: "mail.log"}},
					Format:  "postfix",
					OnEvent: func(*schema.Event) error { return nil },
					Open:    open,
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			reportLines(b, lines)
		})
	}
}

// BenchmarkScan runs the embedded rule pack over the log with one worker
// and with one per CPU (start-up, i.e. loading the pack, excluded).
func BenchmarkScan(b *testing.B) {
	log := benchLog()
	lines := bytes.Count(log, []byte{'\n'})
	rs, err := engine.Load(engine.Source{FS: rules.FS(), Display: rules.Display})
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name    string
		workers int
	}{{"workers=1", 1}, {"workers=cpus", 0}} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(log)))
			for b.Loop() {
				_, err := Run(context.Background(), Config{
					Inputs:  []source.Input{{Path: "mail.log"}},
					Format:  "postfix",
					Rules:   rs,
					Workers: bc.workers,
					Open: func(source.Input) (io.ReadCloser, error) {
						return io.NopCloser(bytes.NewReader(log)), nil
					},
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			reportLines(b, lines)
		})
	}
}
