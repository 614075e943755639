//go:build !linux

package syslogd

import "net"

// Only Linux reports the datagrams a socket dropped.
func watchKernelDrops(*net.UDPConn) {}

func kernelDrops([]byte) (uint32, bool) { return 0, false }
