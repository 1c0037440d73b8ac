package fat

import (
	"sync"
)

// claims makes sure no cluster is read as part of two different files or directories.
//
// In a sound volume every cluster belongs to at most one chain. A hostile (or badly damaged) one
// can point many directory entries at the same clusters, or at chains that join; a walker would
// then follow and read those clusters once per entry, and entries × volume size is quadratic:
// tens of terabytes from a 64 MiB image. So the first file or directory whose chain is followed
// owns its clusters, and a later, different one that runs into them is reported as
// cross-linked, having walked no further than the first shared cluster. In all, chain walking
// then costs about one step per cluster of the volume plus one per directory entry.
//
// The cost is one bit per cluster (allocated on first use: 32 MiB for the largest FAT32) and one
// map entry per file or directory followed.
type claims struct {
	mu    sync.RWMutex
	bits  []uint64
	owner map[uint32]uint64 // first cluster of each claimed chain -> the id that owns it
}

// ownerOf says who owns the chain starting at first: mine when id does (the chain was walked
// before and may be walked again without checks), other when another id does.
func (c *claims) ownerOf(first uint32, id uint64) (mine bool, other uint64, taken bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	owner, ok := c.owner[first]
	if !ok {
		return false, 0, false
	}
	return owner == id, owner, owner != id
}

// isTaken reports whether cluster k belongs to a chain already claimed.
func (c *claims) isTaken(k uint32) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.bits != nil && c.bits[k/64]&(1<<(k%64)) != 0
}

// take gives the clusters of runs to id, or reports a cluster that another chain took first
// (between the walk and now, when walks run in parallel).
func (c *claims) take(g *geometry, id uint64, runs []run) (conflict uint32, ok bool) {
	if len(runs) == 0 {
		return 0, true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	first := runs[0].start
	if owner, seen := c.owner[first]; seen {
		return first, owner == id
	}
	if c.bits == nil {
		c.bits = make([]uint64, (uint64(g.lastCluster())+64)/64)
		c.owner = map[uint32]uint64{}
	}
	for _, r := range runs {
		for k := uint64(r.start); k < uint64(r.start)+uint64(r.count); k++ {
			if c.bits[k/64]&(1<<(k%64)) != 0 {
				return uint32(k), false
			}
		}
	}
	for _, r := range runs {
		for k := uint64(r.start); k < uint64(r.start)+uint64(r.count); k++ {
			c.bits[k/64] |= 1 << (k % 64)
		}
	}
	c.owner[first] = id
	return 0, true
}
