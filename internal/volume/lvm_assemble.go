package volume

import (
	"cmp"
	"crypto/sha256"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
)

// Caps on LVM metadata values (lvm2's own limits, or far above them).
const (
	maxStripes       = 128     // lvm2 MAX_STRIPES
	maxExtentSectors = 1 << 32 // extent and stripe sizes, in sectors (2 TiB)
	// maxLVNesting caps how deep an LV may read through other LVs (a raid1 LV reads its image
	// sub-LV, which is linear: depth 1); hostile metadata may loop.
	maxLVNesting = 4
	// maxTotalMetadataBytes caps the metadata text parsed per disk, whatever the number of PVs.
	maxTotalMetadataBytes = 64 << 20
	// maxListed is how many missing PVs a VG's problem names before it counts the rest.
	maxListed = 5
)

// findLVM looks for an LVM2 label on every readable leaf volume, marks the PVs, assembles the
// volume groups their metadata describes, and appends a volume per VG and per visible LV.
func (d *discovery) findLVM() {
	pvs := make(map[string]*physicalVolume)
	var found []*physicalVolume
	newest := make(map[string]*vgMetadata)     // by VG id
	parsed := make(map[[sha256.Size]byte]bool) // texts already parsed: PVs of a VG share copies
	budget := int64(maxTotalMetadataBytes)
	for i, n := 0, len(d.layout.Volumes); i < n; i++ {
		v := &d.layout.Volumes[i]
		if v.Container || v.Reader == nil {
			continue
		}
		pv, err := readPVLabel(v.Reader, v.Reader.Size())
		if err != nil {
			d.warn("%s: %v", v.Name, err)
			continue
		}
		if pv == nil {
			continue
		}
		pv.volume = v.Name
		v.Container, v.Type, v.UUID = true, "LVM2 PV", formatLVMUUID(pv.uuid)
		if other, dup := pvs[pv.uuid]; dup {
			d.warn("%s: LVM2 PV %s is also on %s (a cloned disk?): the copy on %s is ignored", v.Name, v.UUID, other.volume, v.Name)
			continue
		}
		pvs[pv.uuid] = pv
		found = append(found, pv)
		for _, area := range pv.metadataAreas {
			text, err := pv.metadataText(area, budget)
			if err != nil {
				d.warn("%s: LVM2 %v", v.Name, err)
				continue
			}
			if text == nil {
				continue
			}
			budget -= int64(len(text))
			key := sha256.Sum256(text)
			if parsed[key] {
				continue
			}
			parsed[key] = true
			root, err := parseConfig(text)
			if err != nil {
				d.warn("%s: %v", v.Name, err)
				continue
			}
			vg, err := parseVGMetadata(root)
			if err != nil {
				d.warn("%s: LVM2 metadata: %v", v.Name, err)
				continue
			}
			if cur := newest[vg.id]; cur == nil || vg.seqno > cur.seqno {
				newest[vg.id] = vg
			}
		}
	}
	vgs := make([]*vgMetadata, 0, len(newest))
	for _, vg := range newest {
		vgs = append(vgs, vg)
	}
	slices.SortFunc(vgs, func(a, b *vgMetadata) int { return cmp.Or(cmp.Compare(a.name, b.name), cmp.Compare(a.id, b.id)) })
	used := make(map[string]bool)
	for _, vg := range vgs {
		d.addVG(vg, pvs, used)
	}
	for _, pv := range found {
		if !used[pv.uuid] {
			d.warn("%s: LVM2 PV %s belongs to no volume group whose metadata is on this disk", pv.volume, formatLVMUUID(pv.uuid))
		}
	}
}

