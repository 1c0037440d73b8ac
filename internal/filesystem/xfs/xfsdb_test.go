package xfs

import (
	"bufio"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/snapwatch/snapwatch/internal/fixture"
)

// The independent reader: xfs_db (xfsprogs) in read-only mode. The Sleuth Kit installed here
// has no XFS support (fls -f list does not name it), so xfs_db is the only one.

// xfsDB runs xfs_db -r with the given commands.
func xfsDB(t testing.TB, img string, cmds ...string) string {
	t.Helper()
	args := []string{"-r"}
	for _, c := range cmds {
		args = append(args, "-c", c)
	}
	out, err := fixture.RunEnv([]string{"TZ=UTC"}, "xfs_db", append(args, img)...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// dbEntry is one line of xfs_db's ls: cookie, inode, type, hash, name length, name.
type dbEntry struct {
	ino  uint64
	typ  string
	hash uint32
	name string
}

var lsLine = regexp.MustCompile(`^(\d+)\s+(\d+)\s+(\S+)\s+0x([0-9a-f]+)\s+(\d+) (.*) \((good|bad)\)$`)

// dbListing lists every directory reachable from the root with xfs_db ls, level by level.
func dbListing(t testing.TB, img string) map[string][]dbEntry {
	t.Helper()
	out := map[string][]dbEntry{}
	level := []string{"/"}
	for len(level) > 0 {
		var cmds []string
		for _, d := range level {
			cmds = append(cmds, "ls "+d)
		}
		text := xfsDB(t, img, cmds...)
		var next []string
		var unknown []string // entries without a type (no ftype): ask their inodes
		var unknownIno []uint64
		cur := ""
		sc := bufio.NewScanner(strings.NewReader(text))
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			if strings.HasSuffix(line, ":") && strings.HasPrefix(line, "/") {
				cur = strings.TrimSuffix(line, ":")
				out[cur] = []dbEntry{}
				continue
			}
			m := lsLine.FindStringSubmatch(line)
			if m == nil {
				t.Fatalf("xfs_db ls: unexpected line %q", line)
			}
			ino, _ := strconv.ParseUint(m[2], 10, 64)
			h, _ := strconv.ParseUint(m[4], 16, 32)
			e := dbEntry{ino: ino, typ: m[3], hash: uint32(h), name: m[6]}
			if n, _ := strconv.Atoi(m[5]); n != len(e.name) {
				t.Fatalf("xfs_db ls: name %q has length %d, not %d", e.name, len(e.name), n)
			}
			if e.name == "." || e.name == ".." {
				continue
			}
			out[cur] = append(out[cur], e)
			p := strings.TrimSuffix(cur, "/") + "/" + e.name
			switch e.typ {
			case "directory":
				next = append(next, p)
			case "unknown":
				unknown = append(unknown, p)
				unknownIno = append(unknownIno, ino)
			}
		}
		if len(unknown) > 0 {
			cores := dbInodes(t, img, unknownIno, false)
			for i, p := range unknown {
				if cores[unknownIno[i]].mode&0o170000 == 0o040000 {
					next = append(next, p)
				}
			}
		}
		level = next
	}
	return out
}

// dbInode is what xfs_db prints of an inode core, plus its data block map.
type dbInode struct {
	mode     uint32
	size     int64
	nlink    uint32
	uid, gid uint32
	format   int
	mtime    string
	extents  []dbExtent
}

type dbExtent struct {
	off, agno, agbno, count uint64
	unwritten               bool
}

var bmapLine = regexp.MustCompile(`^data offset (\d+) startblock \d+ \((\d+)/(\d+)\) count (\d+) flag (\d)$`)

// dbInodes prints the cores (and, with bmap, block maps) of the given inodes in one xfs_db run.
func dbInodes(t testing.TB, img string, inos []uint64, bmap bool) map[uint64]*dbInode {
	t.Helper()
	out := map[uint64]*dbInode{}
	for len(inos) > 0 {
		batch := inos[:min(len(inos), 2000)]
		inos = inos[len(batch):]
		var cmds []string
		for _, ino := range batch {
			cmds = append(cmds, fmt.Sprintf("inode %d", ino), "echo @inode "+strconv.FormatUint(ino, 10),
				"print core.mode core.size core.nlinkv2 core.uid core.gid core.format core.mtime.sec")
			if bmap {
				cmds = append(cmds, "bmap")
			}
		}
		var cur *dbInode
		for _, line := range strings.Split(xfsDB(t, img, cmds...), "\n") {
			line = strings.TrimSpace(line)
			k, v, _ := strings.Cut(line, " = ")
			switch {
			case strings.HasPrefix(line, "@inode "):
				ino, _ := strconv.ParseUint(strings.TrimPrefix(line, "@inode "), 10, 64)
				cur = &dbInode{}
				out[ino] = cur
			case cur == nil || line == "":
			case k == "core.mode":
				m, _ := strconv.ParseUint(v, 8, 32)
				cur.mode = uint32(m)
			case k == "core.size":
				cur.size, _ = strconv.ParseInt(v, 10, 64)
			case k == "core.nlinkv2":
				n, _ := strconv.ParseUint(v, 10, 32)
				cur.nlink = uint32(n)
			case k == "core.uid":
				n, _ := strconv.ParseUint(v, 10, 32)
				cur.uid = uint32(n)
			case k == "core.gid":
				n, _ := strconv.ParseUint(v, 10, 32)
				cur.gid = uint32(n)
			case k == "core.format":
				cur.format, _ = strconv.Atoi(strings.Fields(v)[0])
			case k == "core.mtime.sec":
				cur.mtime = v
			default:
				if m := bmapLine.FindStringSubmatch(line); m != nil {
					var e dbExtent
					e.off, _ = strconv.ParseUint(m[1], 10, 64)
					e.agno, _ = strconv.ParseUint(m[2], 10, 64)
					e.agbno, _ = strconv.ParseUint(m[3], 10, 64)
					e.count, _ = strconv.ParseUint(m[4], 10, 64)
					e.unwritten = m[5] == "1"
					cur.extents = append(cur.extents, e)
				}
			}
		}
	}
	return out
}

// dbGeometry reads the superblock fields needed to turn (agno, agbno) into a byte offset.
func dbGeometry(t testing.TB, img string) (blockSize, agBlocks int64) {
	t.Helper()
	for _, line := range strings.Split(xfsDB(t, img, "sb 0", "print blocksize agblocks"), "\n") {
		k, v, _ := strings.Cut(line, " = ")
		n, _ := strconv.ParseInt(v, 10, 64)
		switch k {
		case "blocksize":
			blockSize = n
		case "agblocks":
			agBlocks = n
		}
	}
	return blockSize, agBlocks
}

// dbContentSum reads a file's bytes from the image through xfs_db's block map (the dd half of
// "bmap then dd") and returns their sha256.
func dbContentSum(t testing.TB, img string, n *dbInode, blockSize, agBlocks int64) string {
	t.Helper()
	fh, err := os.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	data := make([]byte, n.size)
	for _, e := range n.extents {
		if e.unwritten {
			continue
		}
		logical := int64(e.off) * blockSize
		if logical >= n.size {
			continue
		}
		buf := data[logical:min(n.size, logical+int64(e.count)*blockSize)]
		phys := (int64(e.agno)*agBlocks + int64(e.agbno)) * blockSize
		if _, err := fh.ReadAt(buf, phys); err != nil {
			t.Fatalf("read image at %d: %v", phys, err)
		}
	}
	return fmt.Sprintf("%x", sha256.Sum256(data))
}

// dbFreeSpace returns xfs_db freesp -d's free extents as (agno, agbno, len).
func dbFreeSpace(t testing.TB, img string) [][3]int64 {
	t.Helper()
	var out [][3]int64
	for _, line := range strings.Split(xfsDB(t, img, "freesp -d"), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			continue
		}
		var v [3]int64
		ok := true
		for i := range f {
			n, err := strconv.ParseInt(f[i], 10, 64)
			ok = ok && err == nil
			v[i] = n
		}
		if ok {
			out = append(out, v)
		}
	}
	return out
}

// dbType maps xfs_db's ls type names to Go's type bits; ok is false for "unknown" (no ftype).
func dbType(s string) (fs.FileMode, bool) {
	switch s {
	case "regular":
		return 0, true
	case "directory":
		return fs.ModeDir, true
	case "symlink":
		return fs.ModeSymlink, true
	case "fifo":
		return fs.ModeNamedPipe, true
	case "chardev":
		return fs.ModeDevice | fs.ModeCharDevice, true
	case "blkdev":
		return fs.ModeDevice, true
	case "socket":
		return fs.ModeSocket, true
	}
	return 0, false
}
