package secret

import (
	"bytes"
	"regexp"
)

// gcpReach is how far from its "type": "service_account" line a key file's other fields can be:
// a whole key file is about 2.4 KB.
const gcpReach = 4 << 10

var (
	gcpPrivateKey  = regexp.MustCompile(`^private_key\\?"\s*:\s*\\?"(-----BEGIN [A-Z ]*PRIVATE KEY-----(?:[^"\\]|\\[^"])+?-----END [A-Z ]*PRIVATE KEY-----(?:\\\\?n)?)\\?"`)
	gcpClientEmail = regexp.MustCompile(`^client_email\\?"\s*:\s*\\?"([^"\\]{3,200})\\?"`)
	gcpKeyID       = regexp.MustCompile(`^private_key_id\\?"\s*:\s*\\?"([0-9a-f]{16,64})\\?"`)
	gcpProject     = regexp.MustCompile(`^project_id\\?"\s*:\s*\\?"([a-z0-9:.-]{3,100})\\?"`)
)

// checkGCPServiceAccount turns a "type": "service_account" match into the key file around it,
// in plain or escaped JSON: it needs the private_key and the client_email near by, reports the
// private key as the secret, and keeps the account and project (identifiers, not secrets) and
// the redacted key id as context. Fields are found by their literal names first (cheap, and
// remembered across candidates), and only then parsed.
func checkGCPServiceAccount(data []byte, c *candidate) bool {
	lo, hi := max(0, c.mStart-gcpReach), min(len(data), c.mEnd+gcpReach)
	pk := gcpField(data, c, `private_key"`, `private_key\"`, lo, hi, gcpPrivateKey)
	email := gcpField(data, c, `client_email"`, `client_email\"`, lo, hi, gcpClientEmail)
	if pk == nil || email == nil {
		return false
	}
	c.start, c.end = pk[0], pk[1]
	c.setContext("client_email", string(data[email[0]:email[1]]))
	if p := gcpField(data, c, `project_id"`, `project_id\"`, lo, hi, gcpProject); p != nil {
		c.setContext("project_id", string(data[p[0]:p[1]]))
	}
	if k := gcpField(data, c, `private_key_id"`, `private_key_id\"`, lo, hi, gcpKeyID); k != nil {
		c.setContext("private_key_id", Redact(data[k[0]:k[1]]))
	}
	return true
}

// gcpField finds the first field named by plain (or its escaped form) in data[lo:hi] whose
// value re accepts, and returns the value's span.
func gcpField(data []byte, c *candidate, plain, escaped string, lo, hi int, re *regexp.Regexp) []int {
	for _, name := range []string{plain, escaped} {
		for from := lo; from < hi; {
			i := c.memo.index(data, name, from, hi)
			if i < 0 {
				break
			}
			// A field name follows its opening quote (escaped, inside a JSON string).
			if i > 0 && data[i-1] == '"' || bytes.HasSuffix(data[:i], []byte(`\"`)) {
				end := min(len(data), i+512)
				if re == gcpPrivateKey {
					// Parse only up to the key's END line, found (or known absent) cheaply.
					e := c.memo.index(data, "-----END ", i, min(len(data), i+9000))
					if e < 0 {
						return nil
					}
					end = min(len(data), e+64)
				}
				if m := re.FindSubmatchIndex(data[i:end]); m != nil {
					return []int{i + m[2], i + m[3]}
				}
			}
			from = i + len(name)
		}
	}
	return nil
}
