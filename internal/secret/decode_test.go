package secret

import (
	"encoding/base64"
	"strings"
	"testing"
)

const pairPlain = "aws_access_key_id = AKIAUVM2HVYKNABO4YSL\naws_secret_access_key = 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\n"

func TestSecretsInsideBase64(t *testing.T) {
	once := base64.StdEncoding.EncodeToString([]byte(pairPlain))
	twice := base64.StdEncoding.EncodeToString([]byte("credentials: " + once + "\n"))
	thrice := base64.RawURLEncoding.EncodeToString([]byte("x: " + twice + "\n"))
	for _, c := range []struct {
		name, doc string
		want      bool
	}{
		{"kubernetes secret", "apiVersion: v1\nkind: Secret\ndata:\n  credentials: " + once + "\n", true},
		{"nested twice", "blob = \"" + twice + "\"", true},
		{"three layers: beyond the bound", "blob = " + thrice, false},
		{"plain words", strings.Repeat("abcdefghijklmnopqrstuvwxyz0123456789 ", 40), false},
		{"binary inside base64", base64.StdEncoding.EncodeToString([]byte("\x00\x01\x02\x03\xff\xfe\x80\x81" + strings.Repeat("\x00\x9f", 40))), false},
	} {
		ms := Default().Scan("", []byte(c.doc))
		found := false
		for _, m := range ms {
			if m.RuleID == "aws-access-key-pair" && m.Context["encoding"] == "base64" {
				found = true
				if c.doc[m.Start:m.End] == "" || !strings.Contains(c.doc, string(c.doc[m.Start:m.End])) {
					t.Errorf("%s: bad span", c.name)
				}
				if strings.Contains(m.Redacted, "faoiSA") {
					t.Errorf("%s: redaction shows too much: %q", c.name, m.Redacted)
				}
			}
		}
		if found != c.want {
			t.Errorf("%s: found %v, want %v (%d matches)", c.name, found, c.want, len(ms))
		}
	}
}

func TestBase64RunsAndLine(t *testing.T) {
	once := base64.StdEncoding.EncodeToString([]byte(pairPlain))
	doc := "line one\nline two\nsecret: " + once + "\n"
	for _, m := range Default().Scan("", []byte(doc)) {
		if m.Context["encoding"] == "base64" && m.Line != 3 {
			t.Errorf("line %d, want 3", m.Line)
		}
	}
	var spans [][2]int
	for s, e := range base64Runs([]byte("short ab==\n" + strings.Repeat("Q", 30) + "== tail")) {
		spans = append(spans, [2]int{s, e})
	}
	if len(spans) != 1 || spans[0] != [2]int{11, 43} {
		t.Errorf("runs %v", spans)
	}
}
