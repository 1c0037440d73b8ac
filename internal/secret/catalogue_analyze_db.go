package secret

import (
	"bytes"
	"encoding/binary"
	"path"
	"regexp"
	"strings"
)

// SQLite (https://www.sqlite.org/fileformat2.html), read only as far as the head given: the
// schema table (sqlite_master, rooted at page 1) for table names, and the b-trees of a few
// tables for their row counts. Every page must lie inside the content; a page budget and a
// visited set bound the walk on hostile files.

const (
	sqliteMagic     = "SQLite format 3\x00"
	sqliteMaxPages  = 512 // pages visited per file
	sqliteMaxDepth  = 8
	sqliteMaxTables = 1000
)

type sqliteFile struct {
	c        []byte
	pageSize int
	usable   int
	visited  map[uint32]bool
	budget   int
}

func openSQLite(c []byte) (*sqliteFile, bool) {
	if len(c) < 100 || string(c[:16]) != sqliteMagic {
		return nil, false
	}
	ps := int(binary.BigEndian.Uint16(c[16:18]))
	if ps == 1 {
		ps = 65536
	}
	if ps < 512 || ps&(ps-1) != 0 {
		return nil, false
	}
	usable := ps - int(c[20])
	if usable < 480 {
		return nil, false
	}
	return &sqliteFile{c: c, pageSize: ps, usable: usable}, true
}

// walk visits the table b-tree rooted at page root, calling leaf for each leaf cell's local
// payload (nil when only counting). It reports whether every page was inside the content.
func (f *sqliteFile) walk(root uint32, leaf func(payload []byte)) (rows int, complete bool) {
	f.visited = map[uint32]bool{}
	f.budget = sqliteMaxPages
	complete = true
	var visit func(page uint32, depth int)
	visit = func(page uint32, depth int) {
		if page == 0 || depth > sqliteMaxDepth || f.visited[page] || f.budget <= 0 {
			complete = false
			return
		}
		f.visited[page] = true
		f.budget--
		start := int64(page-1) * int64(f.pageSize)
		if start+int64(f.pageSize) > int64(len(f.c)) {
			complete = false
			return
		}
		p := f.c[start : start+int64(f.pageSize)]
		hdr := 0
		if page == 1 {
			hdr = 100
		}
		if hdr+8 > len(p) {
			complete = false
			return
		}
		typ := p[hdr]
		cells := int(binary.BigEndian.Uint16(p[hdr+3:]))
		switch typ {
		case 0x0d: // leaf table
			ptrs := hdr + 8
			for i := 0; i < cells; i++ {
				at := ptrs + 2*i
				if at+2 > len(p) {
					complete = false
					return
				}
				off := int(binary.BigEndian.Uint16(p[at:]))
				if off >= len(p) {
					continue
				}
				rows++
				if leaf != nil {
					if payload, ok := f.leafPayload(p[off:]); ok {
						leaf(payload)
					}
				}
			}
		case 0x05: // interior table
			if hdr+12 > len(p) {
				complete = false
				return
			}
			ptrs := hdr + 12
			for i := 0; i < cells; i++ {
				at := ptrs + 2*i
				if at+2 > len(p) {
					complete = false
					return
				}
				off := int(binary.BigEndian.Uint16(p[at:]))
				if off+4 > len(p) {
					continue
				}
				visit(binary.BigEndian.Uint32(p[off:]), depth+1)
			}
			visit(binary.BigEndian.Uint32(p[hdr+8:]), depth+1)
		default:
			complete = false
		}
	}
	visit(root, 0)
	return rows, complete
}

// leafPayload returns the part of a leaf table cell's record stored on the page.
func (f *sqliteFile) leafPayload(cell []byte) ([]byte, bool) {
	size, n := sqliteVarint(cell)
	if n == 0 {
		return nil, false
	}
	cell = cell[n:]
	if _, n = sqliteVarint(cell); n == 0 { // rowid
		return nil, false
	}
	cell = cell[n:]
	u := uint64(f.usable)
	local := size
	if x := u - 35; size > x {
		m := ((u-12)*32/255 - 23)
		k := m + (size-m)%(u-4)
		local = m
		if k <= x {
			local = k
		}
	}
	if local > uint64(len(cell)) {
		local = uint64(len(cell))
	}
	return cell[:local], true
}

