package secret

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Fixed fake credentials used across these tests (random, never issued).
const (
	fakeKeyID  = "AKIAQYLPMN5HHHFPZAM2"
	fakeSecret = "1tUm636uS1yOEcfP5pvfqJ/ml36mF7AkyHsEU0IO"
	fakeGHP    = "ghp_Xg3z8Dy6Q2hxpBaD1JrN8EaTN9TLjC3D2YHM"
)

func TestAWSPairIsOneFinding(t *testing.T) {
	data := []byte("[default]\naws_access_key_id = " + fakeKeyID + "\naws_secret_access_key = " + fakeSecret + "\n")
	ms := Default().Scan("root/.aws/credentials", data)
	if len(ms) != 1 {
		t.Fatalf("got %d matches, want the pair alone: %s", len(ms), describe(ms))
	}
	m := ms[0]
	sum := sha256.Sum256([]byte(fakeSecret))
	switch {
	case m.RuleID != "aws-access-key-pair":
		t.Errorf("rule %s, want aws-access-key-pair", m.RuleID)
	case string(m.Secret) != fakeSecret || string(data[m.Start:m.End]) != fakeSecret:
		t.Errorf("secret span [%d,%d) is wrong", m.Start, m.End)
	case m.Line != 3:
		t.Errorf("line %d, want 3", m.Line)
	case m.Context["key_id"] != "AKIA…":
		t.Errorf("context %v, want key_id AKIA…", m.Context)
	case m.Redacted != "1tUm…":
		t.Errorf("redacted %q", m.Redacted)
	case m.SHA256 != hex.EncodeToString(sum[:]):
		t.Errorf("sha256 %s", m.SHA256)
	case m.Severity != Critical || m.Category != "cloud-credential":
		t.Errorf("severity %v category %s", m.Severity, m.Category)
	}
}

func TestKeyIDAloneIsReported(t *testing.T) {
	ms := Default().Scan("", []byte("AWS_ACCESS_KEY_ID="+fakeKeyID+"\n"))
	if len(ms) != 1 || ms[0].RuleID != "aws-access-key-id" || ms[0].Severity != Medium {
		t.Fatalf("got %s", describe(ms))
	}
}

func TestPrivateKeys(t *testing.T) {
	files, err := filepath.Glob("testdata/keys/*.*")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, ".md") {
			continue
		}
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			ms := Default().Scan("home/alice/.ssh/"+filepath.Base(f), data)
			if len(ms) != 1 {
				t.Fatalf("got %s, want one key", describe(ms))
			}
			m := ms[0]
			wantEnc := strings.Contains(f, "encrypted")
			if m.Encrypted != wantEnc {
				t.Errorf("Encrypted = %v, want %v", m.Encrypted, wantEnc)
			}
			if want := map[bool]Severity{true: Medium, false: Critical}[wantEnc]; m.Severity != want {
				t.Errorf("severity %v, want %v", m.Severity, want)
			}
			if m.Start != 0 || len(bytes.TrimSpace(data[m.End:])) != 0 {
				t.Errorf("span [%d,%d) does not cover the key file of %d bytes", m.Start, m.End, len(data))
			}
			if strings.Contains(f, "openssh") && m.Context["key_type"] != "ssh-ed25519" {
				t.Errorf("context %v, want key_type ssh-ed25519", m.Context)
			}
		})
	}
}

func TestServiceAccountKey(t *testing.T) {
	pem, err := os.ReadFile("testdata/keys/ec-pkcs8.pem")
	if err != nil {
		t.Fatal(err)
	}
	sa, _ := json.MarshalIndent(map[string]string{
		"type": "service_account", "project_id": "billing-prod", "private_key_id": "0123456789abcdef0123456789abcdef01234567",
		"private_key": string(pem), "client_email": "exporter@billing-prod.iam.gserviceaccount.com",
	}, "", "  ")
	ms := Default().Scan("srv/app/key.json", sa)
	if len(ms) != 1 {
		t.Fatalf("got %s, want the service account alone (the PEM inside is the same secret)", describe(ms))
	}
	m := ms[0]
	if m.RuleID != "gcp-service-account-key" || m.Context["client_email"] != "exporter@billing-prod.iam.gserviceaccount.com" ||
		m.Context["project_id"] != "billing-prod" || m.Context["private_key_id"] != "0123…" {
		t.Errorf("got %s %v", m.RuleID, m.Context)
	}
	if !strings.HasPrefix(string(m.Secret), "-----BEGIN PRIVATE KEY-----") {
		t.Errorf("secret is not the private key")
	}
}

func TestSpecificRuleWinsOverlap(t *testing.T) {
	ms := Default().Scan("", []byte(`api_token = "`+fakeGHP+`"`))
	if len(ms) != 1 || ms[0].RuleID != "github-pat" {
		t.Fatalf("got %s, want github-pat alone", describe(ms))
	}
}

