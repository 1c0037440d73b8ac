package ntfs

import (
	"fmt"
	"sync"
)

// bitmapChunk is how much of $Bitmap is read at a time (512 Ki clusters).
const bitmapChunk = 64 << 10

// bitmapHolder loads the $Bitmap stream once, on first use.
type bitmapHolder struct {
	once sync.Once
	s    *stream
	err  error
}

// bitmap returns $Bitmap, one bit per cluster, set when the cluster is allocated.
func (f *FS) bitmap() (*stream, error) {
	f.bm.once.Do(func() {
		n, err := f.node(bitmapRecord)
		if err != nil {
			f.bm.err = err
			return
		}
		f.bm.s, f.bm.err = f.stream(n, attrData, "")
		if f.bm.err == nil && f.bm.s.size < (f.geo.totalClusters+7)/8 {
			// Clusters past its end are taken as allocated, so nothing is invented as free.
			f.bm.err = corrupt("$Bitmap", "%d bytes cannot map %d clusters", f.bm.s.size, f.geo.totalClusters)
		}
	})
	return f.bm.s, f.bm.err
}

// readableClusters is the number of clusters the image actually holds: a boot sector may claim a
// volume larger than the image (a truncated snapshot, or a hostile one), and the residual scans
// stop at what can be read, so their work is bounded by the image, not by the claim.
func (f *FS) readableClusters() int64 {
	return min(f.geo.totalClusters, (f.size+f.geo.clusterSize-1)/f.geo.clusterSize)
}

// countFree counts the clusters of lcn..lcn+n-1 that $Bitmap marks free; clusters past the image
// do not count.
func (f *FS) countFree(bm *stream, lcn, n int64) (int64, error) {
	limit := f.readableClusters()
	if lcn < 0 || n <= 0 || lcn >= limit {
		return 0, nil
	}
	n = min(n, limit-lcn)
	free := int64(0)
	buf := make([]byte, min(bitmapChunk, (n+7)/8+1))
	for n > 0 {
		first := lcn / 8
		k, _ := bm.ReadAt(buf, first)
		if k == 0 {
			return free, fmt.Errorf("ntfs: $Bitmap: cannot read byte %d", first)
		}
		bit := lcn % 8
		for i := 0; i < k && n > 0; i++ {
			b := buf[i]
			for ; bit < 8 && n > 0; bit++ {
				if b&(1<<bit) == 0 {
					free++
				}
				lcn++
				n--
			}
			bit = 0
		}
	}
	return free, nil
}
