package secret

import "strings"

// pathIndex finds the globs a path may match without trying them all: each signature glob is
// filed under one literal of its tail, chosen at load time, and a lookup costs one map probe
// for the file name, two short trie walks over its ends, and one probe per indexed directory
// depth. Candidates are then matched in full.
type pathIndex struct {
	globs    []*glob
	exact    map[string][]int32   // lower-cased file name → globs whose last segment is that literal
	exactF   keyFilter            // (first byte, length) of exact's keys: most names skip the map
	suffix   trie                 // reversed lower-cased literal ends of last-segment patterns ("*.kdbx")
	prefix   trie                 // lower-cased literal starts of last-segment patterns ("id_*")
	dirs     []map[string][]int32 // by distance from the end (dirs[1]: parent directory), nil if none
	dirsF    []keyFilter
	anywhere map[string][]int32 // literal directory segments before a ** (any depth): costly, avoided
	always   []int32            // globs without any literal: tried for every path
}

// minAnchor is the shortest literal end of a file-name pattern worth indexing by; shorter ones
// fall back to a directory literal when there is one.
const minAnchor = 2

// maxTrieLiteral bounds the literal ends kept in the tries (longer ones are cut: candidates are
// matched in full anyway), and maxMapLiteral the names and directory literals the maps hold, so
// that a lookup lower-cases at most that much into a stack buffer.
const (
	maxTrieLiteral = 64
	maxMapLiteral  = 2 * maxTrieLiteral
)

func newPathIndex(globs []*glob) *pathIndex {
	ix := &pathIndex{globs: globs, exact: map[string][]int32{}, anywhere: map[string][]int32{}}
	ix.suffix.init()
	ix.prefix.init()
	for id, g := range globs {
		ix.add(int32(id), g)
	}
	return ix
}

func (ix *pathIndex) add(id int32, g *glob) {
	last := g.segs[len(g.segs)-1]
	if last.kind == segLiteral && len(last.text) <= maxMapLiteral {
		key := lowerString(last.text)
		ix.exact[key] = append(ix.exact[key], id)
		ix.exactF.add(key)
		return
	}
	// The longest literal wins: the file name's literal end or start, or a directory literal
	// after the last ** (its distance from the end is fixed). "**/Panther/Unattend/*.xml" is
	// filed under "unattend", not under every ".xml".
	suf, pre := "", ""
	if last.kind == segPattern {
		suf, pre = lowerString(literalSuffix(last.text)), lowerString(literalPrefix(last.text))
		suf = suf[max(0, len(suf)-maxTrieLiteral):]
		pre = pre[:min(len(pre), maxTrieLiteral)]
	}
	dirLit, dirK := "", 0
	for i, k := len(g.segs)-2, 1; i >= 0 && g.segs[i].kind != segAny; i, k = i-1, k+1 {
		if g.segs[i].kind == segLiteral {
			if len(g.segs[i].text) <= maxMapLiteral {
				dirLit, dirK = lowerString(g.segs[i].text), k
			}
			break
		}
	}
	// A directory literal is a whole segment, more selective than a file name's end of the same
	// length ("cache" beats ".json"): it gets a bonus, unless it names a directory found all
	// over a disk ("etc", "lib", "data"), where the file name's end is the better filter.
	dirScore := 0
	switch {
	case dirLit == "":
	case commonDirs[dirLit]:
		dirScore = 1
	default:
		dirScore = len(dirLit) + 2
	}
	switch best := max(len(suf), len(pre), dirScore); {
	case best == 0 || best < minAnchor && dirLit == "":
	case dirScore == best:
		m := ix.dir(dirK)
		m[dirLit] = append(m[dirLit], id)
		ix.dirsF[dirK].add(dirLit)
		return
	case len(suf) == best:
		ix.suffix.insert(reverse(suf), id)
		return
	default:
		ix.prefix.insert(pre, id)
		return
	}
	for i := len(g.segs) - 2; i >= 0; i-- {
		if g.segs[i].kind == segLiteral && len(g.segs[i].text) <= maxMapLiteral {
			key := lowerString(g.segs[i].text)
			ix.anywhere[key] = append(ix.anywhere[key], id)
			return
		}
	}
	ix.always = append(ix.always, id)
}

func (ix *pathIndex) dir(k int) map[string][]int32 {
	for len(ix.dirs) <= k {
		ix.dirs = append(ix.dirs, nil)
		ix.dirsF = append(ix.dirsF, keyFilter{})
	}
	if ix.dirs[k] == nil {
		ix.dirs[k] = map[string][]int32{}
	}
	return ix.dirs[k]
}

// commonDirs are directory names too frequent to index by when the file name offers a literal.
var commonDirs = map[string]bool{
	"etc": true, "lib": true, "lib64": true, "usr": true, "var": true, "opt": true, "srv": true,
	"home": true, "root": true, "data": true, "cache": true, "config": true, "conf.d": true,
	"share": true, "bin": true, "src": true, "include": true, "local": true, "tmp": true,
	"log": true, "logs": true, "run": true, "doc": true, "ssl": true, "certs": true, "keys": true,
	"private": true, "server": true, "client": true, "lib32": true, "libexec": true, "sbin": true,
}

