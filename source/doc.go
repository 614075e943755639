// Package source opens the user's inputs (files, directories, globs, stdin;
// plain or gzip, bzip2 and zstd compressed) and yields their lines with their
// origin (file and line number), so that every event, alert and warning
// downstream can point back to file:line.
//
// Typical use:
//
//	inputs, err := source.Expand(args)
//	for _, in := range inputs {
//		rc, err := source.Open(in)
//		sc := source.NewScanner(rc, in.Path)
//		for sc.Scan() {
//			line := sc.Line()
//		}
//		err = sc.Err()
//		rc.Close()
//	}
package source
