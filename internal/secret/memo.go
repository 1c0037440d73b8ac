package secret

import "bytes"

// findMemo remembers, for one needle, a span known not to contain it, so that the structural
// checks, which look past their match for an END line or a sibling field, do not scan the same
// bytes again for every candidate of an input full of unterminated headers. Without it such an
// input costs (candidates × reach); with it, each byte is searched about once per needle.
type findMemo struct {
	needle      string
	from, until int // data[from:until] holds no needle
}

// scanMemo is the per-Scan state of the checks.
type scanMemo struct {
	finds [4]findMemo
}

func (m *scanMemo) reset() { *m = scanMemo{} }

// index returns the first offset ≥ from of needle in data[:limit], or -1.
func (m *scanMemo) index(data []byte, needle string, from, limit int) int {
	if from >= limit {
		return -1
	}
	slot := &m.finds[0]
	for i := range m.finds {
		if m.finds[i].needle == needle {
			slot = &m.finds[i]
			break
		}
		if m.finds[i].needle == "" {
			slot = &m.finds[i]
		}
	}
	start := from
	if slot.needle == needle && from >= slot.from && from <= slot.until {
		start = max(from, slot.until-len(needle)+1)
	}
	if start < limit {
		if i := bytes.Index(data[start:limit], []byte(needle)); i >= 0 {
			return start + i
		}
	}
	if slot.needle != needle || from < slot.from || from > slot.until {
		*slot = findMemo{needle: needle, from: from, until: limit}
	} else {
		slot.until = max(slot.until, limit)
	}
	return -1
}
