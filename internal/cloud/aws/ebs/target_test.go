package ebs

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/snapwatch/snapwatch/internal/cloudsim"
	"github.com/snapwatch/snapwatch/internal/filesystem"
	"github.com/snapwatch/snapwatch/internal/fixture"
	"github.com/snapwatch/snapwatch/internal/target"
	"github.com/snapwatch/snapwatch/internal/volume"
)

const (
	snapBase  = "snap-0e000000000000001"
	snapLater = "snap-0e000000000000002"
	snapEnc   = "snap-0e000000000000003"
	snapXFS   = "snap-0e000000000000004"
	snapE1    = "snap-0e000000000000005"
	snapE2    = "snap-0e000000000000006"
	amiID     = "ami-0e000000000000001"
	amiEarly  = "ami-0e000000000000002" // snapE1 as its root
	amiLate   = "ami-0e000000000000003" // snapE2 as its root: one file rewritten
)

// estate: a volume snapshotted twice (the second with one file rewritten), an encrypted snapshot
// shared with an outsider whose key (AWS managed) never admits it, and an AMI of two volumes.
func estate(w *world) string {
	base, later := w.base, w.later
	snapX, imgX := "", ""
	if w.xfs != "" {
		snapX += `
          - {id: ` + snapXFS + `, volume_id: vol-0e4, content: ` + w.xfs + `}`
	}
	if w.ext4 != "" {
		snapX += `
          - {id: ` + snapE1 + `, volume_id: vol-0e5, content: ` + w.ext4 + `, start_time: 2025-02-01T00:00:00Z}
          - {id: ` + snapE2 + `, volume_id: vol-0e5, content: ` + w.ext4Later + `, start_time: 2025-02-02T00:00:00Z}`
		imgX = `
          - {id: ` + amiEarly + `, name: app-1, block_devices: [{device: /dev/xvda, snapshot_id: ` + snapE1 + `}]}
          - {id: ` + amiLate + `, name: app-2, block_devices: [{device: /dev/xvda, snapshot_id: ` + snapE2 + `}]}`
	}
	return `
accounts:
  - id: "222222222222"
    access_keys: [{id: ` + ownerKey + `}]
    enabled_regions: [us-east-1]
    regions:
      us-east-1:
        snapshots:
          - {id: ` + snapBase + `, volume_id: vol-0e1, content: ` + base + `, start_time: 2025-01-01T00:00:00Z}
          - {id: ` + snapLater + `, volume_id: vol-0e1, content: ` + later + `, parent: ` + snapBase + `, start_time: 2025-01-02T00:00:00Z}
          - {id: ` + snapEnc + `, volume_id: vol-0e3, content: ` + base + `, encrypted: true, create_volume_permissions: {user_ids: ["999999999999"]}}` + snapX + `
        images:
          - id: ` + amiID + `
            name: web
            root_device: /dev/xvda
            block_devices: [{device: /dev/xvda, snapshot_id: ` + snapBase + `}, {device: /dev/sdb, snapshot_id: ` + snapLater + `}]` + imgX + `
  - id: "999999999999"
    access_keys: [{id: ` + outsideKey + `}]
    enabled_regions: [us-east-1]
`
}

const (
	oldSecret = "faoiSAsTck62gwhR71o32FiD7mdFSsaP7xSFa6IV"
	newSecret = "Zq8bN3xT5kLm2pW9sNb4Yc7Hd1RtYu6Io0PlMnBv"
	credPath  = "home/alice/.aws/credentials"
	oldStripe = "sk_live_OhbVrpoiVgRV5IfLBcbfnoGM"
	newStripe = "sk_live_Q2wE4rT6yU8iO0pA3sD5fG7h"
	dataPath  = "srv/data.bin"
)

