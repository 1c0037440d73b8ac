package secret

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// FuzzLoadGitleaks feeds arbitrary TOML to the loader: it must return a scanner or an error,
// never panic, and a scanner it returns must scan without panicking.
func FuzzLoadGitleaks(f *testing.F) {
	f.Add(gitleaksConfig)
	f.Add("[extend]\nuseDefault = true\ndisabledRules = [\"jwt\"]\n")
	f.Add("[[rules]]\nid = \"x\"\nregex = '''(a+)+b'''\nsecretGroup = 1\nkeywords = [\"a\"]\n[[rules.required]]\nid = \"x\"\n")
	f.Add("[[rules]]\nid = \"p\"\npath = '''.*'''\n[[allowlists]]\nregexTarget = \"line\"\nregexes = ['''.''']\n")
	f.Add("[[rules]]\nid = \"w\"\nregex = '''\\\\b(?i)k[a-z]{0,999}'''\nkeywords = [\"k\"]\nwindow = 8192\nlead = 8192\ncheck = \"pem\"\n")
	f.Fuzz(func(t *testing.T, cfg string) {
		s, err := LoadGitleaks(strings.NewReader(cfg))
		if err != nil {
			return
		}
		for _, m := range s.Scan("a/b.txt", []byte("k a b acme_k3j4h5g6f7d8s9a0q1w2e3r4 password=Zq8vN2kLr5Tw\n")) {
			if m.Start < 0 || m.End < m.Start {
				t.Fatalf("bad span %d..%d", m.Start, m.End)
			}
		}
	})
}

// FuzzScan feeds arbitrary bytes to the default rules: no panic, spans inside the input and
// equal to the secret, matches sorted and disjoint.
func FuzzScan(f *testing.F) {
	f.Add([]byte("aws_access_key_id = " + fakeKeyID + "\naws_secret_access_key = " + fakeSecret))
	f.Add([]byte("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ==\n-----END OPENSSH PRIVATE KEY-----"))
	f.Add([]byte("-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlFgE\n=abcd\n-----END PGP PRIVATE KEY BLOCK-----"))
	f.Add([]byte(`{"type": "service_account", "private_key": "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n", "client_email": "a@b"}`))
	f.Add([]byte("eyJhbGciOiJub25lIn0.eyJleHAiOjF9."))
	f.Add([]byte("PuTTY-User-Key-File-3: ssh-rsa\nEncryption: none\nPrivate-Lines: 1\nAAAA\nPrivate-MAC: 00"))
	f.Add([]byte(`{"auths": {"r": {"auth": "dXNlcjpwYXNzd29yZDE="}}}`))
	f.Add([]byte("postgres://u:p4ssw0rdZ9x@h/db https://a:b@c machine m login l password Zq8vN2kLr5Tw"))
	f.Fuzz(func(t *testing.T, data []byte) {
		prev := -1
		for _, m := range Default().Scan("home/u/.env", data) {
			if m.Start < 0 || m.End > len(data) || m.Start > m.End {
				t.Fatalf("%s: span %d..%d outside %d bytes", m.RuleID, m.Start, m.End, len(data))
			}
			if !bytes.Equal(m.Secret, data[m.Start:m.End]) {
				t.Fatalf("%s: secret differs from its span", m.RuleID)
			}
			if m.Line > 0 && m.Start < prev {
				t.Fatalf("%s: overlaps or precedes the previous match", m.RuleID)
			}
			if m.Line > 0 {
				prev = m.End
			}
		}
	})
}

// TestAdversarialInputs bounds the time of inputs built to defeat the engine: dense keywords,
// endless tokens, unterminated structures. Each must scan at a reasonable rate; the limit is
// loose (CPU time, so other load on the machine does not make it flaky) and catches quadratic
// behaviour, not slowness.
func TestAdversarialInputs(t *testing.T) {
	const size = 1 << 20
	fill := func(unit string) []byte { return bytes.Repeat([]byte(unit), size/len(unit)+1)[:size] }
	inputs := map[string][]byte{
		"password=":          fill("password="),
		"token: x":           fill("token: "),
		"AKIA run":           fill("AKIA"),
		"key ids":            fill("AKIAQYLPMN5HHHFPZAM2 "),
		"key id and base64":  fill(fakeKeyID + " " + fakeSecret + " "),
		"base64 line":        fill("QUtJQUlPU0ZPRE5ON0VYQU1QTEVhYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0NTY3ODk"),
		"unterminated PEM":   fill("-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n"),
		"service accounts":   fill(`{"type": "service_account", "private_key": "-----BEGIN PRIVATE KEY-----\n`),
		"jwt headers":        fill("eyJhbGciOiJIUzI1NiJ9."),
		"urls":               fill("https://a:b@"),
		"nested quotes":      fill(`"password": "`),
		"connection strings": fill("Server=a;Database=b;"),
		"single byte":        fill("a"),
		"zeros":              make([]byte, size),
	}
	s := Default()
	for name, data := range inputs {
		start := cpuTime()
		ms := s.Scan("x", data)
		used := cpuTime() - start
		rate := float64(len(data)) / used.Seconds() / 1e6
		t.Logf("%-20s %6.1f MB/s per CPU-second, %d matches", name, rate, len(ms))
		if used > 20*time.Second {
			t.Errorf("%s: %v of CPU for %d bytes", name, used, len(data))
		}
	}
}
