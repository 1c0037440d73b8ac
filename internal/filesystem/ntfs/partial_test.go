package ntfs

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"

	"github.com/snapwatch/snapwatch/internal/filesystem"
)

// partialNames are the files of the directory "many": 320 long names, so that its $I30 index
// needs many INDX blocks.
func partialNames() []string {
	var names []string
	for i := range 320 {
		names = append(names, fmt.Sprintf("entry-with-a-long-name-to-fill-index-blocks-%03d.txt", i))
	}
	return names
}

// indexBlock is one INDX block of a directory's $I30 tree, in tree order.
type indexBlock struct {
	vcn     int64
	leaf    bool
	subtree []string // the keyed names of the block and of every block below it
}

// indexBlocks lists the INDX blocks below entries (pre-order) with the names each subtree holds.
func indexBlocks(t *testing.T, ix *dirIndex, entries []indexEntry) (blocks []indexBlock, names []string) {
	t.Helper()
	for _, e := range entries {
		if e.sub >= 0 {
			children, err := ix.readNode(e.sub)
			if err != nil {
				t.Fatal(err)
			}
			at := len(blocks)
			blocks = append(blocks, indexBlock{vcn: e.sub, leaf: true})
			for _, c := range children {
				blocks[at].leaf = blocks[at].leaf && c.sub < 0
			}
			below, sub := indexBlocks(t, ix, children)
			blocks[at].subtree = sub
			blocks = append(blocks, below...)
			names = append(names, sub...)
		}
		if !e.last() && e.key.namespace != namespaceDOS {
			names = append(names, e.key.name())
		}
	}
	return blocks, names
}

// TestPartialDirectory damages one INDX block of a directory of 320 files written through
// ntfs-3g, by breaking its magic or tearing its update sequence: ReadDir returns the entries of
// the index root and of every other block with an error naming the directory's MFT record and
// the block's VCN; Lookup, through the B+tree and through the linear walk, still finds every name
// of the good blocks and answers a name of the lost block with the damage.
func TestPartialDirectory(t *testing.T) {
	names := partialNames()
	img, _ := buildNTFS(t, 8, func(p *populator) {
		for _, n := range names {
			p.file("many/"+n, []byte(n+"\n"))
		}
		p.file("top.txt", []byte("top\n"))
	})
	p := newPatchable(t, img)
	dir := p.ino["many"]
	ix := p.index(dir)
	if ix.alloc == nil {
		t.Fatal("many/ has no $INDEX_ALLOCATION")
	}
	blocks, all := indexBlocks(t, ix, ix.root)
	if len(all) != len(names) {
		t.Fatalf("the index holds %d names, want %d", len(all), len(names))
	}
	// The victim is a leaf with good leaves before and after it in name order.
	var leaves []indexBlock
	for _, b := range blocks {
		if b.leaf {
			leaves = append(leaves, b)
		}
	}
	if len(leaves) < 3 {
		t.Fatalf("many/ has %d INDX leaves, want at least 3", len(leaves))
	}
	victim := leaves[len(leaves)/2]
	t.Logf("many/ is MFT record %d: %d INDX blocks (%d leaves, depth %d); VCN %d holds %d names",
		dir, len(blocks), len(leaves), indexDepth(t, ix, ix.root, 0), victim.vcn, len(victim.subtree))
	lost := map[string]bool{}
	for _, n := range victim.subtree {
		lost[n] = true
	}
	var kept []string
	for _, n := range names {
		if !lost[n] {
			kept = append(kept, n)
		}
	}
	// The 512-byte blocks of the victim on the volume, to damage it as stored (fixups included).
	at := p.blocks(ix.alloc, victim.vcn*ix.vcnUnit, int(ix.blockSize))
	what := fmt.Sprintf("MFT record %d $I30 INDX block at VCN %d", dir, victim.vcn)

	for _, c := range []struct {
		name string
		edit func(img []byte)
		why  string
	}{
		{"magic", func(img []byte) { copy(img[at[0]:], "INDY") }, `bad signature "INDY"`},
		{"torn fixup", func(img []byte) { img[at[2]+fixupStride-1] ^= 0xFF }, "block 2 does not end with the update sequence number"},
	} {
		t.Run(c.name, func(t *testing.T) {
			img := p.copy()
			c.edit(img)
			v, err := open(img)
			if err != nil {
				t.Fatal(err)
			}
			entries, err := v.ReadDir(dir)
			if !errors.Is(err, filesystem.ErrCorrupt) || !strings.Contains(err.Error(), what) || !strings.Contains(err.Error(), c.why) {
				t.Fatalf("ReadDir error %v, want a corrupt error naming %q (%s)", err, what, c.why)
			}
			t.Log(err)
			got := map[string]uint64{}
			for _, e := range entries {
				got[e.Name] = e.Ino
			}
			for _, n := range kept {
				if _, ok := got[n]; !ok {
					t.Errorf("%s missing from the partial listing", n)
				}
			}
			if len(entries) != len(kept) {
				t.Errorf("listed %d entries, want the %d of the good blocks", len(entries), len(kept))
			}

			// Lookup descends the B+tree by $UpCase collation past the damaged block, and the
			// linear walk (no $UpCase) skips it: every name of a good block is found.
			linear := *v
			linear.upcase = nil
			for _, lv := range []*FS{v, &linear} {
				mode := "collation"
				if lv.upcase == nil {
					mode = "linear"
				}
				for _, n := range kept {
					e, err := lv.Lookup(dir, n)
					if err != nil || e.Ino != got[n] {
						t.Fatalf("%s Lookup(%s) = %d, %v; ReadDir says %d", mode, n, e.Ino, err, got[n])
					}
				}
				// A name of the lost block is not "not found": the damage is the answer.
				_, err := lv.Lookup(dir, victim.subtree[0])
				if !errors.Is(err, filesystem.ErrCorrupt) || !strings.Contains(err.Error(), what) {
					t.Errorf("%s Lookup of %s in the lost block: %v, want the damage", mode, victim.subtree[0], err)
				}
			}

			// Through the io/fs adapter: the partial listing with its error, and the content of a
			// file listed in a good block (before and after the damaged one).
			fsys := filesystem.New(v)
			dents, err := fs.ReadDir(fsys, "many")
			if err == nil || len(dents) != len(kept) {
				t.Errorf("fs.ReadDir: %d entries, error %v; want %d and the damage", len(dents), err, len(kept))
			}
			for _, n := range []string{kept[0], kept[len(kept)-1]} {
				if b, err := fs.ReadFile(fsys, "many/"+n); err != nil || string(b) != n+"\n" {
					t.Errorf("read many/%s: %q, %v", n, b, err)
				}
			}
			if _, err := fs.Stat(fsys, "many/"+victim.subtree[0]); err == nil || errors.Is(err, fs.ErrNotExist) {
				t.Errorf("stat of a lost name: %v, want the damage", err)
			}
			// The rest of the volume is untouched.
			if b, err := fs.ReadFile(fsys, "top.txt"); err != nil || string(b) != "top\n" {
				t.Errorf("read top.txt: %q, %v", b, err)
			}
		})
	}
}
