package unpack

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/ulikunitz/xz/lzma"
)

// xzReader decodes .xz files: one or more streams of LZMA2 blocks, with padding between streams.
//
// The container is parsed here and only the LZMA2 chunks go to ulikunitz/xz's decoder, through
// xzSource, which splices the blocks of a file into one chunk sequence. The point is memory:
// ulikunitz's own xz reader allocates a fresh dictionary for every block, of whatever size the
// block header claims (up to 4 GiB), so a file of many tiny blocks each claiming a large
// dictionary costs a large zeroed allocation per few bytes of input. Here the dictionary is
// capped at maxXZDict and allocated again only when a block needs a larger one than the last.
// Integrity checks (CRC32/CRC64/SHA-256) are skipped, not verified: a scanner has no use for
// them and a corrupt block fails in the LZMA2 decoder anyway.
type xzReader struct {
	src *xzSource
	lz  *lzma.Reader2
	err error
}

func newXZReader(r io.Reader) *xzReader {
	br, ok := r.(xzByteReader)
	if !ok {
		br = bufio.NewReader(r)
	}
	return &xzReader{src: &xzSource{r: br}}
}

// xzByteReader is what the container parser reads from: bufio.Reader is one.
type xzByteReader interface {
	io.Reader
	io.ByteScanner
}

func (x *xzReader) Read(p []byte) (int, error) {
	for x.err == nil {
		if x.lz == nil {
			dict, err := x.src.nextDecoder()
			if err != nil {
				x.err = err
				break
			}
			if x.lz, err = (lzma.Reader2Config{DictCap: dict}).NewReader2(x.src); err != nil {
				x.err = err
				break
			}
		}
		n, err := x.lz.Read(p)
		if err == io.EOF {
			x.lz = nil // the chunk sequence ended: a block needing a larger dictionary, or the end
			if n > 0 {
				return n, nil
			}
			continue
		}
		if err != nil {
			x.err = err
		}
		return n, err
	}
	return 0, x.err
}

// xzSource states.
const (
	xzStart   = iota // before the first stream header
	xzCtrl           // at an LZMA2 chunk's control byte
	xzHeader         // inside a chunk header
	xzData           // inside a chunk's data
	xzRestart        // a block header was read whose dictionary is larger than the decoder's
	xzDone           // no more blocks
)

// xzSource hands the LZMA2 chunks of all blocks to the decoder as one sequence. At a block's end
// chunk it reads the block's padding and check, the next block header, and the index, footer
// and padding between streams, and passes the decoder the next block's chunks as if they
// followed; it lets the end chunk through only when the decoder must be replaced (xzRestart)
// or the input is over (xzDone).
type xzSource struct {
	r        xzByteReader
	state    int
	dict     int // dictionary the current block needs, capped at maxXZDict
	decDict  int // dictionary of the decoder now reading
	check    int // bytes of the integrity check after each block of this stream
	flags    [2]byte
	blocks   int64 // blocks seen in this stream, which its index must list
	blockLen int64 // bytes of the current block so far, header included, for its padding
	hdr      []byte
	left     int // bytes left in the current chunk header or data
}

// nextDecoder positions the source at a block's first chunk and says the dictionary the
// decoder for it needs; io.EOF when no block is left.
func (s *xzSource) nextDecoder() (int, error) {
	switch s.state {
	case xzStart:
		if err := s.streamHeader(); err != nil {
			return 0, err
		}
		if err := s.advance(); err != nil {
			return 0, err
		}
	case xzDone:
		return 0, io.EOF
	}
	if s.state != xzRestart && s.state != xzCtrl {
		return 0, errors.New("decoder ended inside a block")
	}
	s.state = xzCtrl
	s.decDict = s.dict
	return s.dict, nil
}

func (s *xzSource) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	switch s.state {
	case xzCtrl:
		c, err := s.byte()
		if err != nil {
			return 0, err
		}
		if c == 0 { // end of the block's chunks
			if err := s.endBlock(); err != nil {
				return 0, err
			}
			if err := s.advance(); err != nil {
				return 0, err
			}
			if s.state == xzCtrl && s.dict > s.decDict {
				s.state = xzRestart
			}
			if s.state == xzCtrl {
				return s.Read(p) // splice: the next block's first control byte
			}
			p[0] = 0
			return 1, nil
		}
		switch {
		case c == 1 || c == 2: // uncompressed chunk: 2 bytes of size follow
			s.left = 2
		case c >= 0x80: // LZMA chunk: sizes, and properties when c ≥ 0xC0
			s.left = 4
			if c >= 0xc0 {
				s.left = 5
			}
		default:
			return 0, fmt.Errorf("invalid LZMA2 control byte %#x", c)
		}
		s.hdr = append(s.hdr[:0], c)
		s.state = xzHeader
		p[0] = c
		return 1, nil
	case xzHeader, xzData:
		if len(p) > s.left {
			p = p[:s.left]
		}
		n, err := s.r.Read(p)
		s.blockLen += int64(n)
		s.left -= n
		if s.state == xzHeader {
			s.hdr = append(s.hdr, p[:n]...)
			if s.left == 0 {
				s.state, s.left = xzData, chunkDataLen(s.hdr)
			}
		} else if s.left == 0 {
			s.state = xzCtrl
		}
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return n, err
	}
	return 0, io.EOF
}

// chunkDataLen is the length of the data after an LZMA2 chunk header.
func chunkDataLen(h []byte) int {
	if h[0] < 0x80 {
		return int(binary.BigEndian.Uint16(h[1:3])) + 1 // uncompressed size
	}
	return int(binary.BigEndian.Uint16(h[3:5])) + 1 // compressed size
}

func (s *xzSource) byte() (byte, error) {
	c, err := s.r.ReadByte()
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	s.blockLen++
	return c, err
}

func (s *xzSource) skip(n int64) error {
	_, err := io.CopyN(io.Discard, s.r, n)
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return err
}
