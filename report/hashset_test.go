package report

import (
	"math/rand/v2"
	"testing"
)

func TestHashSet(t *testing.T) {
	var s hashSet
	rng := rand.New(rand.NewPCG(3, 4))
	seen := map[uint64]bool{}
	// Small values collide in the low bits that pick a slot, and 0 and 1
	// are one entry: the probing and the empty-slot marker both get tried.
	for i := range 50_000 {
		h := rng.Uint64()
		if i%3 == 0 {
			h = uint64(rng.IntN(2000)) << 20
		}
		want := !seen[h]
		if h <= 1 {
			want = !seen[0] && !seen[1]
		}
		if got := s.add(h); got != want {
			t.Fatalf("add(%#x) = %v, want %v (after %d adds)", h, got, want, i)
		}
		seen[h] = true
	}
	if s.n*4 > len(s.slots)*3 {
		t.Errorf("%d entries in %d slots: fuller than 3/4", s.n, len(s.slots))
	}
	for h := range seen {
		if s.add(h) {
			t.Fatalf("add(%#x) again = true", h)
		}
	}
}
