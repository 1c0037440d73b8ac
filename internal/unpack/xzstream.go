package unpack

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"

	"github.com/ulikunitz/xz/lzma"
)

// The .xz container around the LZMA2 chunks: stream header, block headers, block padding and
// check, index, stream footer, stream padding (xz-file-format-1.2.0).

var xzMagic = []byte("\xfd7zXZ\x00")

// streamHeader reads the 12-byte stream header (magic, flags, CRC32 of the flags).
func (s *xzSource) streamHeader() error {
	var h [12]byte
	if _, err := io.ReadFull(s.r, h[:]); err != nil {
		return fmt.Errorf("stream header: %w", err)
	}
	if !bytes.Equal(h[:6], xzMagic) {
		return errors.New("not an xz stream")
	}
	if crc32.ChecksumIEEE(h[6:8]) != binary.LittleEndian.Uint32(h[8:]) {
		return errors.New("stream header checksum mismatch")
	}
	if h[6] != 0 || h[7] > 0x0f {
		return fmt.Errorf("unsupported stream flags %#x %#x", h[6], h[7])
	}
	s.flags = [2]byte{h[6], h[7]}
	s.check = [16]int{0, 4, 4, 4, 8, 8, 8, 16, 16, 16, 32, 32, 32, 64, 64, 64}[h[7]]
	s.blocks = 0
	return nil
}

// endBlock reads what follows a block's end chunk: padding to a multiple of four, the check.
func (s *xzSource) endBlock() error {
	pad := (4 - s.blockLen%4) % 4
	for i := int64(0); i < pad; i++ {
		if c, err := s.r.ReadByte(); err != nil || c != 0 {
			return errors.New("bad block padding")
		}
	}
	return s.skip(int64(s.check))
}

// advance reads up to the next block header, across an index, a stream footer, stream padding
// and further streams; it leaves the state at xzCtrl with dict set, or at xzDone.
func (s *xzSource) advance() error {
	for {
		c, err := s.r.ReadByte()
		if err != nil {
			return io.ErrUnexpectedEOF
		}
		if c != 0 {
			s.blocks++
			return s.blockHeader(c)
		}
		if err := s.indexAndFooter(); err != nil {
			return err
		}
		more, err := s.nextStream()
		if err != nil || !more {
			s.state = xzDone
			return err
		}
	}
}

// blockHeader parses a block header whose first byte (its size) is size4 and sets the dictionary.
func (s *xzSource) blockHeader(size4 byte) error {
	h := make([]byte, (int(size4)+1)*4)
	h[0] = size4
	if _, err := io.ReadFull(s.r, h[1:]); err != nil {
		return fmt.Errorf("block header: %w", io.ErrUnexpectedEOF)
	}
	body, sum := h[:len(h)-4], binary.LittleEndian.Uint32(h[len(h)-4:])
	if crc32.ChecksumIEEE(body) != sum {
		return errors.New("block header checksum mismatch")
	}
	flags := body[1]
	if flags&0x3c != 0 {
		return fmt.Errorf("unsupported block flags %#x", flags)
	}
	rest := bytes.NewReader(body[2:])
	var usize int64 = -1
	if flags&0x40 != 0 {
		if _, err := binary.ReadUvarint(rest); err != nil {
			return errors.New("bad block compressed size")
		}
	}
	if flags&0x80 != 0 {
		v, err := binary.ReadUvarint(rest)
		if err != nil {
			return errors.New("bad block uncompressed size")
		}
		usize = int64(min(v, 1<<62))
	}
	filters := int(flags&3) + 1
	for i := 0; i < filters; i++ {
		id, err1 := binary.ReadUvarint(rest)
		n, err2 := binary.ReadUvarint(rest)
		if err1 != nil || err2 != nil || n > uint64(rest.Len()) {
			return errors.New("bad filter flags")
		}
		props := make([]byte, n)
		_, _ = rest.Read(props)
		if id != 0x21 {
			return fmt.Errorf("filter %#x (%s): %w", id, xzFilterName(id), ErrUnsupported)
		}
		if i != filters-1 || n != 1 || props[0] > 40 {
			return errors.New("bad LZMA2 filter properties")
		}
		s.dict = xzDictCap(props[0], usize)
	}
	s.blockLen = int64(len(h))
	s.state = xzCtrl
	return nil
}

// xzDictCap is the dictionary to give the decoder: what the block claims, but never more than
// maxXZDict nor more than the block's declared output (it can never reach further back). Data
// that really reaches further back than the cap fails in the decoder.
func xzDictCap(prop byte, usize int64) int {
	claim := int64(1<<32 - 1)
	if prop < 40 {
		claim = int64(2|prop&1) << (prop/2 + 11)
	}
	claim = min(claim, maxXZDict)
	if usize >= 0 {
		claim = min(claim, usize)
	}
	return int(max(claim, lzma.MinDictCap))
}

func xzFilterName(id uint64) string {
	names := map[uint64]string{3: "delta", 4: "x86 BCJ", 5: "PowerPC BCJ", 6: "IA-64 BCJ", 7: "ARM BCJ",
		8: "ARM-Thumb BCJ", 9: "SPARC BCJ", 0x0a: "ARM64 BCJ", 0x0b: "RISC-V BCJ"}
	if n, ok := names[id]; ok {
		return n
	}
	return "unknown"
}

// indexAndFooter skips a stream's index (its indicator byte already read) and checks the footer.
func (s *xzSource) indexAndFooter() error {
	cr := &countByteReader{r: s.r, n: 1}
	records, err := binary.ReadUvarint(cr)
	if err != nil {
		return fmt.Errorf("index: %w", io.ErrUnexpectedEOF)
	}
	if records != uint64(s.blocks) {
		return fmt.Errorf("index lists %d blocks, the stream has %d", records, s.blocks)
	}
	for i := uint64(0); i < 2*records; i++ {
		if _, err := binary.ReadUvarint(cr); err != nil {
			return errors.New("bad index record")
		}
	}
	if err := s.skip((4-cr.n%4)%4 + 4); err != nil { // padding, CRC32
		return err
	}
	var f [12]byte
	if _, err := io.ReadFull(s.r, f[:]); err != nil {
		return fmt.Errorf("stream footer: %w", io.ErrUnexpectedEOF)
	}
	if string(f[10:]) != "YZ" || f[8] != s.flags[0] || f[9] != s.flags[1] {
		return errors.New("bad stream footer")
	}
	return nil
}

// nextStream skips stream padding (zero bytes in fours) and reads the next stream's header;
// false at the end of the input.
func (s *xzSource) nextStream() (bool, error) {
	for {
		c, err := s.r.ReadByte()
		if err == io.EOF {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		if c == 0 {
			if err := s.skip(3); err != nil {
				return false, err
			}
			continue
		}
		if err := s.r.UnreadByte(); err != nil {
			return false, err
		}
		return true, s.streamHeader()
	}
}

// countByteReader counts the bytes of an index, whose padding depends on its length.
type countByteReader struct {
	r io.ByteReader
	n int64
}

func (c *countByteReader) ReadByte() (byte, error) {
	b, err := c.r.ReadByte()
	if err == nil {
		c.n++
	}
	return b, err
}
