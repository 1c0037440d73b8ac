package target

import (
	"io"

	"github.com/snapwatch/snapwatch/internal/filesystem"
	"github.com/snapwatch/snapwatch/internal/image"
	"github.com/snapwatch/snapwatch/internal/volume"
)

// prefetchFunc returns a Mount.Prefetch that turns ranges of a volume into ranges of the disk
// sources beneath it (through partitions and LVM stripes) and hands them to those that prefetch;
// nil when none does, so that a scan of a local file pays nothing.
func prefetchFunc(vol io.ReaderAt) func([]filesystem.Range) {
	if !hasPrefetcher(vol) {
		return nil
	}
	return func(ranges []filesystem.Range) {
		var order []image.Prefetcher
		by := map[image.Prefetcher][]image.Range{}
		for _, rg := range ranges {
			volume.Resolve(vol, rg.Off, rg.Len, func(r io.ReaderAt, off, n int64) bool {
				if p, ok := r.(image.Prefetcher); ok {
					if _, seen := by[p]; !seen {
						order = append(order, p)
					}
					by[p] = append(by[p], image.Range{Off: off, Len: n})
				}
				return true
			})
		}
		for _, p := range order {
			p.Prefetch(by[p])
		}
	}
}

// hasPrefetcher probes where the first bytes of each part of a volume live; an LV over several
// disks is not a case snapwatch meets with EBS (one snapshot is one disk), so the start suffices.
func hasPrefetcher(vol io.ReaderAt) bool {
	found := false
	volume.Resolve(vol, 0, 1, func(r io.ReaderAt, _, _ int64) bool {
		_, found = r.(image.Prefetcher)
		return false
	})
	return found
}
