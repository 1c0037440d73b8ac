package fat

import (
	"errors"
	"io"

	"github.com/snapwatch/snapwatch/internal/filesystem"
)

// geometry is what FAT and exFAT share: a cluster heap of equal clusters numbered from 2.
type geometry struct {
	r           io.ReaderAt
	size        int64  // bytes of the volume we can read
	fsName      string // "fat12", "fat16", "fat32", "exfat": the FS field of every CorruptError
	sectorSize  int64
	clusterSize int64
	heapOff     int64  // volume offset of cluster 2
	clusters    uint32 // number of clusters in the heap: valid numbers are 2..clusters+1
}

// lastCluster is the highest valid cluster number.
func (g *geometry) lastCluster() uint32 { return g.clusters + 1 }

func (g *geometry) validCluster(c uint32) bool { return c >= 2 && c <= g.lastCluster() }

// clusterOff is the volume offset of a valid cluster.
func (g *geometry) clusterOff(c uint32) int64 { return g.heapOff + int64(c-2)*g.clusterSize }

// heapEnd is the volume offset just past the last cluster.
func (g *geometry) heapEnd() int64 { return g.heapOff + int64(g.clusters)*g.clusterSize }

func (g *geometry) corrupt(what, reason string, args ...any) error {
	return filesystem.Corrupt(g.fsName, what, reason, args...)
}

// readFull reads len(p) bytes at off, or fails naming what it was reading. A read that would run
// past the end of the volume (a truncated image, or an offset from a hostile structure) is
// reported as such without touching the reader.
func (g *geometry) readFull(p []byte, off int64, what string) error {
	if off < 0 || off > g.size || int64(len(p)) > g.size-off {
		return g.corrupt(what, "bytes 0x%x..0x%x lie past the end of the volume (0x%x bytes)", off, off+int64(len(p)), g.size)
	}
	n, err := g.r.ReadAt(p, off)
	if n == len(p) {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return err
}
