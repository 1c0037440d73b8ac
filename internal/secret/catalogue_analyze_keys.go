package secret

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"regexp"
	"strings"
)

var (
	catPEMHeader   = regexp.MustCompile(`-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----`)
	catPuTTYHeader = regexp.MustCompile(`PuTTY-User-Key-File-[0-9]{1,2}: [^\r\n]{1,100}`)
)

// maxKeysPerFile bounds the key blocks checked in one file.
const maxKeysPerFile = 64

// analyzePrivateKey accepts a file holding at least one real private key, decided by the same
// structural checks as the secret rules (checkPEM: PKCS#1/SEC1/PKCS#8 DER, openssh-key-v1
// header, OpenPGP secret-key packet; checkPuTTY), plus legacy SSH1 RSA keys. Keys that are all
// passphrase-protected are rated medium at most.
func analyzePrivateKey(a *analysis) bool {
	c := a.content
	var memo scanMemo
	keys, encrypted := 0, 0
	var types nameList
	try := func(loc []int, check checkFunc) {
		cand := candidate{start: loc[0], end: loc[1], mStart: loc[0], mEnd: loc[1], severity: a.severity, memo: &memo}
		if !check(c, &cand) {
			return
		}
		keys++
		if cand.encrypted {
			encrypted++
		}
		switch {
		case cand.context["key_type"] != "":
			types.add(cand.context["key_type"])
		case cand.context["format"] != "":
			types.add(cand.context["format"])
		}
	}
	for _, loc := range catPEMHeader.FindAllIndex(c, maxKeysPerFile) {
		try(loc, checkPEM)
	}
	for _, loc := range catPuTTYHeader.FindAllIndex(c, maxKeysPerFile) {
		try(loc, checkPuTTY)
	}
	const ssh1 = "SSH PRIVATE KEY FILE FORMAT 1.1\n\x00"
	if bytes.HasPrefix(c, []byte(ssh1)) && len(c) > len(ssh1) {
		keys++
		types.add("rsa1")
		if c[len(ssh1)] != 0 { // cipher type
			encrypted++
		}
	}
	if keys == 0 && len(c) >= 64 { // Dropbear's own format: an SSH string naming the key type
		if kt, _, ok := sshString(c); ok && (bytes.HasPrefix(kt, []byte("ssh-")) || bytes.HasPrefix(kt, []byte("ecdsa-sha2-"))) && len(kt) < 32 {
			keys++
			types.add(string(kt))
			a.set("format", "dropbear")
		}
	}
	if keys == 0 {
		return false
	}
	a.set("keys", keys)
	a.setList("key_types", &types, true)
	a.set("encrypted", encrypted == keys)
	if encrypted > 0 && encrypted < keys {
		a.set("encrypted_keys", encrypted)
	}
	if encrypted == keys {
		a.severity = min(a.severity, encryptedSeverity)
	}
	return true
}

var authorizedKeyLine = regexp.MustCompile(`(?:^|[\s,])((?:ssh-(?:rsa|dss|ed25519|ed448)|ecdsa-sha2-nistp(?:256|384|521)|sk-(?:ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com)(?:-cert-v01@openssh\.com)?)[ \t]+AAAA[0-9A-Za-z+/]{16,}={0,3}(?:[ \t]+(.*))?$`)

// analyzeAuthorizedKeys counts the keys that may log in, their types, their comments (user@host
// conventionally) and how many carry options (command=, from=, …).
func analyzeAuthorizedKeys(a *analysis) bool {
	keys, withOptions, forced := 0, 0, 0
	var types, comments nameList
	forEachLine(a.content, func(line []byte, _ int) bool {
		t := bytes.TrimSpace(line)
		if len(t) == 0 || t[0] == '#' {
			return true
		}
		m := authorizedKeyLine.FindSubmatchIndex(t)
		if m == nil {
			return true
		}
		keys++
		types.add(string(t[m[2]:m[3]]))
		if m[4] >= 0 {
			comments.add(string(t[m[4]:m[5]]))
		}
		if m[2] > 0 {
			withOptions++
			if bytes.Contains(t[:m[2]], []byte("command=")) {
				forced++
			}
		}
		return true
	})
	if keys == 0 {
		return false
	}
	a.set("keys", keys)
	a.setList("key_types", &types, true)
	a.setList("comments", &comments, false)
	if withOptions > 0 {
		a.set("with_options", withOptions)
	}
	if forced > 0 {
		a.set("forced_commands", forced)
	}
	return true
}

// PKCS#12 bag type OIDs (RFC 7292 §4.2), DER-encoded with their tag and length.
var (
	oidKeyBag         = []byte{0x06, 0x0b, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x0c, 0x0a, 0x01, 0x01}
	oidShroudedKeyBag = []byte{0x06, 0x0b, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x0c, 0x0a, 0x01, 0x02}
	oidCertBag        = []byte{0x06, 0x0b, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x0c, 0x0a, 0x01, 0x03}
)

