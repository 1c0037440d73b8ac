package secret

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"time"
)

// now is the clock expired tokens are judged by; tests pin it.
var now = time.Now

// checkJWT accepts a token only if its header decodes to JSON naming an "alg" and its payload
// decodes to a JSON object. Unsigned tokens (alg "none") and expired ones are rated low: they
// grant nothing as found, though they still tell what a system trusted.
func checkJWT(data []byte, c *candidate) bool {
	parts := bytes.Split(data[c.start:c.end], []byte("."))
	if len(parts) != 3 {
		return false
	}
	var header struct {
		Alg string `json:"alg"`
	}
	if !decodeJWTPart(parts[0], &header) || header.Alg == "" {
		return false
	}
	var claims map[string]any
	if !decodeJWTPart(parts[1], &claims) || claims == nil {
		return false
	}
	c.setContext("alg", header.Alg)
	if header.Alg == "none" || len(parts[2]) == 0 {
		c.severity = min(c.severity, Low)
	}
	if exp, ok := claims["exp"].(float64); ok && exp > 0 && exp < 1e11 {
		t := time.Unix(int64(exp), 0).UTC()
		c.setContext("expires", t.Format(time.RFC3339))
		if t.Before(now()) {
			c.severity = min(c.severity, Low)
		}
	}
	if iss, ok := claims["iss"].(string); ok && len(iss) <= 200 {
		c.setContext("issuer", iss)
	}
	return true
}

func decodeJWTPart(b []byte, v any) bool {
	b = bytes.TrimRight(b, "=")
	out := make([]byte, base64.RawURLEncoding.DecodedLen(len(b)))
	n, err := base64.RawURLEncoding.Decode(out, b)
	if err != nil {
		return false
	}
	return json.Unmarshal(out[:n], v) == nil
}