// sqliteVarint decodes a big-endian varint of 1–9 bytes; n is 0 if truncated.
func sqliteVarint(b []byte) (v uint64, n int) {
	for i := 0; i < 9 && i < len(b); i++ {
		if i == 8 {
			return v<<8 | uint64(b[i]), 9
		}
		v = v<<7 | uint64(b[i]&0x7f)
		if b[i] < 0x80 {
			return v, i + 1
		}
	}
	return 0, 0
}

// sqliteColumns decodes the first n columns of a record: text as string, integers as int64,
// anything else (or what lies beyond the payload) as nil.
func sqliteColumns(rec []byte, n int) []any {
	out := make([]any, n)
	hsize, k := sqliteVarint(rec)
	if k == 0 || hsize > uint64(len(rec)) || hsize < uint64(k) {
		return out
	}
	hdr := rec[k:hsize]
	body := rec[hsize:]
	for i := 0; i < n && len(hdr) > 0; i++ {
		st, k := sqliteVarint(hdr)
		if k == 0 {
			return out
		}
		hdr = hdr[k:]
		var size uint64
		switch {
		case st <= 4:
			size = st
		case st == 5:
			size = 6
		case st == 6 || st == 7:
			size = 8
		case st >= 12:
			size = (st - 12) / 2
		}
		if size > uint64(len(body)) {
			return out
		}
		v := body[:size]
		body = body[size:]
		switch {
		case st >= 13 && st%2 == 1:
			out[i] = string(v)
		case st >= 1 && st <= 6:
			var x int64
			if v[0]&0x80 != 0 {
				x = -1
			}
			for _, b := range v {
				x = x<<8 | int64(b)
			}
			out[i] = x
		case st == 8:
			out[i] = int64(0)
		case st == 9:
			out[i] = int64(1)
		}
	}
	return out
}

type sqliteTable struct {
	name string
	root uint32
}

func (f *sqliteFile) tables() ([]sqliteTable, bool) {
	var out []sqliteTable
	_, complete := f.walk(1, func(payload []byte) {
		cols := sqliteColumns(payload, 4)
		typ, _ := cols[0].(string)
		name, _ := cols[1].(string)
		root, _ := cols[3].(int64)
		if typ == "table" && name != "" && len(out) < sqliteMaxTables {
			out = append(out, sqliteTable{name: name, root: uint32(max(0, min(root, 1<<31)))})
		}
	})
	return out, complete
}

var sensitiveTable = regexp.MustCompile(`(?i)user|account|login|credential|passw|secret|token|session|auth|api_?key|oauth|customer|payment|card|wallet|cookie|identit|member|private|nsspriv`)

// analyzeSQLite lists a SQLite database's tables and counts the rows of those whose names
// suggest accounts, credentials, sessions or customers. A database with such tables keeps the
// signature's severity; one without is info.
func analyzeSQLite(a *analysis) bool {
	f, ok := openSQLite(a.content)
	if !ok {
		return false
	}
	tables, complete := f.tables()
	recordSQLiteTables(a, f, tables, complete)
	if _, ok := a.evidence["sensitive_tables"]; !ok {
		a.severity = Info
	}
	return true
}

// analyzeSQLiteSensitive is analyzeSQLite for places full of harmless databases (system tools
// under /var/lib): only a database with account, credential or session tables is reported.
func analyzeSQLiteSensitive(a *analysis) bool {
	if !analyzeSQLite(a) {
		return false
	}
	_, ok := a.evidence["sensitive_tables"]
	return ok
}

