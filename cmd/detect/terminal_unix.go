//go:build aix || darwin || dragonfly || freebsd || linux || netbsd || openbsd || solaris

package main

import (
	"os"

	"golang.org/x/sys/unix"
)

// fileIsTerminal reports whether f is a terminal: only a terminal answers
// the request for its termios settings (/dev/null, pipes and files fail
// with ENOTTY). SyscallConn leaves the descriptor's blocking mode alone,
// which f.Fd would change.
func fileIsTerminal(f *os.File) bool {
	rc, err := f.SyscallConn()
	if err != nil {
		return false
	}
	var ioctlErr error
	if err := rc.Control(func(fd uintptr) {
		_, ioctlErr = unix.IoctlGetTermios(int(fd), ioctlReadTermios)
	}); err != nil {
		return false
	}
	return ioctlErr == nil
}
