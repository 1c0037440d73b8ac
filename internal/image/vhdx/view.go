package vhdx

import (
	"fmt"
	"io"
	"sort"
)

// view is the file as a replayed log leaves it, without writing to it: the raw bytes, with the
// log's zeroed ranges and written 4 KiB pages laid over them, extended to the size the log
// says. Without a log to replay it is the raw file.
type view struct {
	r       io.ReaderAt
	rawSize int64
	size    int64
	zeros   []byteRange      // sorted and merged
	pages   map[int64]logRef // by page index (file offset / 4 KiB)
}

// byteRange is [start, end) in the file.
type byteRange struct{ start, end int64 }

// logRef locates the replayed contents of one 4 KiB page: a data sector of the log holds its
// bytes 8 to 4091, the descriptor its first 8 and last 4 bytes.
type logRef struct {
	sector   int64 // file offset of the data sector
	leading  [8]byte
	trailing [4]byte
}

func rawView(r io.ReaderAt, size int64) *view { return &view{r: r, rawSize: size, size: size} }

// ReadAt reads the replayed file; past its end it returns io.EOF like a file.
func (v *view) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("vhdx: negative file offset %d", off)
	}
	if off >= v.size {
		return 0, io.EOF
	}
	n := int(min(int64(len(p)), v.size-off))
	raw := int(max(0, min(int64(n), v.rawSize-off)))
	if raw > 0 {
		if err := readFull(v.r, p[:raw], off); err != nil {
			return 0, err
		}
	}
	clear(p[raw:n]) // the log extended the file: its new bytes are zeros until written
	if len(v.zeros) > 0 || len(v.pages) > 0 {
		if err := v.overlay(p[:n], off); err != nil {
			return 0, err
		}
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// overlay applies the replayed log to p, read from off. Zeroed ranges go first: replay dropped
// every page written before a zeroing that covers it, so the pages left are newer.
func (v *view) overlay(p []byte, off int64) error {
	end := off + int64(len(p))
	i := sort.Search(len(v.zeros), func(i int) bool { return v.zeros[i].end > off })
	for ; i < len(v.zeros) && v.zeros[i].start < end; i++ {
		clear(p[max(v.zeros[i].start, off)-off : min(v.zeros[i].end, end)-off])
	}
	if len(v.pages) == 0 {
		return nil
	}
	var page [logSectorBytes]byte
	for pi := off / logSectorBytes; pi*logSectorBytes < end; pi++ {
		ref, ok := v.pages[pi]
		if !ok {
			continue
		}
		if err := readFull(v.r, page[:], ref.sector); err != nil {
			return fmt.Errorf("vhdx: reading log data sector at 0x%x: %w", ref.sector, err)
		}
		copy(page[:8], ref.leading[:])
		copy(page[logSectorBytes-4:], ref.trailing[:])
		start := pi * logSectorBytes
		copy(p[max(start, off)-off:min(start+logSectorBytes, end)-off], page[max(start, off)-start:])
	}
	return nil
}
