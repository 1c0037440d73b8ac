//go:build jsoncompare

package event

// The measurements behind the choice of JSON machinery (docs/design/event.md). Run with
//
//	go test -tags jsoncompare -run XXX -bench Compare ./internal/event/
//
// They sit behind a build tag so that ordinary builds do not need go-json-experiment/json,
// which the package does not use.

import (
	"bytes"
	"encoding/json"
	"io"
	"testing"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// splitStd walks {"Records":[...]} with encoding/json's Decoder: Token to the array, Decode
// into a RawMessage per record.
func splitStd(r io.Reader) (int, error) {
	dec := json.NewDecoder(r)
	for range 3 { // { "Records" [
		if _, err := dec.Token(); err != nil {
			return 0, err
		}
	}
	n := 0
	for dec.More() {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// splitV2 walks the same with jsontext.Decoder: ReadToken to the array, ReadValue per record.
func splitV2(r io.Reader) (int, error) {
	dec := jsontext.NewDecoder(r)
	for range 3 {
		if _, err := dec.ReadToken(); err != nil {
			return 0, err
		}
	}
	n := 0
	for dec.PeekKind() != ']' {
		if _, err := dec.ReadValue(); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

func BenchmarkCompareSplit(b *testing.B) {
	c := getCorpus()
	for _, tc := range []struct {
		name  string
		split func(io.Reader) (int, error)
	}{{"encoding-json", splitStd}, {"jsontext", splitV2}} {
		b.Run(tc.name, func(b *testing.B) {
			cpu0 := startCPU()
			for range b.N {
				n := 0
				for _, f := range c.plain {
					k, err := tc.split(bytes.NewReader(f))
					if err != nil {
						b.Fatal(err)
					}
					n += k
				}
				if n != c.records {
					b.Fatal(n)
				}
			}
			report(b, c, cpu0)
		})
	}
}

// BenchmarkCompareFull decodes every record into the CloudTrail struct, v1 against v2.
func BenchmarkCompareFull(b *testing.B) {
	c := getCorpus()
	var recs [][]byte
	for _, f := range c.plain {
		dec := jsontext.NewDecoder(bytes.NewReader(f))
		for range 3 {
			dec.ReadToken()
		}
		for dec.PeekKind() != ']' {
			v, _ := dec.ReadValue()
			recs = append(recs, bytes.Clone(v))
		}
	}
	for _, tc := range []struct {
		name string
		dec  func([]byte, *ctRecord) error
	}{
		{"encoding-json", func(b []byte, r *ctRecord) error { return json.Unmarshal(b, r) }},
		{"json-v2", func(b []byte, r *ctRecord) error {
			return jsonv2.Unmarshal(b, r, jsonv2.MatchCaseInsensitiveNames(true))
		}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			cpu0 := startCPU()
			for range b.N {
				for _, r := range recs {
					var rec ctRecord
					if err := tc.dec(r, &rec); err != nil {
						b.Fatal(err)
					}
				}
			}
			report(b, c, cpu0)
		})
	}
}
