package ntfs

import (
	"cmp"
	"encoding/binary"
	"fmt"
)

// upcaseEntries is the size of the $UpCase table: one upper-case UTF-16 unit per unit.
const upcaseEntries = 1 << 16

// loadUpcase reads $UpCase, the table the volume collates names with.
func (f *FS) loadUpcase() ([]uint16, error) {
	n, err := f.node(upcaseRecord)
	if err != nil {
		return nil, err
	}
	s, err := f.stream(n, attrData, "")
	if err != nil {
		return nil, err
	}
	if s.size != 2*upcaseEntries {
		return nil, corrupt(s.what, "$UpCase is %d bytes, want %d", s.size, 2*upcaseEntries)
	}
	buf := make([]byte, s.size)
	if k, err := s.ReadAt(buf, 0); k < len(buf) {
		return nil, fmt.Errorf("ntfs: %s: %w", s.what, err)
	}
	table := make([]uint16, upcaseEntries)
	for i := range table {
		table[i] = binary.LittleEndian.Uint16(buf[2*i:])
	}
	return table, nil
}

// collate compares a name with a UTF-16LE key the way $I30 orders them: unit by unit after
// upper-casing, shorter first on a common prefix.
func collate(upcase []uint16, name []uint16, key []byte) int {
	k := len(key) / 2
	for i := 0; i < len(name) && i < k; i++ {
		a := upcase[name[i]]
		b := upcase[binary.LittleEndian.Uint16(key[2*i:])]
		if a != b {
			if a < b {
				return -1
			}
			return 1
		}
	}
	return cmp.Compare(len(name), k)
}
