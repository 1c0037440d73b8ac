package ingest

import (
	"hash/maphash"
)

// DefaultDedupSize is how many of the most recent event ids a Dedup is sure to remember by
// default: 2^18, which holds between 2^18 and 2^19 ids in at most 8 MiB — 45 minutes of a busy
// account at 100 events/s, and small enough to stay mostly in cache (lookups are memory-bound:
// at 2^20 the tables took 10 % of the ingest CPU on the benchmark corpus).
const DefaultDedupSize = 1 << 18

// NoDedup turns duplicate dropping off (a Dedup of size 0).
var NoDedup = NewDedup(0)

// Dedup drops repeated event ids. It remembers, exactly, at least the n most recent distinct
// ids (and at most 2n): ids are kept as 64-bit hashes (seeded per process, so ids cannot be
// chosen to collide; with 2^19 ids held, a million events have odds of about 3·10⁻⁸ of one
// false "seen") in two
// generations of n; when the current one is full the older is dropped whole. Duplicates come
// from re-deliveries and double shipping minutes apart, well within 2^20 events for most
// accounts. A Bloom filter with a longer reach was rejected because its false positives would
// silently drop real events; a Go map was rejected for cost (15 % of the ingest CPU on a million
// events, against about 10 % for these open-addressing tables at the same size).
// A Dedup is not safe for concurrent use.
type Dedup struct {
	seed      maphash.Seed
	n         int
	cur, old  table
	cloudSalt map[string]uint64
}

// table is an open-addressing hash set of non-zero uint64, linear probing, load at most 1/2.
type table struct {
	slots []uint64
	count int
}

func (t *table) has(k uint64) bool {
	if len(t.slots) == 0 {
		return false
	}
	mask := uint64(len(t.slots) - 1)
	for i := k & mask; ; i = (i + 1) & mask {
		switch t.slots[i] {
		case k:
			return true
		case 0:
			return false
		}
	}
}

func (t *table) add(k uint64) {
	if 2*(t.count+1) > len(t.slots) {
		t.grow()
	}
	mask := uint64(len(t.slots) - 1)
	for i := k & mask; ; i = (i + 1) & mask {
		switch t.slots[i] {
		case k:
			return
		case 0:
			t.slots[i] = k
			t.count++
			return
		}
	}
}

func (t *table) grow() {
	old := t.slots
	t.slots = make([]uint64, max(1024, 2*len(old)))
	t.count = 0
	for _, k := range old {
		if k != 0 {
			t.add(k)
		}
	}
}

func (t *table) reset() {
	clear(t.slots)
	t.count = 0
}

// NewDedup returns a Dedup remembering at least the n most recent ids.
func NewDedup(n int) *Dedup {
	return &Dedup{seed: maphash.MakeSeed(), n: n, cloudSalt: map[string]uint64{}}
}

// Seen records cloud/id and reports whether it was already there.
func (d *Dedup) Seen(cloud, id string) bool {
	if d.n <= 0 {
		return false
	}
	salt, ok := d.cloudSalt[cloud]
	if !ok {
		salt = maphash.String(d.seed, cloud)*0x9E3779B97F4A7C15 | 1
		d.cloudSalt[cloud] = salt
	}
	k := maphash.String(d.seed, id) ^ salt
	if k == 0 {
		k = 1 // 0 marks an empty slot
	}
	if d.cur.has(k) {
		return true
	}
	seen := d.old.has(k)
	// Seen or not, the id goes into the current generation, so a third copy after the older
	// generation is dropped is still caught.
	d.cur.add(k)
	if d.cur.count >= d.n {
		d.old, d.cur = d.cur, d.old
		d.cur.reset()
	}
	return seen
}

// Len is the number of ids remembered.
func (d *Dedup) Len() int { return d.cur.count + d.old.count }
