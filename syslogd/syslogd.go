// Package syslogd receives syslog messages over UDP and TCP and hands them
// on as lines.
//
// It only removes the transport's framing: one UDP datagram is one message
// (RFC 5426); a TCP stream is split by octet counting or by LF (RFC 6587),
// either framing per message. The message itself (RFC 3164 or RFC 5424,
// with its <PRI>) is passed on as it arrived, for the same parsers that read
// log files, so a line logged to a file and the same line received over the
// network give the same event.
//
// TCP applies back-pressure: a connection is not read while the receiver is
// busy, so a fast sender is slowed down instead of losing messages. UDP
// cannot be slowed down: a datagram the receiver has no room for is dropped
// and counted (and so are the ones the kernel dropped, where it says so).
package syslogd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Addr is one address to listen on.
type Addr struct {
	Network string // "tcp" or "udp"
	Address string // host:port
}

func (a Addr) String() string { return a.Network + "://" + a.Address }

// ParseAddr reads a listen address: udp://HOST:PORT, tcp://HOST:PORT, or
// HOST:PORT (both). A missing host means loopback, so a listener is only
// reachable from other machines when the address says so (0.0.0.0, [::]).
func ParseAddr(s string) ([]Addr, error) {
	networks := []string{"udp", "tcp"}
	rest := s
	if scheme, after, ok := strings.Cut(s, "://"); ok {
		switch scheme {
		case "udp", "tcp":
			networks, rest = []string{scheme}, after
		default:
			return nil, fmt.Errorf("syslog address %q: scheme %q (want udp:// or tcp://)", s, scheme)
		}
	}
	if !strings.Contains(rest, ":") {
		rest = ":" + rest // a bare port
	}
	host, port, err := net.SplitHostPort(rest)
	if err != nil {
		return nil, fmt.Errorf("syslog address %q: %w", s, err)
	}
	if port == "" || strings.Trim(port, "0123456789") != "" {
		return nil, fmt.Errorf("syslog address %q: no port number", s)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	var out []Addr
	for _, n := range networks {
		out = append(out, Addr{Network: n, Address: net.JoinHostPort(host, port)})
	}
	return out, nil
}

// Message is one received syslog message.
type Message struct {
	Text      string // as sent, <PRI> included, framing removed
	Peer      netip.Addr
	Transport string // "tcp" or "udp"
}

// Options tune a Server.
type Options struct {
	// MaxMessage is the longest message kept whole (default 64 KiB);
	// longer ones are cut and counted.
	MaxMessage int
	// MaxConns bounds concurrent TCP connections (default 1024); more are
	// refused and counted.
	MaxConns int
	// DrainTimeout is how long, at shutdown, connections are still read
	// for what their senders already sent (default 200ms).
	DrainTimeout time.Duration
	// UDPBuffer is the socket receive buffer asked for (default 8 MiB; the
	// kernel may grant less), which absorbs bursts.
	UDPBuffer int
	Logger    *slog.Logger
}

// Stats counts what a Server received and lost. Fields are read with
// atomic loads while it runs.
type Stats struct {
	Messages      atomic.Int64
	Truncated     atomic.Int64
	FramingErrors atomic.Int64 // TCP connections closed on a bad octet count
	UDPDropped    atomic.Int64 // datagrams the receiver had no room for
	KernelDropped atomic.Int64 // datagrams the kernel dropped (Linux reports them)
	Refused       atomic.Int64 // connections over MaxConns
	Conns         atomic.Int64 // open TCP connections
}

// Server listens on its addresses.
type Server struct {
	opt   Options
	log   *slog.Logger
	tcp   []net.Listener
	udp   []*net.UDPConn
	Stats Stats
}

// Listen binds every address, so that a port in use is an error at start
// and port 0 is resolved (see Addrs).
func Listen(addrs []Addr, opt Options) (*Server, error) {
	if opt.MaxMessage <= 0 {
		opt.MaxMessage = 64 << 10
	}
	if opt.MaxConns <= 0 {
		opt.MaxConns = 1024
	}
	if opt.DrainTimeout <= 0 {
		opt.DrainTimeout = 200 * time.Millisecond
	}
	if opt.UDPBuffer <= 0 {
		opt.UDPBuffer = 8 << 20
	}
	s := &Server{opt: opt, log: opt.Logger}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	for _, a := range addrs {
		switch a.Network {
		case "tcp":
			l, err := net.Listen("tcp", a.Address)
			if err != nil {
				s.close()
				return nil, fmt.Errorf("syslog: %w", err)
			}
			s.tcp = append(s.tcp, l)
		case "udp":
			ua, err := net.ResolveUDPAddr("udp", a.Address)
			if err != nil {
				s.close()
				return nil, fmt.Errorf("syslog: %w", err)
			}
			c, err := net.ListenUDP("udp", ua)
			if err != nil {
				s.close()
				return nil, fmt.Errorf("syslog: %w", err)
			}
			c.SetReadBuffer(opt.UDPBuffer)
			watchKernelDrops(c)
			s.udp = append(s.udp, c)
		default:
			s.close()
			return nil, fmt.Errorf("syslog: network %q", a.Network)
		}
	}
	return s, nil
}

// Addrs are the bound addresses, as "tcp://127.0.0.1:5514".
func (s *Server) Addrs() []string {
	var out []string
	for _, l := range s.tcp {
		out = append(out, "tcp://"+l.Addr().String())
	}
	for _, c := range s.udp {
		out = append(out, "udp://"+c.LocalAddr().String())
	}
	return out
}

func (s *Server) close() {
	for _, l := range s.tcp {
		l.Close()
	}
	for _, c := range s.udp {
		c.Close()
	}
}

// Serve receives until ctx is done, then stops accepting, reads for
// DrainTimeout what connections already sent, and returns once every
// reader has stopped. TCP messages go to deliver, which may block (that is
// the back-pressure); UDP messages go to offer, which must not block and
// reports whether it took the message.
func (s *Server) Serve(ctx context.Context, deliver func(Message), offer func(Message) bool) {
	var wg sync.WaitGroup
	conns := &connSet{m: map[net.Conn]bool{}}
	for _, l := range s.tcp {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.accept(l, conns, &wg, deliver)
		}()
	}
	for _, c := range s.udp {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.readUDP(c, offer)
		}()
	}
	<-ctx.Done()
	for _, l := range s.tcp {
		l.Close()
	}
	conns.drain(time.Now().Add(s.opt.DrainTimeout))
	// A datagram already queued in the socket is read too.
	for _, c := range s.udp {
		c.SetReadDeadline(time.Now().Add(s.opt.DrainTimeout))
	}
	wg.Wait()
	for _, c := range s.udp {
		c.Close()
	}
}

