package volume

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// vgMetadata is the part of a volume group's metadata snapwatch uses. Extents and offsets are as
// lvm2 writes them: extents, and 512-byte sectors.
type vgMetadata struct {
	name          string
	id            string
	seqno         int64
	extentSectors int64
	pvs           []pvMetadata
	lvs           []lvMetadata
}

type pvMetadata struct {
	key     string // the section name segments refer to, e.g. "pv0"
	id      string // UUID without dashes, as in the PV label
	peStart int64  // sectors from the start of the PV to extent 0
	peCount int64
}

type lvMetadata struct {
	name     string
	id       string
	visible  bool
	segments []segMetadata
	problem  string // why the LV's description cannot be used, if it cannot
}

// segMetadata is one segment of an LV: extents [startExtent, startExtent+extentCount) mapped to
// areas by its type.
type segMetadata struct {
	startExtent int64
	extentCount int64
	typ         string
	stripeCount int64 // striped
	stripeSize  int64 // striped, sectors
	areas       []areaMetadata
	origin      string // snapshot: the LV it is a snapshot of
	cowStore    string // snapshot: the LV holding its exceptions
}

// areaMetadata is where a segment's stripe or leg lies: extent start on a PV (striped) or on a
// sub-LV (mirror and raid legs).
type areaMetadata struct {
	pv    string
	lv    string
	start int64
}

// parseVGMetadata reads the volume group section of parsed metadata text. It fails only when the
// VG itself cannot be used; a broken LV is kept with its problem.
func parseVGMetadata(root *configNode) (*vgMetadata, error) {
	var sec *configNode
	for i := range root.items {
		if root.items[i].kind == configSection {
			sec = &root.items[i]
			break
		}
	}
	if sec == nil {
		return nil, errors.New("no volume group section")
	}
	vg := &vgMetadata{name: sec.key}
	var ok bool
	if vg.id, ok = sec.stringValue("id"); !ok {
		return nil, fmt.Errorf("volume group %q has no id", vg.name)
	}
	vg.seqno, _ = sec.intValue("seqno")
	if vg.extentSectors, ok = sec.intValue("extent_size"); !ok || vg.extentSectors <= 0 || vg.extentSectors > maxExtentSectors {
		return nil, fmt.Errorf("volume group %q: extent_size %d is not in [1, %d] sectors", vg.name, vg.extentSectors, int64(maxExtentSectors))
	}
	if pvs := sec.section("physical_volumes"); pvs != nil {
		for i := range pvs.items {
			p := &pvs.items[i]
			if p.kind != configSection {
				continue
			}
			id, _ := p.stringValue("id")
			start, _ := p.intValue("pe_start")
			count, _ := p.intValue("pe_count")
			vg.pvs = append(vg.pvs, pvMetadata{key: p.key, id: strings.ReplaceAll(id, "-", ""), peStart: start, peCount: count})
		}
	}
	if lvs := sec.section("logical_volumes"); lvs != nil {
		for i := range lvs.items {
			if lvs.items[i].kind == configSection {
				vg.lvs = append(vg.lvs, parseLVMetadata(&lvs.items[i]))
			}
		}
	}
	return vg, nil
}

// parseLVMetadata reads one LV section; what cannot be understood goes into its problem.
func parseLVMetadata(sec *configNode) lvMetadata {
	lv := lvMetadata{name: sec.key}
	lv.id, _ = sec.stringValue("id")
	if status, ok := sec.arrayValue("status"); ok {
		lv.visible = slices.ContainsFunc(status, func(n configNode) bool { return n.kind == configString && n.str == "VISIBLE" })
	}
	for i := range sec.items {
		s := &sec.items[i]
		if s.kind != configSection {
			continue
		}
		seg, err := parseSegment(s)
		if err != nil {
			lv.problem = fmt.Sprintf("%s: %v", s.key, err)
			lv.segments = nil
			return lv
		}
		lv.segments = append(lv.segments, seg)
	}
	if len(lv.segments) == 0 {
		lv.problem = "no segments"
	}
	return lv
}

// parseSegment reads the fields of a segment the readers need for its type.
func parseSegment(s *configNode) (segMetadata, error) {
	var seg segMetadata
	var ok bool
	if seg.startExtent, ok = s.intValue("start_extent"); !ok || seg.startExtent < 0 {
		return seg, errors.New("missing or negative start_extent")
	}
	if seg.extentCount, ok = s.intValue("extent_count"); !ok || seg.extentCount <= 0 {
		return seg, errors.New("missing or non-positive extent_count")
	}
	if seg.typ, ok = s.stringValue("type"); !ok {
		return seg, errors.New("missing type")
	}
	switch seg.typ {
	case "striped":
		seg.stripeCount, _ = s.intValue("stripe_count")
		if seg.stripeCount < 1 || seg.stripeCount > maxStripes {
			return seg, fmt.Errorf("stripe_count %d is not in [1, %d]", seg.stripeCount, maxStripes)
		}
		if seg.stripeCount > 1 {
			if seg.stripeSize, _ = s.intValue("stripe_size"); seg.stripeSize <= 0 || seg.stripeSize > maxExtentSectors {
				return seg, fmt.Errorf("stripe_size %d is not in [1, %d] sectors", seg.stripeSize, int64(maxExtentSectors))
			}
		}
		areas, err := pairedAreas(s, "stripes")
		if err != nil {
			return seg, err
		}
		if int64(len(areas)) != seg.stripeCount {
			return seg, fmt.Errorf("%d stripes listed for stripe_count %d", len(areas), seg.stripeCount)
		}
		for _, a := range areas {
			seg.areas = append(seg.areas, areaMetadata{pv: a.name, start: a.start})
		}
	case "mirror":
		areas, err := pairedAreas(s, "mirrors")
		if err != nil {
			return seg, err
		}
		for _, a := range areas {
			seg.areas = append(seg.areas, areaMetadata{lv: a.name, start: a.start})
		}
	case "raid1":
		// raids lists (metadata LV, image LV) pairs; the images hold the data from extent 0.
		raids, ok := s.arrayValue("raids")
		if !ok || len(raids)%2 != 0 || len(raids) > 2*maxStripes {
			return seg, errors.New("raids is not a list of (metadata, image) pairs")
		}
		for i := 1; i < len(raids); i += 2 {
			if raids[i].kind != configString {
				return seg, fmt.Errorf("raids element %d is not a name", i)
			}
			seg.areas = append(seg.areas, areaMetadata{lv: raids[i].str})
		}
	case "snapshot":
		seg.origin, _ = s.stringValue("origin")
		seg.cowStore, _ = s.stringValue("cow_store")
	}
	return seg, nil
}

type namedStart struct {
	name  string
	start int64
}

// pairedAreas reads an array of ("name", start extent) pairs such as stripes and mirrors.
func pairedAreas(s *configNode, key string) ([]namedStart, error) {
	arr, ok := s.arrayValue(key)
	if !ok || len(arr)%2 != 0 || len(arr) > 2*maxStripes {
		return nil, fmt.Errorf("%s is not a list of at most %d (name, extent) pairs", key, maxStripes)
	}
	out := make([]namedStart, 0, len(arr)/2)
	for i := 0; i < len(arr); i += 2 {
		if arr[i].kind != configString || arr[i+1].kind != configInt || arr[i+1].num < 0 {
			return nil, fmt.Errorf("%s pair %d is not (name, non-negative extent)", key, i/2)
		}
		out = append(out, namedStart{arr[i].str, arr[i+1].num})
	}
	return out, nil
}
