//go:build aix || linux || solaris

package main

import "golang.org/x/sys/unix"

// ioctlReadTermios reads a terminal's settings on System V style kernels.
const ioctlReadTermios = unix.TCGETS