// analyzeKeystore recognises Java KeyStores (JKS, JCEKS: entries are walked to count private
// keys, secret keys and trusted certificates) and PKCS#12 files (the PFX version and visible
// key bags). A keystore holding only trusted certificates is a trust store: not reported.
func analyzeKeystore(a *analysis) bool {
	c := a.content
	if len(c) >= 12 && (bytes.HasPrefix(c, []byte{0xfe, 0xed, 0xfe, 0xed}) || bytes.HasPrefix(c, []byte{0xce, 0xce, 0xce, 0xce})) {
		return analyzeJKS(a)
	}
	if !isPKCS12(c) {
		return false
	}
	a.set("format", "pkcs12")
	keyBag := bytes.Contains(c, oidKeyBag) || bytes.Contains(c, oidShroudedKeyBag)
	a.set("private_key_visible", keyBag)
	if !keyBag {
		// Keys may sit in an encrypted bag; certificates alone are the usual reason.
		a.severity = min(a.severity, Low)
		if bytes.Contains(c, oidCertBag) {
			a.set("certificates_only", true)
		}
	}
	return true
}

// isPKCS12 checks the PFX header: SEQUENCE { INTEGER 3, ContentInfo SEQUENCE …}.
func isPKCS12(c []byte) bool {
	if len(c) < 8 || c[0] != 0x30 {
		return false
	}
	i := 2
	switch {
	case c[1] == 0x80: // indefinite length (BER)
	case c[1] < 0x80:
	case c[1] >= 0x81 && c[1] <= 0x84:
		i += int(c[1] - 0x80)
	default:
		return false
	}
	return len(c) >= i+4 && c[i] == 0x02 && c[i+1] == 0x01 && c[i+2] == 0x03 && c[i+3] == 0x30
}

func analyzeJKS(a *analysis) bool {
	c := a.content
	format := "jks"
	if c[0] == 0xce {
		format = "jceks"
	}
	version := binary.BigEndian.Uint32(c[4:8])
	count := binary.BigEndian.Uint32(c[8:12])
	if version != 1 && version != 2 {
		return false
	}
	p := c[12:]
	var privateKeys, secretKeys, certs int
	complete := true
	readUTF := func() bool {
		if len(p) < 2 {
			return false
		}
		n := int(binary.BigEndian.Uint16(p))
		if len(p) < 2+n {
			return false
		}
		p = p[2+n:]
		return true
	}
	readBlob := func() bool {
		if len(p) < 4 {
			return false
		}
		n := binary.BigEndian.Uint32(p)
		if uint64(n) > uint64(len(p)-4) {
			return false
		}
		p = p[4+n:]
		return true
	}
	readCert := func() bool {
		if version == 2 && !readUTF() {
			return false
		}
		return readBlob()
	}
entries:
	for i := uint32(0); i < count && i < 100000; i++ {
		if len(p) < 4 {
			complete = false
			break
		}
		tag := binary.BigEndian.Uint32(p)
		p = p[4:]
		if !readUTF() || len(p) < 8 {
			complete = false
			break
		}
		p = p[8:] // creation date
		switch tag {
		case 1:
			privateKeys++
			if !readBlob() || len(p) < 4 {
				complete = false
				break entries
			}
			chain := binary.BigEndian.Uint32(p)
			p = p[4:]
			for j := uint32(0); j < chain && j < 1000; j++ {
				if !readCert() {
					complete = false
					break entries
				}
			}
		case 2:
			certs++
			if !readCert() {
				complete = false
				break entries
			}
		case 3: // JCEKS sealed secret key: a serialized Java object with no length prefix
			secretKeys++
			complete = false
			break entries
		default:
			complete = false
			break entries
		}
	}
	if privateKeys == 0 && secretKeys == 0 && complete {
		return false // a trust store: certificates only
	}
	a.set("format", format)
	a.set("entries", int(min(count, 1<<20)))
	a.set("private_keys", privateKeys)
	if secretKeys > 0 {
		a.set("secret_keys", secretKeys)
	}
	a.set("trusted_certificates", certs)
	if !complete {
		a.set("complete", false)
	}
	return true
}

// analyzeGPGKey reads a gpg-agent key file (private-keys-v1.d/*.key): canonical or extended
// S-expression. A shadowed key is a stub for a smartcard and holds no secret.
func analyzeGPGKey(a *analysis) bool {
	c := a.content[:min(len(a.content), 4096)]
	switch {
	case bytes.Contains(c, []byte("shadowed-private-key")):
		return false
	case bytes.Contains(c, []byte("protected-private-key")):
		a.set("protected", true)
		a.severity = min(a.severity, encryptedSeverity)
	case bytes.Contains(c, []byte("private-key")):
		a.set("protected", false)
	default:
		return false
	}
	if i := bytes.Index(c, []byte("(3:ecc")); i >= 0 || bytes.Contains(c, []byte("(ecc")) {
		a.set("algorithm", "ecc")
	} else if bytes.Contains(c, []byte("3:rsa")) || bytes.Contains(c, []byte("(rsa")) {
		a.set("algorithm", "rsa")
	}
	return true
}

// analyzeKeePass adds the KDBX format version (bytes 8–11: minor, major) to the magic's label.
func analyzeKeePass(a *analysis) bool {
	c := a.content
	if len(c) < 12 {
		return false
	}
	if strings.HasPrefix(fmt.Sprint(a.evidence["format"]), "kdbx") {
		minor, major := binary.LittleEndian.Uint16(c[8:]), binary.LittleEndian.Uint16(c[10:])
		if major > 0 && major < 10 {
			a.set("version", fmt.Sprintf("%d.%d", major, minor))
		}
	}
	return true
}
