package qcow2

import (
	"fmt"
	"io"
)

// ReadAt reads guest bytes at off. It returns io.EOF with the bytes before the virtual size
// when p runs past it. It reads from the file only the bytes asked for, plus the L2 table or
// the compressed cluster they lie in, and joins host-contiguous clusters into one read.
func (img *Image) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("qcow2: read at negative offset %d", off)
	}
	size := img.Size()
	if off >= size {
		return 0, io.EOF
	}
	var atEOF error
	if int64(len(p)) > size-off {
		p, atEOF = p[:size-off], io.EOF
	}

	// pending is the run of extents mapped but not yet read; it grows while the next extent
	// comes from the same place, so a sequential read of contiguous clusters is one read.
	var pending extent
	pendingAt := 0 // index in p of pending's first byte
	done := 0      // bytes of p already mapped (pending's end)
	for done < len(p) {
		e, err := img.mapAt(off+int64(done), int64(len(p)-done))
		if err != nil {
			if ferr := img.fill(p[pendingAt:done], off+int64(pendingAt), pending); ferr != nil {
				return pendingAt, ferr
			}
			return done, err
		}
		if e.length <= 0 { // cannot happen: mapAt always advances; guard the loop anyway
			return pendingAt, fmt.Errorf("qcow2: internal error: empty extent at %#x", off+int64(done))
		}
		if pending.length > 0 && mergeable(pending, e) {
			pending.length += e.length
		} else {
			if err := img.fill(p[pendingAt:done], off+int64(pendingAt), pending); err != nil {
				return pendingAt, err
			}
			pending, pendingAt = e, done
		}
		done += int(e.length)
	}
	if err := img.fill(p[pendingAt:done], off+int64(pendingAt), pending); err != nil {
		return pendingAt, err
	}
	return len(p), atEOF
}

// mergeable reports whether next continues run without another read.
func mergeable(run, next extent) bool {
	if run.kind != next.kind {
		return false
	}
	switch run.kind {
	case extentData:
		return run.host+run.length == next.host
	case extentZero, extentBacking:
		return true
	}
	return false // each compressed cluster is its own
}

// fill puts the guest bytes of extent e, which start at guest offset guest, into buf.
func (img *Image) fill(buf []byte, guest int64, e extent) error {
	if len(buf) == 0 {
		return nil
	}
	switch e.kind {
	case extentData:
		return img.readHost(buf, e.host)
	case extentZero:
		clear(buf)
	case extentBacking:
		return img.readBacking(buf, guest)
	case extentCompressed:
		if e.within == 0 && int64(len(buf)) == img.h.clusterSize() {
			// A read of the whole cluster decompresses straight into the caller's buffer and
			// leaves the cache to the small reads that come back for more of a cluster.
			if c, ok := img.cache.Peek(cacheKey{cacheCompressed, uint64(e.host)}); ok {
				copy(buf, c)
				return nil
			}
			return img.decompressInto(buf, e.host, e.csize)
		}
		c, err := img.compressedCluster(e.host, e.csize)
		if err != nil {
			return err
		}
		copy(buf, c[e.within:])
	}
	return nil
}

// readHost reads host bytes at off. The part of a cluster past the end of the file reads as
// zeros, as in QEMU: the last cluster of a file need not be written out in full.
func (img *Image) readHost(buf []byte, off int64) error {
	avail := min(int64(len(buf)), img.fileSize-off)
	if avail > 0 {
		if n, err := img.r.ReadAt(buf[:avail], off); int64(n) < avail {
			return fmt.Errorf("qcow2: reading %d bytes of cluster data at %#x: %w", avail, off, orShort(err))
		}
	} else {
		avail = 0
	}
	clear(buf[avail:])
	return nil
}

// readBacking reads unallocated guest bytes from the backing image: zeros past its end, and
// all zeros when there is none.
func (img *Image) readBacking(buf []byte, guest int64) error {
	avail := int64(0)
	if img.backing != nil && guest < img.backingSize {
		avail = min(int64(len(buf)), img.backingSize-guest)
		n, err := img.backing.ReadAt(buf[:avail], guest)
		if int64(n) < avail {
			return fmt.Errorf("qcow2: reading backing file %q at %#x: %w", sanitize(img.h.backingName), guest, orShort(err))
		}
	}
	clear(buf[avail:])
	return nil
}
