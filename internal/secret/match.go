package secret

import (
	"crypto/sha256"
	"encoding/hex"
	"unicode/utf8"
)

// Match is one secret found by Scan.
type Match struct {
	RuleID, Title, Category string
	Severity                Severity
	Start, End              int    // byte offsets of the secret in the data given to Scan
	Line                    int    // 1-based line of Start; 0 for a rule that matched the path alone
	Secret                  []byte // the raw secret: in memory only; callers never print or store it
	Redacted                string // first 4 characters + "…" (never more; short secrets show fewer)
	SHA256                  string // hex sha256 of the secret, to correlate without revealing it
	Entropy                 float64
	Encrypted               bool              // private keys protected by a passphrase
	Context                 map[string]string // e.g. "key_id": "AKIA…" for a paired AWS secret (redacted too)
}

// Redact keeps so little of a secret that it identifies the kind of token, never the token: the
// first 4 characters, fewer for short secrets (a quarter of them, so a 4-character password shows
// one), then "…". Characters, not bytes, so the result is valid UTF-8.
func Redact(secret []byte) string {
	n := utf8.RuneCount(secret)
	keep := min(4, n/4)
	out := make([]byte, 0, 4*keep+len("…"))
	for i := 0; i < keep; i++ {
		r, size := utf8.DecodeRune(secret)
		if r == utf8.RuneError {
			out = append(out, '?') // never echo a raw invalid byte
		} else {
			out = append(out, secret[:size]...)
		}
		secret = secret[size:]
	}
	return string(append(out, "…"...))
}

func hashHex(secret []byte) string {
	sum := sha256.Sum256(secret)
	return hex.EncodeToString(sum[:])
}