// connSet tracks open connections so shutdown can bound their reading.
type connSet struct {
	mu       sync.Mutex
	m        map[net.Conn]bool
	deadline time.Time
}

func (cs *connSet) add(c net.Conn) bool {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if !cs.deadline.IsZero() {
		return false
	}
	cs.m[c] = true
	return true
}

func (cs *connSet) remove(c net.Conn) {
	cs.mu.Lock()
	delete(cs.m, c)
	cs.mu.Unlock()
}

func (cs *connSet) drain(deadline time.Time) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	cs.deadline = deadline
	for c := range cs.m {
		c.SetReadDeadline(deadline)
	}
}

// acceptBackoff bounds the pause after a failed accept.
const acceptBackoff = time.Second

func (s *Server) accept(l net.Listener, conns *connSet, wg *sync.WaitGroup, deliver func(Message)) {
	var pause time.Duration
	for {
		c, err := l.Accept()
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			// Out of file descriptors (EMFILE), or the like: it passes
			// once connections close, so the listener waits and tries
			// again rather than stop taking connections for good.
			pause = min(max(2*pause, 5*time.Millisecond), acceptBackoff)
			s.log.Warn("syslog: accept failed; retrying", "err", err, "in", pause)
			time.Sleep(pause)
			continue
		}
		pause = 0
		if s.Stats.Conns.Load() >= int64(s.opt.MaxConns) || !conns.add(c) {
			s.Stats.Refused.Add(1)
			c.Close()
			continue
		}
		s.Stats.Conns.Add(1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer s.Stats.Conns.Add(-1)
			defer conns.remove(c)
			defer c.Close()
			s.readTCP(c, deliver)
		}()
	}
}

func (s *Server) readTCP(c net.Conn, deliver func(Message)) {
	peer := peerAddr(c.RemoteAddr())
	d := NewDeframer(c, s.opt.MaxMessage)
	before := 0
	for {
		msg, err := d.Next()
		if n := d.Truncated(); n > before {
			s.Stats.Truncated.Add(int64(n - before))
			before = n
		}
		if len(msg) > 0 {
			s.Stats.Messages.Add(1)
			deliver(Message{Text: string(msg), Peer: peer, Transport: "tcp"})
		}
		switch {
		case err == nil:
			continue
		case errors.Is(err, ErrFraming):
			s.Stats.FramingErrors.Add(1)
			s.log.Warn("syslog: closing a connection with a bad octet count", "peer", peer)
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed), isTimeout(err):
		default:
			s.log.Warn("syslog: read", "peer", peer, "err", err)
		}
		return
	}
}

func (s *Server) readUDP(c *net.UDPConn, offer func(Message) bool) {
	buf := make([]byte, 65536)
	oob := make([]byte, 128)
	var kernelSeen uint32
	for {
		n, oobn, _, from, err := c.ReadMsgUDPAddrPort(buf, oob)
		if err != nil {
			if !errors.Is(err, net.ErrClosed) && !isTimeout(err) {
				s.log.Warn("syslog: udp read", "err", err)
			}
			return
		}
		if dropped, ok := kernelDrops(oob[:oobn]); ok && dropped != kernelSeen {
			s.Stats.KernelDropped.Add(int64(dropped - kernelSeen))
			kernelSeen = dropped
		}
		msg := trimEnd(buf[:n])
		if len(msg) == 0 {
			continue
		}
		if len(msg) > s.opt.MaxMessage {
			msg = msg[:s.opt.MaxMessage]
			s.Stats.Truncated.Add(1)
		}
		s.Stats.Messages.Add(1)
		if !offer(Message{Text: string(msg), Peer: from.Addr().Unmap(), Transport: "udp"}) {
			s.Stats.UDPDropped.Add(1)
		}
	}
}

func peerAddr(a net.Addr) netip.Addr {
	if ap, err := netip.ParseAddrPort(a.String()); err == nil {
		return ap.Addr().Unmap()
	}
	return netip.Addr{}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