func TestJWTClaims(t *testing.T) {
	pinClock(t)
	// header {"alg":"HS256","typ":"JWT"}, payload {"sub":"svc","exp":1500000000}
	tok := "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJzdmMiLCJleHAiOjE1MDAwMDAwMDB9.c2lnbmF0dXJlLW5vdC1yZWFsbHktY2hlY2tlZA"
	ms := Default().Scan("", []byte("token: "+tok+"\n"))
	if len(ms) != 1 || ms[0].RuleID != "jwt" {
		t.Fatalf("got %s", describe(ms))
	}
	if m := ms[0]; m.Severity != Low || m.Context["alg"] != "HS256" || m.Context["expires"] != "2017-07-14T02:40:00Z" {
		t.Errorf("severity %v context %v", m.Severity, m.Context)
	}
}

func TestLinesAndOrder(t *testing.T) {
	data := []byte("a\nb\nGITHUB_TOKEN=" + fakeGHP + "\n\n\nSTRIPE=sk_live_4eC39HqLyjWDarjtT1zdp7dc4eC39HqL\n")
	ms := Default().Scan("", data)
	if len(ms) != 2 || ms[0].Line != 3 || ms[1].Line != 6 || ms[0].Start > ms[1].Start {
		t.Fatalf("got %s", describe(ms))
	}
	for _, m := range ms {
		if !bytes.Equal(data[m.Start:m.End], m.Secret) {
			t.Errorf("%s: span and secret disagree", m.RuleID)
		}
	}
}

func TestPathScoping(t *testing.T) {
	s := Default()
	line := []byte("GITHUB_TOKEN=" + fakeGHP + "\n")
	if ms := s.Scan("srv/app/node_modules/x/README.md", line); len(ms) != 0 {
		t.Errorf("package tree not allow-listed: %s", describe(ms))
	}
	if ms := s.Scan("srv/app/.env", line); len(ms) != 1 {
		t.Errorf("app config: got %s", describe(ms))
	}
	pgpass := []byte("db.internal:5432:*:app:Zq8vN2kLr5TwX\n")
	if ms := s.Scan("root/.pgpass", pgpass); !hasRule(ms, "pgpass-password") {
		t.Errorf(".pgpass: got %s", describe(ms))
	}
	if ms := s.Scan("root/notes.txt", pgpass); hasRule(ms, "pgpass-password") {
		t.Errorf("pgpass rule ran outside .pgpass")
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"":                     "…",
		"abc":                  "…",
		"hunter2!":             "hu…",
		fakeSecret:             "1tUm…",
		"ключ-секрет-пароль!!": "ключ…",
		"\xff\xfeabcdefghijkl": "??a…", // invalid bytes count as characters and print as ?
	} {
		if got := Redact([]byte(in)); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSeverityText(t *testing.T) {
	for s := Info; s <= Critical; s++ {
		b, err := s.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var back Severity
		if err := back.UnmarshalText(bytes.ToUpper(b)); err != nil || back != s || s.String() != string(b) {
			t.Errorf("%v round trip: %v %v", s, back, err)
		}
	}
	if _, err := Severity(9).MarshalText(); err == nil {
		t.Error("severity 9 marshalled")
	}
	if _, err := ParseSeverity("severe"); err == nil {
		t.Error("parsed an unknown severity")
	}
}

func TestNoAllocationWithoutMatches(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops objects under the race detector")
	}
	s := Default()
	inputs := map[string][]byte{
		"prose": bytes.Repeat([]byte("Enter your password: the secret token is stored in a key ring. postgres://localhost/db AKIA -----BEGIN CERTIFICATE-----\n"), 200),
		"binary": func() []byte {
			b := make([]byte, 64<<10)
			for i := range b {
				b[i] = byte(i * 7)
			}
			return b
		}(),
	}
	for name, data := range inputs {
		if ms := s.Scan("x", data); len(ms) != 0 {
			t.Fatalf("%s: unexpected %s", name, describe(ms))
		}
		if n := testing.AllocsPerRun(20, func() { s.Scan("x", data) }); n != 0 {
			t.Errorf("%s: %v allocations per Scan, want 0", name, n)
		}
	}
}

func TestConcurrentScans(t *testing.T) {
	s := Default()
	inputs := make([][]byte, 16)
	want := make([]string, len(inputs))
	for i := range inputs {
		inputs[i] = []byte(fmt.Sprintf("%s\nGITHUB_TOKEN=%s\nDATABASE_URL=postgres://app:Zq8vN2kLr5Tw%d@db/app\n", strings.Repeat("filler ", i*50), fakeGHP, i))
		want[i] = describe(s.Scan("", inputs[i]))
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Go(func() {
			for round := 0; round < 20; round++ {
				for i, in := range inputs {
					if got := describe(s.Scan("", in)); got != want[i] {
						t.Errorf("input %d: %s, want %s", i, got, want[i])
						return
					}
				}
			}
		})
	}
	wg.Wait()
}

func TestRulesInfo(t *testing.T) {
	infos := Default().Rules()
	seen := map[string]bool{}
	for _, ri := range infos {
		if ri.ID == "" || ri.Title == "" || ri.Category == "" || len(ri.Keywords) == 0 && ri.ID != "pgpass-password" {
			t.Errorf("incomplete rule info %+v", ri)
		}
		if seen[ri.ID] {
			t.Errorf("duplicate id %s", ri.ID)
		}
		seen[ri.ID] = true
	}
}
