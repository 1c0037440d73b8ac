package image

import (
	"bytes"
	"io"
	"testing"
)

// FuzzDecode feeds arbitrary bytes to format sniffing and whichever reader it picks (OVA tar
// parsing included), then reads the guest disk in a few places. No panic, bounded work.
func FuzzDecode(f *testing.F) {
	f.Add([]byte("QFI\xfb\x00\x00\x00\x03"))
	f.Add([]byte("KDMV\x01\x00\x00\x00"))
	f.Add([]byte("# Disk DescriptorFile\nversion=1\ncreateType=\"monolithicFlat\"\nRW 8 FLAT \"x\" 0\n"))
	f.Add([]byte("vhdxfile"))
	f.Add(append(make([]byte, 1024), []byte("conectix")...))
	f.Add(append(append(make([]byte, 257), []byte("ustar\x0000")...), make([]byte, 1024)...))
	f.Fuzz(func(t *testing.T, data []byte) {
		o := &opener{visiting: map[string]bool{}, opt: Options{CacheBytes: 1 << 20}}
		img, err := o.decode(bytes.NewReader(data), int64(len(data)), t.TempDir(), 0)
		if err != nil {
			return
		}
		buf := make([]byte, 4096)
		size := img.Size()
		for _, off := range []int64{0, size / 2, size - 4096} {
			if off < 0 || off >= size {
				continue
			}
			if _, err := img.ReadAt(buf, off); err != nil && err != io.EOF {
				return
			}
		}
	})
}
