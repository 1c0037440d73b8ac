package disk

import (
	"bytes"
	"io"
)

// signature is content snapwatch recognises on a volume but does not read. Saying what it is
// ("encrypted with LUKS") matters: a scan must not report such a volume as clean.
type signature struct {
	off     int64
	magic   string
	kind    string
	problem string
}

var signatures = []signature{
	{0, "LUKS\xba\xbe", "luks", "encrypted with LUKS (dm-crypt): content not readable without the key"},
	{0, "SKUL\xba\xbe", "luks2", "encrypted with LUKS2 (secondary header): content not readable without the key"},
	{3, "-FVE-FS-", "bitlocker", "encrypted with BitLocker: content not readable without the recovery key"},
	{3, "MSWIN4.1", "bitlocker-to-go", "possibly encrypted with BitLocker To Go"},
	{4086, "SWAPSPACE2", "swap", "Linux swap space (may hold memory residue; scan it with --residual)"},
	{4086, "SWAP-SPACE", "swap", "Linux swap space (old format)"},
	{0x10040, "_BHRfS_M", "btrfs", "btrfs is not supported yet"},
	{3, "ReFS\x00\x00\x00\x00", "refs", "ReFS is not supported"},
	{32, "NXSB", "apfs", "APFS is not supported"},
	{1024, "H+", "hfsplus", "HFS+ is not supported"},
	{1024, "HX", "hfsx", "HFSX is not supported"},
	{0, "hsqs", "squashfs", "squashfs is not supported yet"},
	{0x8001, "CD001", "iso9660", "ISO 9660 is not supported yet"},
	{0, "\xe0\xf5\xe1\xe2", "erofs", "EROFS is not supported"},
	{1024, "\xe2\xe1\xf5\xe0", "erofs", "EROFS is not supported"},
	{0x410, "\x10\x20\xf5\xf2", "f2fs", "F2FS is not supported"},
	{0, "LABELONE", "lvm2-pv", "LVM2 physical volume that could not be assembled"},
	{512, "LABELONE", "lvm2-pv", "LVM2 physical volume that could not be assembled"},
	{0x1fe, "\x55\xaa", "boot-sector", "boot sector with no file system snapwatch reads"},
}

// identify names what a volume holds when no reader took it.
func identify(r io.ReaderAt, size int64) (kind, problem string, ok bool) {
	if allZero(r, size) {
		return "empty", "volume is all zeros in its first 64 KiB (unformatted or wiped)", true
	}
	for _, s := range signatures {
		if s.off+int64(len(s.magic)) > size {
			continue
		}
		b := make([]byte, len(s.magic))
		if _, err := r.ReadAt(b, s.off); err == nil && string(b) == s.magic {
			return s.kind, s.problem, true
		}
	}
	// ZFS keeps its uberblocks (magic 0x00bab10c, either byte order) at 128 KiB into each label.
	b := make([]byte, 8)
	if size > 128<<10+8 {
		if _, err := r.ReadAt(b, 128<<10); err == nil &&
			(bytes.Equal(b, []byte{0x0c, 0xb1, 0xba, 0, 0, 0, 0, 0}) || bytes.Equal(b, []byte{0, 0, 0, 0, 0, 0xba, 0xb1, 0x0c})) {
			return "zfs", "ZFS is not supported", true
		}
	}
	return "", "", false
}

func allZero(r io.ReaderAt, size int64) bool {
	n := min(size, 64<<10)
	b := make([]byte, n)
	k, _ := r.ReadAt(b, 0)
	for _, c := range b[:k] {
		if c != 0 {
			return false
		}
	}
	return true
}
