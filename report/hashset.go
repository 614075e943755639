package report

// hashSet is a set of 64-bit hashes: open addressing with linear probing
// over a power-of-two table kept at most 3/4 full, 11 to 21 bytes an entry
// where a map[uint64]struct{} takes about 32. The report keeps one entry
// per message of its whole input, so this is most of what it holds per
// message.
type hashSet struct {
	slots []uint64 // 0 marks an empty slot
	n     int
}

// add puts h in the set and reports whether it was not there yet. The hash
// 0 is taken as 1, as 0 marks empty slots.
func (s *hashSet) add(h uint64) bool {
	if h == 0 {
		h = 1
	}
	if (s.n+1)*4 > len(s.slots)*3 {
		s.grow()
	}
	mask := uint64(len(s.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		switch s.slots[i] {
		case 0:
			s.slots[i] = h
			s.n++
			return true
		case h:
			return false
		}
	}
}

// grow doubles the table and puts the hashes back.
func (s *hashSet) grow() {
	old := s.slots
	s.slots = make([]uint64, max(2*len(old), 1024))
	s.n = 0
	for _, h := range old {
		if h != 0 {
			s.add(h)
		}
	}
}
