package unpack

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"io"
	"path/filepath"
	"testing"
	"time"
)

// xzFile writes an xz stream by hand: one block per chunk of data, each an uncompressed LZMA2
// chunk, with the dictionary property given and, if withSize, the uncompressed size in the
// block header. Checks are "none".
func xzFile(blocks [][]byte, dictProp byte, withSize bool) []byte {
	var b bytes.Buffer
	b.WriteString("\xfd7zXZ\x00\x00\x00")
	binary.Write(&b, binary.LittleEndian, crc32.ChecksumIEEE([]byte{0, 0}))
	var index [][2]uint64
	for _, data := range blocks {
		h := []byte{0, 0}
		if withSize {
			h[1] = 0x80
			h = binary.AppendUvarint(h, uint64(len(data)))
		}
		h = append(h, 0x21, 1, dictProp)
		for (len(h)+4)%4 != 0 {
			h = append(h, 0)
		}
		h[0] = byte((len(h)+4)/4 - 1)
		h = binary.LittleEndian.AppendUint32(h, crc32.ChecksumIEEE(h))
		start := b.Len()
		b.Write(h)
		b.Write([]byte{1, byte((len(data) - 1) >> 8), byte(len(data) - 1)})
		b.Write(data)
		b.WriteByte(0)
		unpadded := b.Len() - start
		for b.Len()%4 != 0 {
			b.WriteByte(0)
		}
		index = append(index, [2]uint64{uint64(unpadded), uint64(len(data))})
	}
	idx := []byte{0}
	idx = binary.AppendUvarint(idx, uint64(len(index)))
	for _, r := range index {
		idx = binary.AppendUvarint(binary.AppendUvarint(idx, r[0]), r[1])
	}
	for len(idx)%4 != 0 {
		idx = append(idx, 0)
	}
	idx = binary.LittleEndian.AppendUint32(idx, crc32.ChecksumIEEE(idx))
	b.Write(idx)
	footer := binary.LittleEndian.AppendUint32(nil, uint32(len(idx)/4-1))
	footer = append(footer, 0, 0)
	binary.Write(&b, binary.LittleEndian, crc32.ChecksumIEEE(footer))
	b.Write(footer)
	b.WriteString("YZ")
	return b.Bytes()
}

func readXZ(t testing.TB, data []byte) ([]byte, error) {
	t.Helper()
	return io.ReadAll(newXZReader(bytes.NewReader(data)))
}

// Thousands of one-byte blocks, each claiming a 3 GiB dictionary: one decoder, one capped
// dictionary, fast (ulikunitz's own reader takes about 3 s per block: a 3 GiB allocation each).
func TestXZManyBlocksHugeDictionaries(t *testing.T) {
	var blocks [][]byte
	var want []byte
	for i := 0; i < 5000; i++ {
		blocks = append(blocks, []byte{byte('a' + i%26)})
		want = append(want, byte('a'+i%26))
	}
	start := time.Now()
	got, err := readXZ(t, xzFile(blocks, 39, false))
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("got %d bytes, %v", len(got), err)
	}
	if time.Since(start) > 20*time.Second {
		t.Errorf("took %v", time.Since(start))
	}
}

// Blocks whose declared sizes make the dictionary grow: the decoder is replaced, output intact.
func TestXZGrowingDictionary(t *testing.T) {
	blocks := [][]byte{pseudoRandom(100, 1), pseudoRandom(9000, 2), pseudoRandom(50, 3), pseudoRandom(30000, 4)}
	got, err := readXZ(t, xzFile(blocks, 22, true))
	if err != nil || !bytes.Equal(got, bytes.Join(blocks, nil)) {
		t.Fatalf("got %d bytes, %v", len(got), err)
	}
	// Two streams with padding between them.
	two := append(append(xzFile(blocks[:1], 22, true), 0, 0, 0, 0), xzFile(blocks[1:2], 22, true)...)
	got, err = readXZ(t, two)
	if err != nil || !bytes.Equal(got, bytes.Join(blocks[:2], nil)) {
		t.Fatalf("two streams: got %d bytes, %v", len(got), err)
	}
}

func TestXZTool(t *testing.T) {
	dir := writeTree(t, map[string][]byte{"t.txt": bytes.Repeat(pseudoRandom(3000, 9), 40)})
	want := readFile(t, filepath.Join(dir, "t.txt"))
	sh(t, dir, "xz -T2 --block-list=1000,30000,5000 -c t.txt > blocks.xz && xz -9e -c t.txt > big.xz && "+
		"xz --check=sha256 -c t.txt > sha.xz && xz --x86 --lzma2 -c t.txt > bcj.xz", "xz")
	for _, f := range []string{"blocks.xz", "big.xz", "sha.xz"} {
		got, err := readXZ(t, readFile(t, filepath.Join(dir, f)))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: %d bytes, %v", f, len(got), err)
		}
	}
	res := walk(t, "bcj.xz", readFile(t, filepath.Join(dir, "bcj.xz")), Limits{})
	wantErr(t, res, ErrUnsupported, "bcj.xz: xz: filter 0x4 (x86 BCJ): not supported")
}

func TestXZCorrupt(t *testing.T) {
	good := xzFile([][]byte{[]byte("hello")}, 20, true)
	for i := range good {
		bad := append([]byte{}, good...)
		bad[i] ^= 0x40
		readXZ(t, bad) // must not panic or hang
		readXZ(t, good[:i])
	}
}
