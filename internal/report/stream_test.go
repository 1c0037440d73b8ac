package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/snapwatch/snapwatch/internal/finding"
)

func TestJSONLStreamWritesAsFindingsCome(t *testing.T) {
	var b bytes.Buffer
	s, err := NewStream(&b, FormatJSONL, Options{})
	if err != nil {
		t.Fatal(err)
	}
	fs := fixtureFindings()
	for i, f := range fs[:4] {
		if err := s.Add(f); err != nil {
			t.Fatal(err)
		}
		if got := strings.Count(b.String(), "\n"); got != i+1 {
			t.Fatalf("after %d Adds, %d lines: jsonl must not buffer", i+1, got)
		}
	}
	if strings.Contains(b.String(), leakedPassword[:5]) {
		t.Fatal("streamed finding not redacted")
	}
	// Close writes what r holds and was not added, and nothing else.
	r := fixtureResult()
	if err := s.Close(r); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != len(fs) {
		t.Fatalf("%d lines for %d distinct findings", len(lines), len(fs))
	}
	ids := map[string]bool{}
	for _, l := range lines {
		var f finding.Finding
		if err := json.Unmarshal([]byte(l), &f); err != nil {
			t.Fatalf("line is not a finding: %v", err)
		}
		if ids[f.ID] {
			t.Fatalf("%s written twice", f.ID)
		}
		ids[f.ID] = true
	}
	if err := s.Add(fs[0]); err == nil {
		t.Fatal("Add after Close accepted")
	}
	if err := s.Close(r); err == nil {
		t.Fatal("second Close accepted")
	}
}

// A buffered stream writes exactly what Write writes for the same findings, however they were
// split between Add and r.Findings.
func TestBufferedStreamMatchesWrite(t *testing.T) {
	for _, f := range Formats() {
		want := render(t, f, fixtureResult(), Options{Width: 100})
		for _, split := range []int{0, 4, len(fixtureFindings())} {
			var b bytes.Buffer
			s, err := NewStream(&b, f, Options{Width: 100})
			if err != nil {
				t.Fatal(err)
			}
			fs := fixtureFindings()
			for _, x := range fs[:split] {
				if err := s.Add(x); err != nil {
					t.Fatal(err)
				}
			}
			r := fixtureResult()
			if split == len(fs) && f != FormatJSONL {
				r.Findings = nil // everything came through Add
			}
			if err := s.Close(r); err != nil {
				t.Fatal(err)
			}
			got := b.Bytes()
			if f == FormatJSONL {
				// Streamed lines come in arrival order: compare as sets.
				if !sameLines(got, want) {
					t.Errorf("jsonl, %d added: different findings", split)
				}
				continue
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s, %d added: stream output differs from Write:\n%s", f, split, firstDiff(got, want))
			}
		}
	}
}

func sameLines(a, b []byte) bool {
	count := map[string]int{}
	for _, l := range strings.Split(string(a), "\n") {
		count[l]++
	}
	for _, l := range strings.Split(string(b), "\n") {
		count[l]--
	}
	for _, n := range count {
		if n != 0 {
			return false
		}
	}
	return true
}

func TestStreamConcurrentAdd(t *testing.T) {
	for _, f := range []Format{FormatJSONL, FormatJSON} {
		var b bytes.Buffer
		s, _ := NewStream(&b, f, Options{})
		var wg sync.WaitGroup
		for g := 0; g < 8; g++ {
			wg.Add(1)
			go func(g int) {
				defer wg.Done()
				for i := 0; i < 50; i++ {
					id := finding.Fingerprint("r", finding.Resource{ID: "x"}, string(rune('a'+g)), string(rune('a'+i)))
					if err := s.Add(finding.Finding{ID: id, Rule: "r", Severity: finding.Medium}); err != nil {
						t.Error(err)
					}
				}
			}(g)
		}
		wg.Wait()
		if err := s.Close(&Result{}); err != nil {
			t.Fatal(err)
		}
		n := strings.Count(b.String(), `"rule":"r"`) + strings.Count(b.String(), `"rule": "r"`)
		if n != 400 {
			t.Errorf("%s: %d findings written, want 400", f, n)
		}
	}
}

func TestNewStreamUnknownFormat(t *testing.T) {
	if _, err := NewStream(&bytes.Buffer{}, "xml", Options{}); err == nil {
		t.Fatal("accepted")
	}
}