func recordSQLiteTables(a *analysis, f *sqliteFile, tables []sqliteTable, complete bool) {
	var names, sensitive nameList
	rows := map[string]any{}
	for _, t := range tables {
		if strings.HasPrefix(t.name, "sqlite_") {
			continue
		}
		names.add(t.name)
		if sensitiveTable.MatchString(t.name) {
			sensitive.add(t.name)
			if len(rows) < 10 {
				if n, ok := f.walk(t.root, nil); ok {
					rows[printableName(t.name)] = n
				}
			}
		}
	}
	a.set("page_size", f.pageSize)
	a.setList("tables", &names, true)
	a.setList("sensitive_tables", &sensitive, true)
	if len(rows) > 0 {
		a.set("rows", rows)
	}
	if !complete {
		a.set("schema_complete", false)
	}
}

// sqliteRows builds an analyzer for a credential store kept in SQLite (a browser's Login Data,
// gcloud's credentials.db): it reports only when one of the named tables has rows, or when
// their count cannot be read from the head given. An empty store is not a leak.
func sqliteRows(names ...string) func(*analysis) bool {
	return func(a *analysis) bool {
		f, ok := openSQLite(a.content)
		if !ok {
			return false
		}
		tables, complete := f.tables()
		recordSQLiteTables(a, f, tables, complete)
		found, unknown, total := false, !complete, 0
		for _, t := range tables {
			for _, want := range names {
				if !strings.EqualFold(t.name, want) {
					continue
				}
				found = true
				n, ok := f.walk(t.root, nil)
				if !ok {
					unknown = true
				}
				total += n
			}
		}
		if !found && complete {
			return false
		}
		if total == 0 && !unknown {
			return false
		}
		a.set("entries", total)
		if unknown {
			a.set("entries_complete", false)
		}
		return true
	}
}

// analyzeMySQLTable confirms an InnoDB tablespace (page 0 is FSP_HDR: type 8 at offset 24) or
// accepts a MyISAM file by name, and names its schema and table from the path.
func analyzeMySQLTable(a *analysis) bool {
	base := path.Base(a.path)
	ext := strings.ToLower(path.Ext(base))
	if ext == ".ibd" || strings.HasPrefix(base, "ibdata") {
		if len(a.content) < 26 || binary.BigEndian.Uint16(a.content[24:26]) != 8 {
			return false
		}
		a.set("format", "innodb")
	}
	if ext != "" && !strings.HasPrefix(base, "ibdata") {
		table := strings.TrimSuffix(base, path.Ext(base))
		schema := path.Base(path.Dir(a.path))
		a.set("schema", printableName(schema))
		a.set("table", printableName(table))
	}
	return true
}

// analyzePGControl checks global/pg_control: 8 KiB with a plausible control-file version and
// catalog version (YYYYMMDDN) in either byte order.
func analyzePGControl(a *analysis) bool {
	c := a.content
	if len(c) < 16 {
		return false
	}
	for _, order := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		ver, cat := order.Uint32(c[8:]), order.Uint32(c[12:])
		if ver >= 700 && ver < 10000 && cat >= 199000000 && cat < 210000000 {
			a.set("pg_control_version", int(ver))
			a.set("catalog_version", int(cat))
			return true
		}
	}
	return false
}

var (
	pgSCRAM = []byte("SCRAM-SHA-256$")
	pgMD5   = regexp.MustCompile(`md5[0-9a-f]{32}`)
)

// analyzePGAuthid counts the role password hashes in pg_authid's heap (global/1260): SCRAM
// verifiers and MD5 hashes (with md5 authentication an MD5 hash logs in as it is).
func analyzePGAuthid(a *analysis) bool {
	scram := bytes.Count(a.content, pgSCRAM)
	md5 := len(pgMD5.FindAllIndex(a.content, 100000))
	if scram == 0 && md5 == 0 {
		return false
	}
	a.set("scram_sha_256", scram)
	a.set("md5", md5)
	if md5 > 0 {
		a.severity = max(a.severity, Critical)
	}
	return true
}