// addVG appends the VG volume and its visible LVs.
func (d *discovery) addVG(vg *vgMetadata, pvs map[string]*physicalVolume, used map[string]bool) {
	name := d.uniqueName(vg.name)
	b := &lvBuilder{
		vgName:      name,
		extentBytes: vg.extentSectors * lvmSectorSize,
		pvs:         make(map[string]*pvPlacement),
		lvs:         make(map[string]*lvMetadata),
		built:       make(map[builtKey]builtLV),
		visiting:    make(map[string]bool),
	}
	var missing []string
	var extents int64
	for _, p := range vg.pvs {
		if _, dup := b.pvs[p.key]; dup {
			continue
		}
		dev := pvs[p.id]
		b.pvs[p.key] = &pvPlacement{meta: p, dev: dev}
		if dev == nil {
			missing = append(missing, fmt.Sprintf("%s (%s)", p.key, formatLVMUUID(p.id)))
		} else {
			used[p.id] = true
		}
		extents = saturatingAdd(extents, max(p.peCount, 0))
	}
	vol := Volume{
		Name: name, Scheme: SchemeLVM, Type: "LVM2 VG", TypeID: "lvm2", Label: vg.name, UUID: vg.id,
		Offset: -1, Size: saturatingMul(extents, b.extentBytes), Container: true,
	}
	if len(missing) > 0 {
		listed := strings.Join(missing[:min(len(missing), maxListed)], ", ")
		if len(missing) > maxListed {
			listed += fmt.Sprintf(" and %d more", len(missing)-maxListed)
		}
		vol.Problem = fmt.Sprintf("%d of %d physical volumes missing: %s", len(missing), len(vg.pvs), listed)
		d.warn("volume group %s: %s", name, vol.Problem)
	}
	d.layout.Volumes = append(d.layout.Volumes, vol)

	cowOf := make(map[string]string) // COW store LV → origin LV of classic snapshots
	for i := range vg.lvs {
		lv := &vg.lvs[i]
		if _, dup := b.lvs[lv.name]; !dup {
			b.lvs[lv.name] = lv
		}
		for _, s := range lv.segments {
			if s.typ == "snapshot" && s.cowStore != "" {
				cowOf[s.cowStore] = s.origin
			}
		}
	}
	seen := make(map[string]bool)
	for i := range vg.lvs {
		lv := &vg.lvs[i]
		// lvm2 writes the exception store of a classic snapshot as a hidden LV, and shows it
		// under that name as the snapshot.
		_, isCOW := cowOf[lv.name]
		if (!lv.visible && !isCOW) || seen[lv.name] {
			continue
		}
		seen[lv.name] = true
		d.layout.Volumes = append(d.layout.Volumes, b.volume(lv, cowOf))
	}
}

// uniqueName returns name, or name~N when a volume already has that name (a VG called "p1", or
// two VGs of the same name on one disk). Names are tracked in a set, with the next suffix per
// name, so that thousands of same-named VGs on a hostile disk cost linear time.
func (d *discovery) uniqueName(name string) string {
	if d.names == nil {
		d.names = make(map[string]bool)
		d.nextSuffix = make(map[string]int)
		for _, v := range d.layout.Volumes {
			d.names[v.Name] = true
		}
	}
	unique := name
	for d.names[unique] {
		n := max(d.nextSuffix[name], 2)
		d.nextSuffix[name] = n + 1
		unique = fmt.Sprintf("%s~%d", name, n)
	}
	if unique != name {
		d.warn("volume group %q is reported as %q: the name is taken", name, unique)
	}
	d.names[unique] = true
	return unique
}

// pvPlacement joins a PV of the metadata to the device found on the disk (nil when missing).
type pvPlacement struct {
	meta pvMetadata
	dev  *physicalVolume
}

type builtLV struct {
	m       *extentMap
	problem string
}

// builtKey includes the depth: an LV may be too deep to read through one chain of LVs and
// readable on its own, so results are only shared at equal depth.
type builtKey struct {
	name  string
	depth int
}

// lvBuilder turns the LVs of one VG into extent maps.
type lvBuilder struct {
	vgName      string
	extentBytes int64
	pvs         map[string]*pvPlacement
	lvs         map[string]*lvMetadata
	built       map[builtKey]builtLV // memo: each LV is mapped once per depth
	visiting    map[string]bool      // cycle guard for LVs reading through LVs
}

// volume describes a visible LV; its reader is nil when its segments cannot be read.
func (b *lvBuilder) volume(lv *lvMetadata, cowOf map[string]string) Volume {
	kind := lvKind(lv)
	origin, isCOW := cowOf[lv.name]
	if isCOW {
		kind = "snapshot"
	}
	v := Volume{
		Name: b.vgName + "/" + lv.name, Parent: b.vgName, Scheme: SchemeLVM,
		Type: kind + " LV", TypeID: kind, Label: lv.name, UUID: lv.id, Offset: -1,
	}
	var extents int64
	for _, s := range lv.segments {
		extents = saturatingAdd(extents, s.extentCount)
	}
	v.Size = saturatingMul(extents, b.extentBytes)
	switch kind {
	case "thin-pool", "cache-pool", "vdo-pool":
		v.Container = true
	}
	if isCOW {
		// The COW LV of a classic snapshot holds the exception store, not the snapshot's
		// bytes: reading it as linear would show garbage.
		v.Problem = fmt.Sprintf("snapshot of %s/%s: segment type snapshot not supported", b.vgName, origin)
		return v
	}
	m, problem := b.build(lv.name, 0)
	v.Problem = problem
	if m != nil {
		v.Size = m.size
		v.Reader = io.NewSectionReader(m, 0, m.size)
	}
	return v
}

