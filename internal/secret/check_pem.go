package secret

import (
	"bytes"
	"encoding/base64"
)

// maxPEMBlock bounds the search for a PEM END line: the largest keys (RSA 16384, PGP with many
// subkeys) stay well below it.
const maxPEMBlock = 64 << 10

// checkPEM accepts a "-----BEGIN … PRIVATE KEY-----" header only when a matching END line
// follows and the body between them is base64 of a plausible key; it widens the secret to the
// whole block and tells encrypted keys apart: PEM "Proc-Type: 4,ENCRYPTED", PKCS#8 "ENCRYPTED
// PRIVATE KEY", the cipher and KDF of an OpenSSH key, the S2K usage of a PGP secret-key packet.
func checkPEM(data []byte, c *candidate) bool {
	header := data[c.mStart:c.mEnd]
	i := bytes.Index(header, []byte("-----BEGIN "))
	if i < 0 {
		return false
	}
	label := bytes.TrimSuffix(header[i+len("-----BEGIN "):], []byte("-----"))
	if len(label) == 0 || bytes.ContainsAny(label, "-\n") {
		return false
	}
	begin := c.mStart + i
	bodyStart := c.mStart + len(header)
	limit := min(len(data), bodyStart+maxPEMBlock)
	endMarker := append(append([]byte("-----END "), label...), "-----"...)
	j := c.memo.index(data, string(endMarker), bodyStart, limit) - bodyStart
	if j < 0 {
		return false
	}
	body := data[bodyStart : bodyStart+j]
	lines := pemLines(body)
	encryptedHeader := false
	var b64 []byte
	for _, l := range lines {
		if bytes.IndexByte(l, ':') >= 0 { // RFC 1421 / armor headers
			if bytes.HasPrefix(l, []byte("Proc-Type:")) && bytes.Contains(l, []byte("ENCRYPTED")) {
				encryptedHeader = true
			}
			continue
		}
		if bytes.HasPrefix(label, []byte("PGP ")) && len(l) == 5 && l[0] == '=' {
			continue // armor CRC-24
		}
		b64 = append(b64, l...)
	}
	der, ok := decodeBase64(b64)
	if !ok || len(der) < 64 {
		return false // placeholders such as "MIIE..." or "<key here>"
	}
	c.start, c.end = begin, bodyStart+j+len(endMarker)
	kind := string(bytes.TrimSpace(bytes.TrimSuffix(bytes.TrimSuffix(label, []byte(" BLOCK")), []byte("PRIVATE KEY"))))
	switch kind {
	case "OPENSSH":
		keyType, encrypted, ok := parseOpenSSH(der)
		if !ok {
			return false
		}
		c.setContext("key_type", keyType)
		if encrypted {
			markEncrypted(c)
		}
	case "ENCRYPTED":
		c.setContext("format", "pkcs8")
		markEncrypted(c)
	case "PGP":
		c.setContext("format", "pgp")
		if encrypted, ok := pgpSecretKeyEncrypted(der); ok && encrypted {
			markEncrypted(c)
		}
	case "", "RSA", "EC", "DSA":
		if !encryptedHeader && der[0] != 0x30 { // every such key in the clear is a DER SEQUENCE
			return false
		}
		if kind == "" {
			c.setContext("format", "pkcs8")
		} else {
			c.setContext("key_type", kind)
		}
		if encryptedHeader {
			markEncrypted(c)
		}
	default:
		c.setContext("key_type", kind)
		if encryptedHeader {
			markEncrypted(c)
		}
	}
	return true
}

// pemLines splits a PEM body into trimmed, non-empty lines, also at the literal "\n" escapes of
// a key embedded in JSON or source code.
func pemLines(body []byte) [][]byte {
	var out [][]byte
	for len(body) > 0 {
		n := len(body)
		adv := n
		if k := bytes.IndexByte(body, '\n'); k >= 0 && k < n {
			n, adv = k, k+1
		}
		if k := bytes.Index(body[:n], []byte(`\n`)); k >= 0 {
			n, adv = k, k+2
		}
		line := trimPEMLine(body[:n])
		if len(line) > 0 {
			out = append(out, line)
		}
		body = body[adv:]
	}
	return out
}

// trimPEMLine strips what surrounds a base64 line of a key pasted into code: white space,
// quotes, commas, backslashes, and a string concatenation ("…" + or + "…"). '+' belongs to the
// base64 alphabet, so it is stripped only where a quote shows it is the operator.
func trimPEMLine(l []byte) []byte {
	l = bytes.TrimSpace(l)
	if len(l) > 0 && l[0] == '+' {
		if rest := bytes.TrimLeft(l[1:], " \t"); len(rest) > 0 && isQuoteByte(rest[0]) {
			l = rest
		}
	}
	if len(l) > 0 && (l[len(l)-1] == '+' || l[len(l)-1] == ',') {
		if rest := bytes.TrimRight(l[:len(l)-1], " \t"); len(rest) > 0 && isQuoteByte(rest[len(rest)-1]) {
			l = rest
		}
	}
	l = bytes.Trim(l, " \t\r\"',`\\")
	return bytes.TrimSuffix(l, []byte(`\r`))
}

func isQuoteByte(c byte) bool { return c == '"' || c == '\'' || c == '`' }

// decodeBase64 accepts standard base64 with or without its padding.
func decodeBase64(b []byte) ([]byte, bool) {
	b = bytes.TrimRight(b, "=")
	out := make([]byte, base64.RawStdEncoding.DecodedLen(len(b)))
	n, err := base64.RawStdEncoding.Decode(out, b)
	if err != nil {
		return nil, false
	}
	return out[:n], true
}
