package ext4

import (
	"bytes"

	"github.com/snapwatch/snapwatch/internal/filesystem"
)

const (
	xattrMagic       = 0xEA020000
	xattrIndexSystem = 7 // "system." names; inline data lives in system.data
	xattrEntryHdr    = 16
)

// inodeXattr finds an extended attribute stored inside the inode (after i_extra_isize) and
// returns its value and the volume offset of that value.
func (f *FS) inodeXattr(in *inode, index uint8, name string) ([]byte, int64, error) {
	what := "inode " + itoa(in.ino) + " in-inode xattrs"
	start := goodOldInodeSize + in.extra
	if in.extra == 0 || start+4 > len(in.raw) || le32(in.raw, start) != xattrMagic {
		return nil, 0, nil
	}
	area := in.raw[start+4:] // value offsets count from the first entry
	for p := 0; p+4 <= len(area) && le32(area, p) != 0; {
		if p+xattrEntryHdr > len(area) {
			return nil, 0, filesystem.Corrupt("ext4", what, "entry at %d runs past the inode", p)
		}
		nameLen := int(area[p])
		idx := area[p+1]
		voff := int(le16(area, p+2))
		vinum := le32(area, p+4)
		vsize := int(le32(area, p+8))
		if p+xattrEntryHdr+nameLen > len(area) {
			return nil, 0, filesystem.Corrupt("ext4", what, "name of entry at %d runs past the inode", p)
		}
		ename := string(area[p+xattrEntryHdr : p+xattrEntryHdr+nameLen])
		if idx == index && ename == name {
			if vinum != 0 {
				return nil, 0, filesystem.Corrupt("ext4", what, "%s is stored in inode %d (ea_inode), not supported for it", name, vinum)
			}
			if voff > len(area) || vsize > len(area)-voff {
				return nil, 0, filesystem.Corrupt("ext4", what, "value of %s (%d bytes at %d) runs past the inode", name, vsize, voff)
			}
			return area[voff : voff+vsize], in.off + int64(start+4+voff), nil
		}
		p += (xattrEntryHdr + nameLen + 3) &^ 3
	}
	return nil, 0, nil
}

// inlineData returns the bytes of an inline-data inode: i_block first, then system.data.
func (f *FS) inlineData(in *inode) ([]byte, error) {
	if in.size > int64(iBlockLen+len(in.raw)) {
		return nil, filesystem.Corrupt("ext4", "inode "+itoa(in.ino)+" inline data", "size %d exceeds what an inode can hold", in.size)
	}
	ext, _, err := f.inodeXattr(in, xattrIndexSystem, "data")
	if err != nil {
		return nil, err
	}
	all := append(bytes.Clone(in.iblock()), ext...)
	if int64(len(all)) < in.size {
		// Bytes not stored read as zeros, as they would past the end of a short extent.
		all = append(all, make([]byte, in.size-int64(len(all)))...)
	}
	return all[:in.size], nil
}

// inlineExtents reports inline data (and fast symlink targets) as Encoded extents located in
// the inode itself.
func (f *FS) inlineExtents(in *inode) ([]filesystem.Extent, error) {
	size := in.size
	first := min(size, iBlockLen)
	out := []filesystem.Extent{}
	if first > 0 {
		out = append(out, filesystem.Extent{Logical: 0, Physical: in.off + iBlockOff, Length: first, Encoded: true})
	}
	if size > iBlockLen && in.flags&flagInlineData != 0 {
		v, off, err := f.inodeXattr(in, xattrIndexSystem, "data")
		if err != nil {
			return nil, err
		}
		if n := min(int64(len(v)), size-iBlockLen); n > 0 {
			out = append(out, filesystem.Extent{Logical: iBlockLen, Physical: off, Length: n, Encoded: true})
		}
	}
	return out, nil
}
