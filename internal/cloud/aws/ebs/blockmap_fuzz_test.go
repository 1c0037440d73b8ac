package ebs

import (
	"encoding/binary"
	"testing"
)

// Block lists come from the API in pages that may repeat or disorder blocks: whatever the
// order, the map must agree with a plain model of what was added (the first token of a block
// wins, as a relisting keeps the tokens it already had).
func FuzzBlockMap(f *testing.F) {
	f.Add([]byte{0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 1})
	f.Add([]byte{255, 255, 255, 255, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		m := newBlockMap()
		model := map[int64]string{}
		for k := 0; k+4 <= len(data) && k < 4*512; k += 4 {
			i := int64(binary.BigEndian.Uint32(data[k:]))
			tok := string(data[k : k+2])
			if _, ok := model[i]; !ok {
				model[i] = tok
			}
			m.add(i, tok)
		}
		m.finish()
		if m.count() != len(model) {
			t.Fatalf("count %d, model %d", m.count(), len(model))
		}
		for i, tok := range model {
			p := m.find(i)
			if p < 0 || m.token(p) != tok {
				t.Fatalf("block %d: position %d token %q, want %q", i, p, m.token(max(p, 0)), tok)
			}
			if m.next(i) != i {
				t.Fatalf("next(%d) = %d", i, m.next(i))
			}
		}
		for k := 1; k < m.count(); k++ {
			if m.idx[k-1] >= m.idx[k] {
				t.Fatalf("not strictly sorted at %d", k)
			}
		}
	})
}
