package postfixgen

import (
	"math/rand/v2"
	"strconv"
	"time"
)

// host is one mail server writing to the log.
type host struct {
	index int
	name  string
	ip    string // its public address, where postscreen listens
	// longIDs: enable_long_queue_ids = yes, as on newer installations;
	// the others write short hexadecimal ids.
	longIDs bool
	// Process ids: the resident daemons keep theirs, the per-session ones
	// get the next of a counter that wraps like the kernel's.
	qmgr, postscreen, anvil, amavis int
	nextPID                         int
	cleanups                        [4]int
	msgs                            int // queue ids handed out
	amavisSeq                       int
	nextStats                       time.Time // anvil/scache statistics
}

func newHost(i int, rng *rand.Rand) *host {
	h := &host{
		index:   i,
		name:    "mx" + strconv.Itoa(i+1),
		ip:      "192.0.2." + strconv.Itoa(10+i),
		longIDs: i%2 == 1,
		nextPID: 2000 + rng.IntN(20000),
	}
	h.qmgr, h.postscreen, h.anvil, h.amavis = h.pid(), h.pid(), h.pid(), h.pid()
	for j := range h.cleanups {
		h.cleanups[j] = h.pid()
	}
	return h
}

// pid returns a fresh process id.
func (h *host) pid() int {
	h.nextPID += 1 + h.nextPID%7
	if h.nextPID > 4_000_000 {
		h.nextPID = 1000
	}
	return h.nextPID
}

// queueID returns a new queue id for a message queued at t, in the host's
// style. Short ids are five hex digits of the microseconds and five of an
// inode-like counter; long ids encode the time in seconds and microseconds
// in Postfix's vowel-free base 52, then 'z' and the counter. The counter
// carries the host's index, so two hosts never hand out the same id.
func (h *host) queueID(t time.Time) string {
	h.msgs++
	inode := h.index<<17 | h.msgs&(1<<17-1)
	usec := t.Nanosecond() / 1000
	if !h.longIDs {
		const hex = "0123456789ABCDEF"
		var b [10]byte
		v := uint64(usec&0xFFFFF)<<20 | uint64(inode&0xFFFFF)
		for i := len(b) - 1; i >= 0; i-- {
			b[i] = hex[v&15]
			v >>= 4
		}
		return string(b[:])
	}
	b := make([]byte, 0, 16)
	b = appendBase52(b, uint64(t.Unix()), 6)
	b = appendBase52(b, uint64(usec), 4)
	b = append(b, 'z')
	b = appendBase52(b, uint64(inode), 4)
	return string(b)
}

// appendBase52 appends v in width digits of Postfix's long queue id
// alphabet (digits and consonants).
func appendBase52(b []byte, v uint64, width int) []byte {
	const digits = "0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz"
	var d [16]byte
	for i := width - 1; i >= 0; i-- {
		d[i] = digits[v%uint64(len(digits))]
		v /= uint64(len(digits))
	}
	return append(b, d[:width]...)
}

// cleanup returns the pid of one of the host's cleanup processes.
func (h *host) cleanup(rng *rand.Rand) int { return h.cleanups[rng.IntN(len(h.cleanups))] }
