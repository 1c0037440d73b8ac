package vmdk

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// descriptorMagic starts every VMware descriptor, standalone or embedded in a sparse extent.
const descriptorMagic = "# disk descriptorfile"

// Extent access modes and types as a descriptor spells them.
const (
	accessRW       = "RW"
	accessRDONLY   = "RDONLY"
	accessNOACCESS = "NOACCESS"

	typeSparse     = "SPARSE"
	typeFlat       = "FLAT"
	typeZero       = "ZERO"
	typeVMFS       = "VMFS"
	typeVMFSSparse = "VMFSSPARSE"
	typeVMFSRDM    = "VMFSRDM"
	typeVMFSRaw    = "VMFSRAW"
	typeSESparse   = "SESPARSE"
)

// descriptor is what a VMware disk descriptor says.
type descriptor struct {
	createType string
	parentHint string // parentFileNameHint: set on delta disks
	cid        string
	parentCID  string
	extents    []extentLine
}

// extentLine is one line of the "Extent description" section:
//
//	ACCESS SECTORS TYPE ["FILE" [OFFSET]]
type extentLine struct {
	line    int // 1-based line number, for error messages
	access  string
	sectors int64
	kind    string
	file    string
	offset  int64 // FLAT only: where the extent starts in the file, in sectors
}

// looksLikeDescriptor reports whether b starts (after blanks or a UTF-8 BOM) with the
// "# Disk DescriptorFile" line.
func looksLikeDescriptor(b []byte) bool {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	b = bytes.TrimLeft(b, " \t\r\n")
	if len(b) < len(descriptorMagic) {
		return false
	}
	return strings.EqualFold(string(b[:len(descriptorMagic)]), descriptorMagic)
}

// parseDescriptor parses descriptor text. It is tolerant of what it does not need (unknown keys,
// the disk database, comments, padding) and strict about extent lines, whose numbers decide
// where data is read. The text must already be bounded by maxDescriptorBytes.
func parseDescriptor(text []byte) (*descriptor, error) { return parseDescriptorLines(text, false) }

// parseDescriptorKeys parses only the key/value lines: what a sparse extent's embedded
// descriptor contributes when the extent's own header says where its data is.
func parseDescriptorKeys(text []byte) *descriptor {
	d, _ := parseDescriptorLines(text, true)
	return d
}

func parseDescriptorLines(text []byte, keysOnly bool) (*descriptor, error) {
	if len(text) > maxDescriptorBytes {
		return nil, corrupt("descriptor", "%d bytes exceed the %d-byte limit", len(text), maxDescriptorBytes)
	}
	// An embedded descriptor is padded with NULs up to its sector count.
	if i := bytes.IndexByte(text, 0); i >= 0 {
		text = text[:i]
	}
	d := &descriptor{}
	var total int64
	// Walk the lines without splitting the text up front: a megabyte of newlines would
	// otherwise become a million-entry slice.
	rest := string(text)
	for n := 0; rest != ""; n++ {
		var raw string
		raw, rest, _ = strings.Cut(rest, "\n")
		line := strings.TrimSpace(raw)
		if line == "" || line[0] == '#' {
			continue
		}
		if access, fields, ok := cutAccess(line); ok {
			if keysOnly {
				continue
			}
			e, err := parseExtentLine(access, fields)
			if err != nil {
				return nil, corrupt(fmt.Sprintf("descriptor line %d", n+1), "%v", err)
			}
			if e.sectors == 0 {
				continue // qemu skips empty extents too; they map nothing
			}
			e.line = n + 1
			if len(d.extents) == maxExtents {
				return nil, corrupt("descriptor", "more than %d extents", maxExtents)
			}
			if e.sectors > maxVirtualBytes/sectorSize-total {
				return nil, corrupt(fmt.Sprintf("descriptor line %d", n+1),
					"extents add up to more than the %d-byte limit of a virtual disk", int64(maxVirtualBytes))
			}
			total += e.sectors
			d.extents = append(d.extents, e)
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		value = unquote(strings.TrimSpace(value))
		switch strings.TrimSpace(key) {
		case "createType":
			d.createType = value
		case "parentFileNameHint":
			d.parentHint = value
		case "CID":
			d.cid = value
		case "parentCID":
			d.parentCID = value
		}
	}
	return d, nil
}

// cutAccess splits an extent line's access mode from the rest of the line.
func cutAccess(line string) (access, rest string, ok bool) {
	for _, a := range []string{accessRW, accessRDONLY, accessNOACCESS} {
		if len(line) > len(a) && line[:len(a)] == a && (line[len(a)] == ' ' || line[len(a)] == '\t') {
			return a, strings.TrimSpace(line[len(a):]), true
		}
	}
	return "", "", false
}

func parseExtentLine(access, rest string) (extentLine, error) {
	e := extentLine{access: access}
	sectors, rest := cutField(rest)
	kind, rest := cutField(rest)
	n, err := strconv.ParseInt(sectors, 10, 64)
	if err != nil || n < 0 {
		return e, fmt.Errorf("extent size %s is not a sector count", quote(sectors))
	}
	e.sectors, e.kind = n, kind
	switch kind {
	case typeZero:
		return e, nil // no file
	case typeSparse, typeFlat, typeVMFS, typeVMFSSparse, typeVMFSRDM, typeVMFSRaw, typeSESparse:
	case "":
		return e, fmt.Errorf("extent line has no type")
	default:
		return e, fmt.Errorf("unknown extent type %s", quote(kind))
	}
	if strings.HasPrefix(rest, `"`) {
		end := strings.IndexByte(rest[1:], '"')
		if end < 0 {
			return e, fmt.Errorf("extent file name has no closing quote")
		}
		e.file, rest = rest[1:1+end], strings.TrimSpace(rest[2+end:])
	} else {
		e.file, rest = cutField(rest) // tolerate an unquoted name without blanks
	}
	if e.file == "" {
		return e, fmt.Errorf("%s extent names no file", kind)
	}
	if offset, _ := cutField(rest); offset != "" {
		o, err := strconv.ParseInt(offset, 10, 64)
		if err != nil || o < 0 || o > maxVirtualBytes/sectorSize {
			return e, fmt.Errorf("extent offset %s is not a sector number", quote(offset))
		}
		e.offset = o
	}
	return e, nil
}

// cutField returns the first blank-separated field of s and the rest, trimmed.
func cutField(s string) (field, rest string) {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, " \t"); i >= 0 {
		return s[:i], strings.TrimSpace(s[i:])
	}
	return s, ""
}

func unquote(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return s[1 : len(s)-1]
	}
	return s
}
