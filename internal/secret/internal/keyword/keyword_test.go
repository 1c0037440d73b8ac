package keyword

import (
	"bytes"
	"math/rand/v2"
	"sort"
	"testing"
)

// naive lists every (keyword, end) pair by brute force over the lowered input.
func naive(words []string, data []byte) []Hit {
	low := asciiLower(data)
	var hits []Hit
	for id, w := range words {
		lw := asciiLower([]byte(w))
		for i := 0; i+len(lw) <= len(low); i++ {
			if bytes.Equal(low[i:i+len(lw)], lw) {
				hits = append(hits, Hit{Keyword: id, End: i + len(lw), Len: len(lw)})
			}
		}
	}
	return hits
}

// asciiLower folds A-Z only: bytes.ToLower would rewrite invalid UTF-8 and shift offsets.
func asciiLower(b []byte) []byte {
	out := make([]byte, len(b))
	for i, c := range b {
		out[i] = lower(c)
	}
	return out
}

func collect(m *Matcher, data []byte) []Hit {
	return m.Append(nil, data)
}

func sortHits(h []Hit) {
	sort.Slice(h, func(i, j int) bool {
		if h[i].End != h[j].End {
			return h[i].End < h[j].End
		}
		return h[i].Keyword < h[j].Keyword
	})
}

func TestMatchesNaive(t *testing.T) {
	words := []string{"akia", "ASIA", "ghp_", "he", "she", "his", "hers", "-----begin", "a", "aa", "aaa", "key", "KEY", "x"}
	m, err := New(words)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte("aAkKiIsShHeErR-_gGpPbBnNyYx \n\x00\xff")
	for n := 0; n < 2000; n++ {
		data := make([]byte, r.IntN(400))
		for i := range data {
			data[i] = alphabet[r.IntN(len(alphabet))]
		}
		got, want := collect(m, data), naive(words, data)
		sortHits(got)
		sortHits(want)
		if len(got) != len(want) {
			t.Fatalf("%q: got %d hits, want %d\n%v\n%v", data, len(got), len(want), got, want)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("%q: hit %d = %+v, want %+v", data, i, got[i], want[i])
			}
		}
	}
}

func TestNewRejectsEmpty(t *testing.T) {
	if _, err := New(nil); err == nil {
		t.Error("no words: want error")
	}
	if _, err := New([]string{"a", ""}); err == nil {
		t.Error("empty word: want error")
	}
}

// TestHitsInOrder checks the lanes are stitched back in end order, seams included.
func TestHitsInOrder(t *testing.T) {
	m, _ := New([]string{"abc", "bcd", "c"})
	data := bytes.Repeat([]byte("xabcdy"), 1000)
	hits := m.Append(nil, data)
	want := naive([]string{"abc", "bcd", "c"}, data)
	if len(hits) != len(want) {
		t.Fatalf("got %d hits, want %d", len(hits), len(want))
	}
	for i := 1; i < len(hits); i++ {
		if hits[i].End < hits[i-1].End {
			t.Fatalf("hit %d ends at %d before hit %d at %d", i, hits[i].End, i-1, hits[i-1].End)
		}
	}
}

func TestNoAllocation(t *testing.T) {
	m, _ := New([]string{"password", "akia"})
	data := bytes.Repeat([]byte("the password is AKIA and more "), 100)
	dst := m.Append(nil, data)
	allocs := testing.AllocsPerRun(10, func() {
		dst = m.Append(dst[:0], data)
	})
	if allocs != 0 {
		t.Errorf("allocs = %v, want 0", allocs)
	}
}