// rewritten copies a disk and rewrites a string in a file in place (same length), as a later
// snapshot of the same volume would hold it.
func rewritten(t testing.TB, raw, path, oldSecret, newSecret string) string {
	t.Helper()
	b, err := os.ReadFile(raw)
	if err != nil {
		t.Fatal(err)
	}
	tg, err := target.Open(ctx, raw, target.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	done := false
	for _, m := range tg.Mounts {
		fi, err := statFile(m, path)
		if err != nil {
			continue
		}
		exts, err := m.Tree.(filesystem.Extenter).Extents(fi.Inode)
		if err != nil {
			t.Fatalf("extents of %s: %v", path, err)
		}
		for _, e := range exts {
			if e.Physical < 0 {
				continue
			}
			volume.Resolve(m.Reader, e.Physical, e.Length, func(_ io.ReaderAt, off, n int64) bool {
				if i := bytes.Index(b[off:off+n], []byte(oldSecret)); i >= 0 {
					copy(b[off+int64(i):], newSecret)
					done = true
				}
				return true
			})
		}
	}
	if !done || len(oldSecret) != len(newSecret) {
		t.Fatalf("%s: string not found", path)
	}
	later := filepath.Join(t.TempDir(), "later.raw")
	if err := os.WriteFile(later, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return later
}

func statFile(m target.Mount, p string) (*filesystem.Stat, error) {
	fi, err := fsStat(m.FS, p)
	if err != nil {
		return nil, err
	}
	return fi.Sys().(*filesystem.Stat), nil
}

// xfsDisk is a GPT disk with an XFS volume holding a credentials file; "" without mkfs.xfs.
func xfsDisk(t testing.TB) string {
	if os.Getenv("SNAPWATCH_REQUIRE_TOOLS") != "1" {
		if _, err := fixture.RunEnv(nil, "mkfs.xfs", "-V"); err != nil {
			return ""
		}
	}
	tree := fixture.WriteTree(t, []fixture.File{
		{Path: "root/.aws/credentials", Data: []byte("[default]\naws_access_key_id = AKIAUVM2HVYKNABO4YSL\naws_secret_access_key = " + oldSecret + "\n"), Mode: 0o600},
		{Path: "srv/big.bin", Data: bytes.Repeat([]byte("snapwatch "), 1<<20)},
	})
	d, _ := fixture.Disk(t, fixture.LayoutGPT, fixture.Part{Image: fixture.XFS(t, tree, 64)})
	return d
}

// ext4Disk is a GPT disk with an ext4 volume whose files lie in blocks of their own: a big file
// with a Stripe key in its middle, credentials elsewhere, filler between; "" without mke2fs.
func ext4Disk(t testing.TB) string {
	if os.Getenv("SNAPWATCH_REQUIRE_TOOLS") != "1" {
		if _, err := fixture.RunEnv(nil, "mke2fs", "-V"); err != nil {
			return ""
		}
	}
	fill := bytes.Repeat([]byte("snapwatch filler\n"), 1<<16) // about 1 MiB
	data := slices.Concat(fill, fill, []byte("STRIPE="+oldStripe+"\n"), fill)
	tree := fixture.WriteTree(t, []fixture.File{
		{Path: "home/bob/.aws/credentials", Data: []byte("[default]\naws_access_key_id = AKIAUVM2HVYKNABO4YSL\naws_secret_access_key = " + oldSecret + "\n"), Mode: 0o600},
		{Path: "opt/a/filler", Data: fill}, {Path: "opt/b/filler", Data: fill},
		{Path: dataPath, Data: data},
		{Path: "var/c/filler", Data: fill},
	})
	d, _ := fixture.Disk(t, fixture.LayoutGPT, fixture.Part{Image: fixture.Ext4(t, tree, 32)})
	return d
}

type world struct {
	sim                               *cloudsim.AWS
	base, later, xfs, ext4, ext4Later string
}

func newWorld(t testing.TB, opt cloudsim.Options) *world {
	base := sampleRaw(t)
	w := &world{base: base, later: rewritten(t, base, credPath, oldSecret, newSecret), xfs: xfsDisk(t), ext4: ext4Disk(t)}
	if w.ext4 != "" {
		w.ext4Later = rewritten(t, w.ext4, dataPath, oldStripe, newStripe)
	}
	w.sim = startSim(t, estate(w), opt)
	return w
}

// TestSnapshotScanMatchesImage: scanning a snapshot through EBS direct finds what scanning its
// image file finds, residual data included, and names the snapshot as the resource.
func TestSnapshotScanMatchesImage(t *testing.T) {
	w := newWorld(t, cloudsim.Options{})
	cases := map[string]string{snapBase: w.base}
	if w.xfs != "" {
		cases[snapXFS] = w.xfs
	}
	if w.ext4 != "" {
		cases[snapE1] = w.ext4
	}
	for snap, raw := range cases {
		local, err := target.Open(ctx, raw, target.Options{})
		if err != nil {
			t.Fatal(err)
		}
		want, _ := scanKeys(t, local, true)
		local.Close()
		var log fetchLog
		var rd *Reader
		tg, err := OpenSnapshotTarget(ctx, simConfig(w.sim, ownerKey), snap, TargetOptions{
			Reader: Options{OnFetch: log.add}, OnReader: func(r *Reader) { rd = r }})
		if err != nil {
			t.Fatal(err)
		}
		got, _ := scanKeys(t, tg, true)
		tg.Close()
		if !slices.Equal(got, want) || len(want) == 0 {
			t.Errorf("%s: findings through EBS direct\n%v\nfrom the image file\n%v", snap, got, want)
		}
		res := tg.Resource
		if res.Provider != "aws" || res.Type != "ebs-snapshot" || res.ID != snap || res.Account != "222222222222" ||
			res.Region != region || !strings.HasSuffix(res.ARN, ":snapshot/"+snap) {
			t.Errorf("resource %+v", res)
		}
		st := rd.Stats()
		for b, n := range log.set() {
			if n != 1 {
				t.Errorf("%s: block %d fetched %d times", snap, b, n)
			}
		}
		if st.Fetched == 0 || st.Fetched > int64(st.WrittenBlocks) || (st.Prefetched == 0 && snap != snapBase) {
			t.Errorf("%s: stats %+v", snap, st)
		}
		t.Logf("%s: %d of %d written blocks fetched, %d ahead of reads, %d on read", snap, st.Fetched, st.WrittenBlocks, st.Prefetched, st.Demand)
	}
}

// TestImageScansEveryVolume: an AMI's volumes are all scanned, their mounts named by device.
func TestImageScansEveryVolume(t *testing.T) {
	w := newWorld(t, cloudsim.Options{})
	tg, err := OpenImageTarget(ctx, simConfig(w.sim, ownerKey), amiID, TargetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	var vols []string
	for _, m := range tg.Mounts {
		vols = append(vols, m.Volume)
	}
	if !slices.Equal(vols, []string{"xvda/p1", "xvda/p2", "sdb/p1", "sdb/p2"}) {
		t.Errorf("mounts %v", vols)
	}
	got, _ := scanKeys(t, tg, false)
	for _, want := range []string{"secret/aws-access-key-pair xvda/p2:/" + credPath, "secret/aws-access-key-pair sdb/p2:/" + credPath} {
		if !slices.Contains(got, want) {
			t.Errorf("missing %s in %v", want, got)
		}
	}
	if r := tg.Resource; r.Type != "ami" || r.ID != amiID || r.Account != "222222222222" {
		t.Errorf("resource %+v", r)
	}
}

// TestIncrementalReadsOnlyChangedFiles: against the previous snapshot of the volume, only the
// rewritten file is read, and no block of an unchanged file is fetched.
func TestIncrementalReadsOnlyChangedFiles(t *testing.T) {
	w := newWorld(t, cloudsim.Options{})
	if w.ext4 == "" {
		t.Skip("mke2fs is not installed")
	}
	cfg := simConfig(w.sim, ownerKey)
	open := func(base string, log *fetchLog) *target.Target {
		tg, err := OpenSnapshotTarget(ctx, cfg, snapE2, TargetOptions{Base: base, Reader: Options{OnFetch: log.add}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { tg.Close() })
		return tg
	}
	var full, incr, meta fetchLog
	fullKeys, _ := scanKeys(t, open("", &full), false)
	tg := open("auto", &incr)
	if len(tg.Warnings) != 1 || !strings.Contains(tg.Warnings[0], "since "+snapE1) {
		t.Errorf("warnings %v", tg.Warnings)
	}
	got, s := scanKeys(t, tg, false)
	want := []string{"secret/stripe-secret-key p1:/" + dataPath}
	if !slices.Equal(got, want) {
		t.Errorf("incremental findings %v, want %v (full: %v)", got, want, fullKeys)
	}
	if st := s.Stats(); st.FilesScanned != 1 || st.Skipped["unchanged-since-base"] == 0 {
		t.Errorf("stats %+v", st)
	}
	// What the walk itself needs (directories, inodes, extent trees): a scan that reads nothing.
	mt := open("", &meta)
	contentscanCount(mt)
	c, err := ListChanged(ctx, NewClient(cfg, 0), snapE1, snapE2)
	if err != nil {
		t.Fatal(err)
	}
	fetched := incr.set()
	metaSet := meta.set()
	ofChanged := fileBlocks(t, w.ext4Later, dataPath)
	for b := range fetched {
		if !c.Touches(b*BlockSize, 1) && metaSet[b] == 0 && !ofChanged[b] {
			t.Errorf("block %d fetched: neither changed, nor metadata, nor of the changed file", b)
		}
	}
	t.Logf("full scan fetched %d blocks, incremental %d (%d changed, %d needed by the walk)", len(full.set()), len(fetched), c.Count(), len(metaSet))
	if len(fetched) >= len(full.set()) || c.Count() == 0 || c.Count() > 2 {
		t.Errorf("incremental fetched %d blocks, full %d, changed %d", len(fetched), len(full.set()), c.Count())
	}
	// An explicit base works too; an unrelated one is refused.
	if tg, err := OpenSnapshotTarget(ctx, cfg, snapE2, TargetOptions{Base: snapE1}); err != nil {
		t.Errorf("explicit base: %v", err)
	} else {
		tg.Close()
	}
	if _, err := OpenSnapshotTarget(ctx, cfg, snapE2, TargetOptions{Base: snapEnc}); err == nil || !strings.Contains(err.Error(), "lineage") {
		t.Errorf("unrelated base: %v", err)
	}
	// The first snapshot of a volume has no base: a full scan that says so.
	first, err := OpenSnapshotTarget(ctx, cfg, snapE1, TargetOptions{Base: "auto"})
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	if len(first.Warnings) != 1 || !strings.Contains(first.Warnings[0], "full scan") || first.Mounts[0].Changed != nil {
		t.Errorf("first snapshot: %v", first.Warnings)
	}
}

// TestIncrementalImage: an AMI against an earlier AMI (volumes matched by device) or against
// each volume's previous snapshot reads only what changed; a base that is not an AMI is refused.
func TestIncrementalImage(t *testing.T) {
	w := newWorld(t, cloudsim.Options{})
	if w.ext4 == "" {
		t.Skip("mke2fs is not installed")
	}
	cfg := simConfig(w.sim, ownerKey)
	for _, base := range []string{amiEarly, "auto"} {
		tg, err := OpenImageTarget(ctx, cfg, amiLate, TargetOptions{Base: base})
		if err != nil {
			t.Fatalf("base %s: %v", base, err)
		}
		if len(tg.Mounts) == 0 || tg.Mounts[0].Changed == nil {
			t.Fatalf("base %s: not incremental: %+v", base, tg.Warnings)
		}
		got, s := scanKeys(t, tg, false)
		tg.Close()
		if want := []string{"secret/stripe-secret-key xvda/p1:/" + dataPath}; !slices.Equal(got, want) {
			t.Errorf("base %s: findings %v, want %v", base, got, want)
		}
		if st := s.Stats(); st.FilesScanned != 1 {
			t.Errorf("base %s: %d files read", base, st.FilesScanned)
		}
	}
	if _, err := OpenImageTarget(ctx, cfg, amiLate, TargetOptions{Base: snapE1}); err == nil || !strings.Contains(err.Error(), "earlier AMI") {
		t.Errorf("a snapshot as an AMI's base: %v", err)
	}
}

// TestKeyAccessDenied: an encrypted snapshot shared with an account its key does not admit.
func TestKeyAccessDenied(t *testing.T) {
	w := newWorld(t, cloudsim.Options{})
	_, err := OpenSnapshotTarget(ctx, simConfig(w.sim, outsideKey), snapEnc, TargetOptions{})
	var ke *KeyAccessError
	if !errors.As(err, &ke) || ke.Snapshot != snapEnc || ke.Key == "" || !strings.Contains(ke.Caller, "999999999999") {
		t.Fatalf("error %T %v", err, err)
	}
	t.Log(err)
}

// TestRegisteredSchemes: the CLI reaches the targets through the registry, with the endpoint
// and region from its flags and credentials from the environment.
func TestRegisteredSchemes(t *testing.T) {
	w := newWorld(t, cloudsim.Options{})
	t.Setenv("AWS_ACCESS_KEY_ID", ownerKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	opt := target.Options{Region: region, EndpointURL: w.sim.URL()}
	for _, spec := range []string{"ebs:" + snapBase, "ami:" + amiID} {
		tg, err := target.Open(ctx, spec, opt)
		if err != nil {
			t.Fatalf("%s: %v", spec, err)
		}
		if len(tg.Mounts) < 2 {
			t.Errorf("%s: mounts %+v", spec, tg.Mounts)
		}
		tg.Close()
	}
	if _, err := target.Open(ctx, "ebs:snap-0e0000000000000ff", opt); err == nil {
		t.Error("unknown snapshot opened")
	}
}

// fileBlocks returns the disk blocks holding a file's bytes.
func fileBlocks(t testing.TB, raw, path string) map[int64]bool {
	tg, err := target.Open(ctx, raw, target.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	out := map[int64]bool{}
	for _, m := range tg.Mounts {
		fi, err := statFile(m, path)
		if err != nil {
			continue
		}
		exts, _ := m.Tree.(filesystem.Extenter).Extents(fi.Inode)
		for _, e := range exts {
			if e.Physical < 0 {
				continue
			}
			volume.Resolve(m.Reader, e.Physical, e.Length, func(_ io.ReaderAt, off, n int64) bool {
				for b := off / BlockSize; b <= (off+n-1)/BlockSize; b++ {
					out[b] = true
				}
				return true
			})
		}
	}
	return out
}
