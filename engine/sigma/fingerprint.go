package sigma

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"

	"gopkg.in/yaml.v3"
)

// fingerprint hashes what decides a rule's matches, ignoring comments,
// layout, quoting style and metadata such as title or level, so that a
// reload can tell a rule whose detection changed from one that was only
// re-described. Each node contributes its kind, tag and value, and its
// children in order; aliases are followed.
func fingerprint(parts ...*yaml.Node) string {
	h := sha256.New()
	for _, n := range parts {
		hashNode(h, n, 0)
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

func hashNode(h hash.Hash, n *yaml.Node, depth int) {
	n = resolve(n)
	if n == nil || depth > 100 {
		h.Write([]byte{0})
		return
	}
	var buf [9]byte
	buf[0] = byte(n.Kind)
	binary.LittleEndian.PutUint64(buf[1:], uint64(len(n.Content)))
	h.Write(buf[:])
	writeString(h, n.ShortTag())
	writeString(h, n.Value)
	for _, c := range n.Content {
		hashNode(h, c, depth+1)
	}
}

// writeString writes s with its length, so that concatenations of
// different strings never hash alike.
func writeString(h hash.Hash, s string) {
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(s)))
	h.Write(n[:])
	h.Write([]byte(s))
}
