package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/snapwatch/snapwatch/internal/finding"
)

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"AKIAIOSFODNN7EXAMPLE": "AKIA…",
		"hunter2":              "h…",   // 7 characters: a quarter is 1
		"abc":                  "…",    // nothing of a very short secret
		"пароль-секрет":        "пар…", // characters, not bytes
		"\xff\xfeabcdefghij":   "??a…", // invalid bytes are never echoed
		"😀😀😀😀😀😀😀😀":             "😀😀…",  // 8 runes
	} {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestKeyWords(t *testing.T) {
	for in, want := range map[string]string{
		"aws_secret_access_key": "aws secret access key",
		"matchedValue":          "matched value",
		"secret-sha256":         "secret sha256",
		"APIKey":                "apikey",
		"key_id":                "key id",
		"":                      "",
	} {
		if got := strings.Join(keyWords(in), " "); got != want {
			t.Errorf("keyWords(%q) = %q, want %q", in, got, want)
		}
	}
}

type stringer struct{ s string }

func (s *stringer) String() string { return s.s } // panics on a nil receiver

type nested struct {
	Password string `json:"password"`
	Port     int    `json:"port"`
}

func TestRedactEvidence(t *testing.T) {
	long := "s3cr3t-VALUE-0123456789"
	cyclic := map[string]any{}
	cyclic["self"] = cyclic
	var nilStringer *stringer
	ev := finding.Evidence{
		"secret":          long,
		"secret_sha256":   "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		"match":           "password=" + long,
		"matchedValue":    long,
		"value":           "all", // no longer than a redacted form: kept
		"key_id":          "AKIAIOSFODNN7EXAMPLE",
		"api_key":         long,
		"clientsecret":    long,
		"token":           []byte(long),
		"tokens":          []string{long, "ab"},
		"secret_length":   40,
		"password":        12345678901234, // numbers are never redacted
		"context":         map[string]any{"user": "root", "password": long, "password_sha256": "abcdef0123456789"},
		"db":              nested{Password: long, Port: 5432},
		"already":         "AKIA…",
		"path":            "/home/u/.aws/credentials",
		"entropy":         math.NaN(),
		"took":            1500 * time.Millisecond,
		"when":            time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC),
		"err":             errors.New("boom"),
		"nilStringer":     nilStringer,
		"stringer":        &stringer{"value-from-stringer"},
		"cyclic":          cyclic,
		"big":             uint64(math.MaxUint64),
		"nilmap":          map[string]any(nil),
		"session":         map[string]any{"id": "sess-1", "cookie": long},
		"matched_line_no": 17,
	}
	f := redactFinding(finding.Finding{Evidence: ev})
	got := f.Evidence
	want := map[string]any{
		"secret":          "s3cr…",
		"secret_sha256":   "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		"match":           "pass…",
		"matchedValue":    "s3cr…",
		"value":           "all",
		"key_id":          "AKIAIOSFODNN7EXAMPLE",
		"api_key":         "s3cr…",
		"clientsecret":    "s3cr…",
		"token":           "s3cr…",
		"tokens":          []any{"s3cr…", "ab"},
		"secret_length":   40,
		"password":        12345678901234,
		"context":         map[string]any{"user": "root", "password": "s3cr…", "password_sha256": "abcdef0123456789"},
		"already":         "AKIA…",
		"path":            "/home/u/.aws/credentials",
		"entropy":         "NaN",
		"took":            "1.5s",
		"when":            "2025-01-02T03:04:05Z",
		"err":             "boom",
		"nilStringer":     nil,
		"stringer":        "value-from-stringer",
		"big":             uint64(math.MaxUint64),
		"session":         map[string]any{"id": "sess-1", "cookie": "s3cr…"},
		"matched_line_no": 17,
	}
	for k, w := range want {
		if !reflect.DeepEqual(got[k], w) {
			t.Errorf("%s: got %#v, want %#v", k, got[k], w)
		}
	}
	db, _ := json.Marshal(got["db"])
	if string(db) != `{"password":"s3cr…","port":5432}` {
		t.Errorf("db: %s", db)
	}
	if _, ok := got["nilmap"]; !ok {
		t.Error("nil map dropped")
	}
	// The original is untouched, and the cleaned evidence always marshals.
	if ev["secret"] != long {
		t.Fatal("redaction modified the finding's evidence")
	}
	if _, err := json.Marshal(got); err != nil {
		t.Fatalf("cleaned evidence does not marshal: %v", err)
	}
	b, _ := json.Marshal(got)
	if bytes.Contains(b, []byte(long[:6])) {
		t.Fatalf("secret survives: %s", b)
	}
}

func TestStatsCleaned(t *testing.T) {
	r := &Result{Stats: map[string]any{"rate": math.Inf(1), "bytes": int64(1) << 40, "nested": map[string]int{"a": 1}}}
	var b bytes.Buffer
	if err := Write(&b, FormatJSON, r, Options{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `"rate": "+Inf"`) || !strings.Contains(b.String(), `"a": 1`) {
		t.Fatal(b.String())
	}
}

// Catalogue evidence describes secrets without holding them: counts, types and flags stay readable.
func TestDescriptiveEvidenceIsNotRedacted(t *testing.T) {
	f := finding.Finding{ID: "x", Rule: "file/ssh-private-key", Severity: finding.High,
		Resource: finding.Resource{Provider: "local", Type: "disk-image", ID: "a"},
		Evidence: finding.Evidence{"key_types": []any{"ssh-ed25519"}, "accounts_with_hash": 2, "root_has_hash": true}}
	var b strings.Builder
	if err := Write(&b, FormatTable, &Result{Findings: []finding.Finding{f}}, Options{Width: 200}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"ssh-ed25519", "accounts_with_hash=2", "root_has_hash=true"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}
