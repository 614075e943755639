package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// openPty opens a pseudo-terminal pair through /dev/ptmx; the test is
// skipped where there is none (a container without devpts).
func openPty(t *testing.T) (master, slave *os.File) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal to test with: %v", err)
	}
	fd := int(master.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		master.Close()
		t.Skipf("cannot unlock the pseudo-terminal: %v", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		master.Close()
		t.Skipf("cannot name the pseudo-terminal: %v", err)
	}
	slave, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		master.Close()
		t.Skipf("cannot open the pseudo-terminal's slave: %v", err)
	}
	t.Cleanup(func() { slave.Close(); master.Close() })
	return master, slave
}

func TestPtyIsTerminal(t *testing.T) {
	master, slave := openPty(t)
	if !isTerminal(slave) {
		t.Error("isTerminal(pty slave) = false, want true")
	}
	if !isTerminal(master) {
		t.Error("isTerminal(pty master) = false, want true")
	}
}

// TestScanOnTerminal: detect scan writes its table to a terminal (and JSON
// lines elsewhere, which the other command tests read from a buffer).
func TestScanOnTerminal(t *testing.T) {
	master, slave := openPty(t)
	read := make(chan string, 1)
	go func() {
		var b bytes.Buffer
		_, err := io.Copy(&b, master)
		// Linux answers EIO on the master once the last slave is closed.
		if err != nil && !errors.Is(err, syscall.EIO) {
			b.WriteString("\nread error: " + err.Error())
		}
		read <- b.String()
	}()
	var stderr bytes.Buffer
	code := run([]string{"detect", "scan", "-q", sample}, strings.NewReader(""), slave, &stderr)
	slave.Close()
	out := <-read
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, stderr.String())
	}
	if !strings.HasPrefix(out, "TIME ") || strings.Contains(out, `{"`) {
		t.Errorf("scan on a terminal wrote no table:\n%.400s", out)
	}
}
