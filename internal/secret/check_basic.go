package secret

import (
	"bytes"
	"encoding/base64"
)

// checkBasicAuth accepts base64 only if it decodes to printable "user:password" with a
// non-empty password, as HTTP Basic credentials and Docker's "auth" entries are encoded. The
// secret stays the encoded form (what is on disk); placeholder passwords are rejected by the
// same list that serves the other password rules, applied to the decoded password.
func checkBasicAuth(data []byte, c *candidate) bool {
	enc := data[c.start:c.end]
	dec := make([]byte, base64.StdEncoding.DecodedLen(len(enc)))
	n, err := base64.StdEncoding.Decode(dec, enc)
	if err != nil {
		return false
	}
	dec = dec[:n]
	colon := bytes.IndexByte(dec, ':')
	if colon <= 0 || colon == len(dec)-1 {
		return false
	}
	for _, b := range dec {
		if b < 0x20 || b > 0x7e {
			return false
		}
	}
	if isPlaceholderPassword(dec[colon+1:]) {
		return false
	}
	c.setContext("user", string(dec[:colon]))
	return true
}

// isPlaceholderPassword catches the commonest documentation passwords in decoded credentials,
// where the rule files' allow-lists (which see only the encoded secret) cannot.
func isPlaceholderPassword(p []byte) bool {
	switch string(bytes.ToLower(p)) {
	case "password", "pass", "passwd", "secret", "changeme", "admin", "root", "test", "guest",
		"user", "demo", "default", "letmein", "123456", "12345678", "password1", "qwerty",
		"foo", "bar", "baz", "opensesame", "pass123", "secret123":
		return true
	}
	return false
}
