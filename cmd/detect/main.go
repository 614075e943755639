// Command detect runs detection-as-code rules over mail-server logs.
//
// main only wires process state (args, stdio, exit code) into run, so every
// subcommand is testable in-process; see the subcommand files for behavior.
package main

import (
	"os"
)

func main() {
	os.Exit(run(os.Args, os.Stdin, os.Stdout, os.Stderr))
}