// lvKind names an LV after its segments the way lvs(8) prints segtype: "linear", "striped", or
// the first other type.
func lvKind(lv *lvMetadata) string {
	kind := "unknown"
	for _, s := range lv.segments {
		switch {
		case s.typ != "striped":
			return s.typ
		case s.stripeCount > 1:
			kind = "striped"
		case kind == "unknown":
			kind = "linear"
		}
	}
	return kind
}

// build maps an LV (memoized). A nil map means it cannot be read at all; a map with a problem
// reads, but some of its bytes lie on missing or truncated PVs.
func (b *lvBuilder) build(name string, depth int) (*extentMap, string) {
	key := builtKey{name, depth}
	if r, ok := b.built[key]; ok {
		return r.m, r.problem
	}
	if depth > maxLVNesting {
		return nil, fmt.Sprintf("LVs read through more than %d other LVs", maxLVNesting)
	}
	if b.visiting[name] {
		return nil, fmt.Sprintf("LV %s reads through itself", name)
	}
	lv := b.lvs[name]
	if lv == nil {
		return nil, fmt.Sprintf("LV %q is not in the metadata", name)
	}
	b.visiting[name] = true
	m, problem := b.assemble(lv, depth)
	delete(b.visiting, name)
	b.built[key] = builtLV{m, problem}
	return m, problem
}

// assemble maps the segments of an LV in extent order; they must cover [0, n) without gaps.
func (b *lvBuilder) assemble(lv *lvMetadata, depth int) (*extentMap, string) {
	if lv.problem != "" {
		return nil, lv.problem
	}
	segs := slices.Clone(lv.segments)
	slices.SortStableFunc(segs, func(a, c segMetadata) int { return cmp.Compare(a.startExtent, c.startExtent) })
	m := &extentMap{name: b.vgName + "/" + lv.name}
	maxExtents := math.MaxInt64 / b.extentBytes
	var problems []string
	next := int64(0)
	for _, s := range segs {
		if s.startExtent != next {
			return nil, fmt.Sprintf("segment at extent %d leaves a gap or overlap: the previous one ends at extent %d", s.startExtent, next)
		}
		if s.extentCount > maxExtents-next {
			return nil, fmt.Sprintf("segment at extent %d: %d extents overflow the LV size", s.startExtent, s.extentCount)
		}
		ms, problem := b.segment(s, depth)
		if ms == nil {
			return nil, problem
		}
		if problem != "" {
			problems = append(problems, problem)
		}
		ms.start, ms.length = next*b.extentBytes, s.extentCount*b.extentBytes
		if ms.chunkBytes == 0 {
			ms.chunkBytes = ms.length
		}
		m.segs = append(m.segs, *ms)
		next += s.extentCount
	}
	m.size = next * b.extentBytes
	return m, summarize(problems)
}

// segment maps one segment; nil means the segment cannot be read (unsupported type, or
// geometry that does not add up).
func (b *lvBuilder) segment(s segMetadata, depth int) (*mappedSegment, string) {
	switch s.typ {
	case "striped":
		return b.striped(s)
	case "zero":
		return &mappedSegment{zero: true}, ""
	case "mirror", "raid1":
		return b.leg(s, depth)
	}
	return nil, fmt.Sprintf("segment type %s not supported", s.typ)
}

// striped maps a striped segment (a linear one has one stripe): chunks of stripe_size go to the
// stripes in turn, each stripe a run of extent_count/stripe_count extents on its PV.
func (b *lvBuilder) striped(s segMetadata) (*mappedSegment, string) {
	n := s.stripeCount
	if n < 1 || int64(len(s.areas)) != n {
		return nil, fmt.Sprintf("striped segment at extent %d lists %d stripes for stripe_count %d", s.startExtent, len(s.areas), n)
	}
	if s.extentCount%n != 0 {
		return nil, fmt.Sprintf("striped segment at extent %d: %d extents do not split into %d stripes", s.startExtent, s.extentCount, n)
	}
	perStripe := s.extentCount / n
	stripeBytes := perStripe * b.extentBytes // cannot overflow: extentCount*extentBytes was checked
	ms := &mappedSegment{}
	if n > 1 {
		ms.chunkBytes = s.stripeSize * lvmSectorSize
		if stripeBytes%ms.chunkBytes != 0 {
			return nil, fmt.Sprintf("striped segment at extent %d: stripes of %d bytes are not a multiple of the %d-byte stripe size",
				s.startExtent, stripeBytes, ms.chunkBytes)
		}
	}
	var problems []string
	for _, a := range s.areas {
		place := b.pvs[a.pv]
		if place == nil {
			return nil, fmt.Sprintf("segment at extent %d uses physical volume %q, which is not in the metadata", s.startExtent, a.pv)
		}
		area, problem := b.pvArea(place, a.start, perStripe, stripeBytes)
		if problem != "" {
			problems = append(problems, problem)
		}
		ms.areas = append(ms.areas, area)
	}
	return ms, summarize(problems)
}

