package syslogd

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

func TestParseAddr(t *testing.T) {
	tests := []struct {
		in   string
		want []Addr
		err  string
	}{
		{"udp://:514", []Addr{{"udp", "127.0.0.1:514"}}, ""},
		{"tcp://0.0.0.0:6514", []Addr{{"tcp", "0.0.0.0:6514"}}, ""},
		{"tcp://[::1]:514", []Addr{{"tcp", "[::1]:514"}}, ""},
		{"5514", []Addr{{"udp", "127.0.0.1:5514"}, {"tcp", "127.0.0.1:5514"}}, ""},
		{"localhost:5514", []Addr{{"udp", "localhost:5514"}, {"tcp", "localhost:5514"}}, ""},
		{"http://:514", nil, "scheme"},
		{"tcp://host", nil, "no port number"},
		{"tcp://host:", nil, "no port number"},
		{"tcp://a:b:c", nil, "too many colons"},
	}
	for _, tc := range tests {
		got, err := ParseAddr(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: error %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

// server runs a Server on loopback ports; its messages arrive on msgs.
type server struct {
	s      *Server
	msgs   chan Message
	cancel context.CancelFunc
	done   chan struct{}
}

func serve(t *testing.T, network string, opt Options, queue int) *server {
	t.Helper()
	s, err := Listen([]Addr{{network, "127.0.0.1:0"}}, opt)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	sv := &server{s: s, msgs: make(chan Message, queue), cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(sv.done)
		s.Serve(ctx, func(m Message) { sv.msgs <- m }, func(m Message) bool {
			select {
			case sv.msgs <- m:
				return true
			default:
				return false
			}
		})
	}()
	t.Cleanup(sv.stop)
	return sv
}

func (sv *server) stop() {
	sv.cancel()
	<-sv.done
}

func (sv *server) addr() string {
	_, a, _ := strings.Cut(sv.s.Addrs()[0], "://")
	return a
}

func (sv *server) receive(t *testing.T, n int) []string {
	t.Helper()
	var out []string
	deadline := time.After(10 * time.Second)
	for len(out) < n {
		select {
		case m := <-sv.msgs:
			if !m.Peer.IsLoopback() {
				t.Errorf("peer %v", m.Peer)
			}
			out = append(out, m.Transport+" "+m.Text)
		case <-deadline:
			t.Fatalf("got %d of %d messages: %q", len(out), n, out)
		}
	}
	return out
}

func TestTCP(t *testing.T) {
	sv := serve(t, "tcp", Options{}, 100)
	c, err := net.Dial("tcp", sv.addr())
	if err != nil {
		t.Fatal(err)
	}
	m1 := "<34>1 2026-11-28T10:00:00Z mx postfix/smtpd 12 - - connect from a"
	m2 := "<13>Nov 28 10:00:01 mx postfix/qmgr[3]: 4F1: removed"
	fmt.Fprintf(c, "%d %s%s\n", len(m1), m1, m2)
	got := sv.receive(t, 2)
	want := []string{"tcp " + m1, "tcp " + m2}
	if !slices.Equal(got, want) {
		t.Errorf("-want +got\n-%q\n+%q", want, got)
	}
	c.Close()
	if sv.s.Stats.Messages.Load() != 2 {
		t.Errorf("Messages %d", sv.s.Stats.Messages.Load())
	}
}

func TestUDP(t *testing.T) {
	sv := serve(t, "udp", Options{}, 100)
	c, err := net.Dial("udp", sv.addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("<13>Nov 28 10:00:01 mx postfix/qmgr[3]: 4F1: removed\n"))
	c.Write([]byte("<13>Nov 28 10:00:02 mx postfix/qmgr[3]: 4F2: removed"))
	got := sv.receive(t, 2)
	want := []string{"udp <13>Nov 28 10:00:01 mx postfix/qmgr[3]: 4F1: removed", "udp <13>Nov 28 10:00:02 mx postfix/qmgr[3]: 4F2: removed"}
	if !slices.Equal(got, want) {
		t.Errorf("-want +got\n-%q\n+%q", want, got)
	}
}

// TestUDPDropsAreCounted: a receiver without room drops datagrams and
// says how many; what it took plus what it dropped is what was sent.
func TestUDPDropsAreCounted(t *testing.T) {
	sv := serve(t, "udp", Options{}, 5)
	c, err := net.Dial("udp", sv.addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const n = 50
	for i := range n {
		fmt.Fprintf(c, "<13>Nov 28 10:00:01 mx x[1]: %d", i)
	}
	st := &sv.s.Stats
	deadline := time.Now().Add(10 * time.Second)
	for st.Messages.Load()+st.KernelDropped.Load() < n && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond) // polling a counter: no event to wait on
	}
	if got := st.Messages.Load() + st.KernelDropped.Load(); got != n {
		t.Fatalf("received %d + kernel-dropped %d, sent %d", st.Messages.Load(), st.KernelDropped.Load(), n)
	}
	if kept, dropped := int64(len(sv.msgs)), st.UDPDropped.Load(); kept != 5 || kept+dropped != st.Messages.Load() {
		t.Errorf("kept %d, dropped %d of %d received", kept, dropped, st.Messages.Load())
	}
}

// TestTCPBackPressure: while the receiver takes nothing, the sender's
// writes stall (no message is dropped to make room); once it takes again,
// every message arrives, in order.
func TestTCPBackPressure(t *testing.T) {
	sv := serve(t, "tcp", Options{}, 0) // unbuffered: delivery blocks until read
	c, err := net.Dial("tcp", sv.addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const n = 200000
	var payload strings.Builder
	for i := range n {
		fmt.Fprintf(&payload, "<13>Nov 28 10:00:01 mx postfix/smtpd[1]: message %d of a stream long enough to fill socket buffers\n", i)
	}
	data := []byte(payload.String())
	c.SetWriteDeadline(time.Now().Add(300 * time.Millisecond))
	written, err := c.Write(data)
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("write of %d bytes to a stalled receiver: %d written, err %v; want a stalled write", len(data), written, err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		c.SetWriteDeadline(time.Time{})
		if _, err := c.Write(data[written:]); err != nil {
			t.Errorf("write: %v", err)
		}
	}()
	for i := range n {
		select {
		case m := <-sv.msgs:
			if want := fmt.Sprintf(" message %d of", i); !strings.Contains(m.Text, want) {
				t.Fatalf("message %d: %q", i, m.Text)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("stalled after %d messages", i)
		}
	}
	wg.Wait()
}

// TestShutdownWithIdleConnection: an idle sender does not hold shutdown
// up beyond the drain timeout.
func TestShutdownWithIdleConnection(t *testing.T) {
	sv := serve(t, "tcp", Options{DrainTimeout: 100 * time.Millisecond}, 10)
	c, err := net.Dial("tcp", sv.addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "hello\n")
	sv.receive(t, 1)
	start := time.Now()
	sv.stop()
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("shutdown took %v", d)
	}
	if _, err := net.Dial("tcp", sv.addr()); err == nil {
		t.Error("still accepting after shutdown")
	}
}

func TestMaxConns(t *testing.T) {
	sv := serve(t, "tcp", Options{MaxConns: 1}, 10)
	c1, _ := net.Dial("tcp", sv.addr())
	defer c1.Close()
	fmt.Fprintf(c1, "one\n")
	sv.receive(t, 1)
	c2, _ := net.Dial("tcp", sv.addr())
	defer c2.Close()
	c2.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := c2.Read(make([]byte, 1)); err == nil {
		t.Error("second connection was not closed")
	}
	if sv.s.Stats.Refused.Load() != 1 {
		t.Errorf("Refused %d", sv.s.Stats.Refused.Load())
	}
}

// failingListener fails its first Accept calls the way a process out of
// file descriptors does.
type failingListener struct {
	net.Listener
	fails atomic.Int32
}

func (l *failingListener) Accept() (net.Conn, error) {
	if l.fails.Add(-1) >= 0 {
		return nil, &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept", syscall.EMFILE)}
	}
	return l.Listener.Accept()
}

// TestAcceptSurvivesErrors: a failed accept (EMFILE while the process is
// out of descriptors) does not stop the listener for good; connections
// made afterwards are served.
func TestAcceptSurvivesErrors(t *testing.T) {
	s, err := Listen([]Addr{{"tcp", "127.0.0.1:0"}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	fl := &failingListener{Listener: s.tcp[0]}
	fl.fails.Store(3)
	s.tcp[0] = fl
	msgs := make(chan Message, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Serve(ctx, func(m Message) { msgs <- m }, func(Message) bool { return false })
	}()
	defer func() { cancel(); <-done }()
	c, err := net.Dial("tcp", fl.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "<13>Nov 28 10:00:01 mx x[1]: after the errors\n")
	select {
	case m := <-msgs:
		if !strings.HasSuffix(m.Text, "after the errors") {
			t.Errorf("got %q", m.Text)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the listener stopped accepting after a failed accept")
	}
}
