//go:build !(aix || darwin || dragonfly || freebsd || linux || netbsd || openbsd || solaris || windows)

package main

import "os"

// fileIsTerminal is false where detect has no way to ask (plan9, js,
// wasip1): plain output is the safe choice for a pipe or a file.
func fileIsTerminal(*os.File) bool { return false }