// pvArea locates extents [start, start+count) of a PV; the area has a nil reader when the PV is
// missing, and a problem when the extents lie beyond the PV or the bytes present.
func (b *lvBuilder) pvArea(place *pvPlacement, start, count, length int64) (mappedArea, string) {
	p := place.meta
	uuid := formatLVMUUID(p.id)
	if place.dev == nil {
		return mappedArea{what: fmt.Sprintf("missing physical volume %s (%s)", p.key, uuid)},
			fmt.Sprintf("physical volume %s (%s) is missing", p.key, uuid)
	}
	area := mappedArea{r: place.dev.r, what: fmt.Sprintf("physical volume %s (%s)", p.key, place.dev.volume)}
	if p.peStart < 0 || p.peStart > place.dev.size/lvmSectorSize {
		return mappedArea{what: area.what}, fmt.Sprintf("physical volume %s: pe_start %d lies outside it", p.key, p.peStart)
	}
	base := p.peStart * lvmSectorSize
	if start > (math.MaxInt64-base)/b.extentBytes-count {
		return mappedArea{what: area.what}, fmt.Sprintf("physical volume %s: extent %d is out of range", p.key, start)
	}
	area.base = base + start*b.extentBytes
	switch {
	case start+count > p.peCount:
		return area, fmt.Sprintf("extents %d-%d lie beyond the %d extents of physical volume %s", start, start+count-1, p.peCount, p.key)
	case area.base+length > place.dev.size:
		return area, fmt.Sprintf("extents %d-%d lie past the end of %s (truncated image?)", start, start+count-1, place.dev.volume)
	}
	return area, ""
}

// leg maps a mirror or raid1 segment to one of its legs: the first one fully readable, else the
// first one readable in part. The legs hold the same bytes.
func (b *lvBuilder) leg(s segMetadata, depth int) (*mappedSegment, string) {
	var fallback *mappedSegment
	var fallbackProblem string
	var reasons []string
	for _, a := range s.areas {
		sub, problem := b.build(a.lv, depth+1)
		if sub == nil {
			reasons = append(reasons, fmt.Sprintf("leg %s: %s", a.lv, problem))
			continue
		}
		if a.start < 0 || a.start > sub.size/b.extentBytes-s.extentCount {
			reasons = append(reasons, fmt.Sprintf("leg %s is shorter than the segment", a.lv))
			continue
		}
		ms := &mappedSegment{areas: []mappedArea{{r: sub, base: a.start * b.extentBytes, what: "leg " + a.lv}}}
		if problem == "" {
			return ms, ""
		}
		if fallback == nil {
			fallback, fallbackProblem = ms, problem
		}
	}
	if fallback != nil {
		return fallback, fallbackProblem
	}
	return nil, fmt.Sprintf("%s segment at extent %d has no readable leg (%s)", s.typ, s.startExtent, summarize(reasons))
}

// maxProblems is how many distinct problems a message lists before it counts the rest:
// problems nest (a leg's problem includes its own legs'), so unbounded lists would multiply.
const maxProblems = 2

// summarize joins the first problems and counts the others.
func summarize(problems []string) string {
	var unique []string
	for _, p := range problems {
		if !slices.Contains(unique, p) {
			unique = append(unique, p)
		}
	}
	if len(unique) <= maxProblems {
		return strings.Join(unique, "; ")
	}
	return fmt.Sprintf("%s; and %d more", strings.Join(unique[:maxProblems], "; "), len(unique)-maxProblems)
}

func saturatingAdd(a, b int64) int64 {
	if b > math.MaxInt64-a {
		return math.MaxInt64
	}
	return a + b
}

func saturatingMul(a, b int64) int64 {
	if a == 0 || b == 0 {
		return 0
	}
	if a > math.MaxInt64/b {
		return math.MaxInt64
	}
	return a * b
}