// slow reports whether some glob is tried for every path or needs a probe per directory: the
// embedded catalogue has none, and a test keeps it so.
func (ix *pathIndex) slow() []string {
	var out []string
	for _, id := range ix.always {
		out = append(out, ix.globs[id].src)
	}
	for _, ids := range ix.anywhere {
		for _, id := range ids {
			out = append(out, ix.globs[id].src)
		}
	}
	return out
}

// candidates appends the ids of the globs that may match path.
func (ix *pathIndex) candidates(path string, out []int32) []int32 {
	var buf [maxMapLiteral]byte
	base := path[strings.LastIndexByte(path, '/')+1:]
	if len(base) <= maxMapLiteral && ix.exactF.mayHold(base) {
		if ids, ok := ix.exact[string(appendLower(buf[:0], base))]; ok {
			out = append(out, ids...)
		}
	}
	// The tries fold case as they walk; no literal in them is longer than maxTrieLiteral.
	out = ix.suffix.walk(base, true, out)
	out = ix.prefix.walk(base, false, out)
	// One backward pass over the directories the index has literals for.
	end := len(path) - len(base) - 1 // the slash before the file name
	for k := 1; k < len(ix.dirs) && end > 0; k++ {
		for end > 0 && path[end-1] == '/' {
			end--
		}
		start := strings.LastIndexByte(path[:end], '/') + 1
		if m := ix.dirs[k]; m != nil && end-start <= maxMapLiteral && ix.dirsF[k].mayHold(path[start:end]) {
			if ids, ok := m[string(appendLower(buf[:0], path[start:end]))]; ok {
				out = append(out, ids...)
			}
		}
		end = start - 1
	}
	if len(ix.anywhere) > 0 {
		rest := path[:max(0, len(path)-len(base)-1)]
		for rest != "" {
			i := strings.LastIndexByte(rest, '/')
			if seg := rest[i+1:]; seg != "" && len(seg) <= maxMapLiteral {
				if ids, ok := ix.anywhere[string(appendLower(buf[:0], seg))]; ok {
					out = append(out, ids...)
				}
			}
			if i < 0 {
				break
			}
			rest = rest[:i]
		}
	}
	return append(out, ix.always...)
}

func appendLower(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		dst = append(dst, lowerASCII(s[i]))
	}
	return dst
}

func reverse(s string) string {
	b := []byte(s)
	for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
	return string(b)
}

// trie holds lower-case literals; walking a file name from one end reports every literal that
// is a prefix (or, walked backwards, a suffix) of it, folding ASCII case on the way. The root's
// children are a direct table.
type trie struct {
	root  [256]int32 // node index of the root's child per byte; 0 means none
	nodes []trieNode // nodes[0] is the root
}

type trieNode struct {
	edges []trieEdge
	globs []int32
}

type trieEdge struct {
	b    byte
	next int32
}

func (t *trie) init() { t.nodes = []trieNode{{}} }

func (t *trie) insert(lit string, id int32) {
	if lit == "" {
		return
	}
	n := t.root[lit[0]]
	if n == 0 {
		n = int32(len(t.nodes))
		t.nodes = append(t.nodes, trieNode{})
		t.root[lit[0]] = n
	}
	for i := 1; i < len(lit); i++ {
		next := int32(0)
		for _, e := range t.nodes[n].edges {
			if e.b == lit[i] {
				next = e.next
				break
			}
		}
		if next == 0 {
			next = int32(len(t.nodes))
			t.nodes = append(t.nodes, trieNode{})
			t.nodes[n].edges = append(t.nodes[n].edges, trieEdge{b: lit[i], next: next})
		}
		n = next
	}
	t.nodes[n].globs = append(t.nodes[n].globs, id)
}

func (t *trie) walk(s string, backwards bool, out []int32) []int32 {
	if len(s) == 0 {
		return out
	}
	i, step := 0, 1
	if backwards {
		i, step = len(s)-1, -1
	}
	n := t.root[lowerASCII(s[i])]
	for n != 0 {
		out = append(out, t.nodes[n].globs...)
		if i += step; i < 0 || i >= len(s) {
			break
		}
		c, next := lowerASCII(s[i]), int32(0)
		for _, e := range t.nodes[n].edges {
			if e.b == c {
				next = e.next
				break
			}
		}
		n = next
	}
	return out
}

// keyFilter answers "may a key with this first byte and length be in the map?" from one word
// per (case-folded) first byte with a bit per length mod 64: a single load rejects nearly every
// name before it is lower-cased and hashed.
type keyFilter [256]uint64

func (f *keyFilter) add(key string) {
	if key != "" {
		f[lowerASCII(key[0])] |= 1 << (len(key) & 63)
	}
}

func (f *keyFilter) mayHold(s string) bool {
	return s != "" && f[lowerASCII(s[0])]&(1<<(len(s)&63)) != 0
}
