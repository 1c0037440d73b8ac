package secret

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// runCatalogue drives a catalogue the way the content scanner does: Wants first, then Check with
// the head Wants asked for (the whole content when it asked for as much as the file).
func runCatalogue(c *Catalogue, path string, size int64, data []byte) []FileMatch {
	need, head := c.Wants(path, size)
	if !need {
		return nil
	}
	if head < int64(len(data)) {
		data = data[:head]
	}
	return c.Check(path, size, data)
}

func findMatch(ms []FileMatch, id string) *FileMatch {
	for i := range ms {
		if ms[i].ID == id {
			return &ms[i]
		}
	}
	return nil
}

func matchIDs(ms []FileMatch) string {
	var ids []string
	for _, m := range ms {
		ids = append(ids, m.ID)
	}
	if len(ids) == 0 {
		return "nothing"
	}
	return strings.Join(ids, ", ")
}

// TestCatalogueCases runs every embedded signature's own test cases (the [[signatures.tests]]
// tables in catalogue/*.toml) through the full default catalogue; each signature needs at least
// one case that matches and one that does not, a file/ id, a description and a remediation.
func TestCatalogueCases(t *testing.T) {
	tests, order, err := embeddedCatalogueTests()
	if err != nil {
		t.Fatal(err)
	}
	if len(order) < 60 {
		t.Errorf("%d signatures, want at least 60", len(order))
	}
	c := DefaultCatalogue()
	for _, id := range order {
		t.Run(strings.TrimPrefix(id, "file/"), func(t *testing.T) {
			s := c.sigs[slices.IndexFunc(c.sigs, func(s *signature) bool { return s.id == id })]
			if !strings.HasPrefix(id, "file/") || s.description == "" || s.remediation == "" {
				t.Errorf("signature needs a file/ id, a description and a remediation")
			}
			var pos, neg int
			for i, tc := range tests[id] {
				data, err := tc.data()
				if err != nil {
					t.Fatal(err)
				}
				size := tc.Size
				if size == 0 {
					size = int64(len(data))
				}
				ms := runCatalogue(c, tc.Path, size, data)
				m := findMatch(ms, id)
				if !*tc.Match {
					neg++
					if m != nil {
						t.Errorf("case %d (%s) matched but should not; evidence %v", i+1, tc.Path, m.Evidence)
					}
					continue
				}
				pos++
				if m == nil {
					t.Errorf("case %d (%s) did not match; got %s", i+1, tc.Path, matchIDs(ms))
					continue
				}
				if tc.Severity != "" && m.Severity.String() != tc.Severity {
					t.Errorf("case %d: severity %s, want %s (evidence %v)", i+1, m.Severity, tc.Severity, m.Evidence)
				}
				for k, want := range tc.Evidence {
					got, ok := m.Evidence[k]
					wj, _ := json.Marshal(want)
					gj, _ := json.Marshal(got)
					if !ok || string(wj) != string(gj) {
						t.Errorf("case %d: evidence %s = %s, want %s (all: %v)", i+1, k, gj, wj, m.Evidence)
					}
				}
			}
			if pos == 0 || neg == 0 {
				t.Errorf("signature has %d matching and %d non-matching cases; it needs both", pos, neg)
			}
		})
	}
}

// TestCatalogueEvidenceHoldsNoSecret checks every match of every test case: no evidence string
// carries one of the secrets planted in the test data (passwords, hashes, keys, tokens).
func TestCatalogueEvidenceHoldsNoSecret(t *testing.T) {
	secrets := []string{
		"$6$", "$y$", "$1$", "$apr1$", "{SHA}", "abJnggxhB", "1tUm636uS1yOEcfP5pvfqJ", "8sVm1Lq0Wz3",
		"R00t-My5ql", "Dpl-2024x", "Ssh-Pa55", "Pg-2024x", "glpat-", "ghp_", "Xk29", "Sh0p-Db",
		"Autol0gon", "UABhAHMA", "Sup3rAdm1n", "Cl0ud-R00t", "Tf-Db-2024", "Wp-Db-2024", "Wiki-Db",
		"Spr1ng", "Gr4dleS1gn", "Rk7#", "Tx8kQ2lM9", "Pg-B4ckup", "r3p0rt", "npm_", "pypi-Ag",
		"hvs.", "dop_v1", "eyJ", "1//0", "Qm8~x2L", "b3BlbnNzaC1rZXkt", "MHcCAQEE", "LS0tLS1CRUdJTi",
		"q2Lm8Nk4Qw7Rt1", "SCRAM-SHA-256$", "md5e10adc", "Adm1n-2024", "B4ckup-2024", "Az-Adm1n",
		"yAnz5TF", "Vpn-Pa55", "Vault-Pass", "RnRwLURl", "dckr_pat", "K10b5c8d2",
	}
	tests, order, err := embeddedCatalogueTests()
	if err != nil {
		t.Fatal(err)
	}
	c := DefaultCatalogue()
	for _, id := range order {
		for _, tc := range tests[id] {
			data, _ := tc.data()
			size := tc.Size
			if size == 0 {
				size = int64(len(data))
			}
			for _, m := range runCatalogue(c, tc.Path, size, data) {
				ev, _ := json.Marshal(m.Evidence)
				for _, s := range secrets {
					if strings.Contains(string(ev), s) {
						t.Errorf("%s on %s: evidence %s holds %q", m.ID, tc.Path, ev, s)
					}
				}
			}
		}
	}
}

// TestCatalogueIndexIsFast: no embedded glob falls back to being tried for every path or to a
// probe per directory segment.
func TestCatalogueIndexIsFast(t *testing.T) {
	if slow := DefaultCatalogue().index.slow(); len(slow) > 0 {
		t.Errorf("globs without an indexable literal: %v", slow)
	}
}

func TestCatalogueWantsAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector")
	}
	c := DefaultCatalogue()
	paths := []string{
		"/usr/lib/x86_64-linux-gnu/libc.so.6", "/etc/shadow", "/home/alice/.ssh/id_rsa",
		"/Windows/System32/config/SAM", "/var/lib/mysql/shop/customers.ibd",
		"/home/alice/projects/app/src/main/resources/application-prod.properties",
		"/a/very/deep/" + strings.Repeat("nested/", 80) + "file.txt",
		"/home/alice/" + strings.Repeat("x", 300) + ".db",
	}
	for _, p := range paths {
		if n := testing.AllocsPerRun(100, func() { c.Wants(p, 1000) }); n != 0 {
			t.Errorf("Wants(%q) allocates %.0f times", p, n)
		}
	}
}

// TestCatalogueConcurrent runs every test case from several goroutines at once (run with -race).
func TestCatalogueConcurrent(t *testing.T) {
	tests, order, err := embeddedCatalogueTests()
	if err != nil {
		t.Fatal(err)
	}
	c := DefaultCatalogue()
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, id := range order {
				for _, tc := range tests[id] {
					data, _ := tc.data()
					if ms := runCatalogue(c, tc.Path, int64(len(data)), data); (findMatch(ms, id) != nil) != *tc.Match && tc.Size == 0 {
						t.Errorf("%s on %s: concurrent result differs", id, tc.Path)
					}
				}
			}
		}()
	}
	wg.Wait()
}

func TestCatalogueGlobs(t *testing.T) {
	cases := []struct {
		glob  string
		fold  bool
		path  string
		match bool
	}{
		{"/etc/shadow", false, "/etc/shadow", true},
		{"/etc/shadow", false, "/etc/shadow-", false},
		{"/etc/shadow", false, "/x/etc/shadow", false},
		{"/etc/shadow", false, "etc//shadow", true},
		{"**/etc/shadow", false, "/etc/shadow", true},
		{"**/etc/shadow", false, "/var/lib/docker/overlay2/x/diff/etc/shadow", true},
		{"/home/*/.ssh/id_*", false, "/home/alice/.ssh/id_rsa", true},
		{"/home/*/.ssh/id_*", false, "/home/alice/x/.ssh/id_rsa", false},
		{"/home/*/.ssh/id_*", false, "/home/.ssh/id_rsa", false},
		{"**/.aws/credentials", false, "/root/.aws/credentials", true},
		{"/a/**/b/**/c", false, "/a/b/c", true},
		{"/a/**/b/**/c", false, "/a/x/y/b/z/c", true},
		{"/a/**/b/**/c", false, "/a/x/y/z/c", false},
		{"/x/core.[0-9]*", false, "/x/core.1234", true},
		{"/x/core.[0-9]*", false, "/x/core.dump", false},
		{"/x/[!a-c]?z", false, "/x/dyz", true},
		{"/x/[!a-c]?z", false, "/x/ayz", false},
		{"/x/a*b*c", false, "/x/aXbYbZc", true},
		{"/x/a*b*c", false, "/x/aXbYbZ", false},
		{"/Windows/System32/config/SAM", true, "/WINDOWS/system32/Config/sam", true},
		{"/Windows/System32/config/SAM", false, "/WINDOWS/system32/Config/sam", false},
		{"**/*.KDBX", true, "/Users/a/Vault.kdbx", true},
		{"/etc/{shadow,gshadow}{,-}", false, "/etc/gshadow-", true},
		{"/etc/{shadow,gshadow}{,-}", false, "/etc/passwd", false},
		{"/t/**", false, "/t/a/b", true},
		{`/t/a\*b`, false, "/t/a*b", true},
		{`/t/a\*b`, false, "/t/axb", false},
	}
	for _, tc := range cases {
		gs, err := compileGlobs(tc.glob, tc.fold, false, 0)
		if err != nil {
			t.Fatalf("%s: %v", tc.glob, err)
		}
		got := false
		for _, g := range gs {
			got = got || g.match(tc.path)
		}
		if got != tc.match {
			t.Errorf("%s matching %s: %v, want %v", tc.glob, tc.path, got, tc.match)
		}
	}
	for _, bad := range []string{"", "etc/shadow", "/a/**x/b", "/a/[b", "/a/b]", "/a/{b", "/a/../b", "/a//b", "/**/**/**/a/**/b"} {
		if _, err := compileGlobs(bad, false, true, 0); err == nil {
			t.Errorf("glob %q accepted", bad)
		}
	}
	if _, err := compileGlobs("/var/**", false, true, 0); err == nil {
		t.Error("signature glob ending in ** accepted")
	}
}

// TestCatalogueIndexFindsEveryGlob checks the index against brute force: for paths built from
// the embedded globs themselves, every glob that matches must be among the candidates.
func TestCatalogueIndexFindsEveryGlob(t *testing.T) {
	c := DefaultCatalogue()
	ix := c.index
	for _, g := range ix.globs {
		p := samplePath(g)
		var buf [maxCandidates]int32
		cands := ix.candidates(p, buf[:0])
		for gid, other := range ix.globs {
			if other.match(p) && !slices.Contains(cands, int32(gid)) {
				t.Errorf("path %s matches %s but the index did not propose it", p, other.src)
			}
		}
	}
}

// samplePath builds a path a glob matches: ** becomes one directory, patterns their literals.
func samplePath(g *glob) string {
	var parts []string
	for _, s := range g.segs {
		switch s.kind {
		case segAny:
			parts = append(parts, "deep")
		case segLiteral:
			parts = append(parts, s.text)
		default:
			var b strings.Builder
			for i := 0; i < len(s.text); i++ {
				switch c := s.text[i]; c {
				case '*':
				case '?':
					b.WriteByte('q')
				case '[':
					end, _ := classEnd(s.text, i)
					class := s.text[i+1 : end]
					for x := byte('0'); x <= 'z'; x++ {
						if matchClass(class, x) {
							b.WriteByte(x)
							break
						}
					}
					i = end
				case '\\':
					i++
					b.WriteByte(s.text[i])
				default:
					b.WriteByte(c)
				}
			}
			parts = append(parts, b.String())
		}
	}
	return "/" + strings.Join(parts, "/")
}

func TestCatalogueFallbackAndOrder(t *testing.T) {
	c := DefaultCatalogue()
	key := []byte("-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIPDSLQ6CnMPj04CsMlqNxqDyLUO528+kp/8ZMUHS/zhFoAoGCCqGSM49\nAwEHoUQDQgAEeErLsQwkZAB3I90SnT2MQT4tG2NViZiZCNmHiNUdf8fQdxTzaf6w\ntvIhNB2W9tHMqT4TLgCujBO8rssSHdfrzA==\n-----END EC PRIVATE KEY-----\n")
	// A key in /etc/ssl/private named *.key: the specific signature only, not the *.key fallback.
	ms := runCatalogue(c, "/etc/ssl/private/web.key", int64(len(key)), key)
	if matchIDs(ms) != "file/tls-private-key" {
		t.Errorf("got %s, want file/tls-private-key alone", matchIDs(ms))
	}
	ms = runCatalogue(c, "/opt/app/web.key", int64(len(key)), key)
	if matchIDs(ms) != "file/private-key-file" {
		t.Errorf("got %s, want file/private-key-file", matchIDs(ms))
	}
	if need, _ := c.Wants("/usr/lib/x86_64-linux-gnu/libc.so.6", 2<<20); need {
		t.Error("Wants a shared library")
	}
	if need, head := c.Wants("/etc/shadow", 0); need || head != 0 {
		t.Error("Wants an empty /etc/shadow")
	}
	if need, head := c.Wants("/etc/shadow", 900); !need || head != 900 {
		t.Errorf("Wants(/etc/shadow) = %v, %d; want the whole file", need, head)
	}
	if need, head := c.Wants("/Windows/System32/config/SAM", 1<<24); !need || head != 4096 {
		t.Errorf("Wants(SAM) = %v, %d; want the 4096-byte head", need, head)
	}
	if need, head := c.Wants("/pagefile.sys", 1<<30); !need || head != 0 {
		t.Errorf("Wants(pagefile.sys) = %v, %d; want the path alone", need, head)
	}
	if ms := c.Check("/pagefile.sys", 1<<30, nil); matchIDs(ms) != "file/windows-page-file" {
		t.Errorf("Check(pagefile.sys) = %s", matchIDs(ms))
	}
}

func TestLoadCatalogueFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	user := write("team.toml", `
exclude = ["/srv/fixtures/**"]

[[signatures]]
id = "file/unix-shadow"
disabled = true

[[signatures]]
id = "file/vault-token"
title = "Vault token (team rule)"
severity = "medium"
category = "dev-credentials"
paths = ["**/.vault-token", "/etc/vault/token"]

[[signatures]]
id = "team/backup-key"
title = "Backup encryption key"
severity = "critical"
category = "team"
paths = ["/etc/backup/*.key"]
magic = [{ at = 0, text = "BK1" }]
`)
	c, err := LoadCatalogue(true, user)
	if err != nil {
		t.Fatal(err)
	}
	if ms := runCatalogue(c, "/etc/shadow", 100, []byte("root:$6$abcdefgh$Zz9Yy8Xx7Ww6Vv5Uu4Tt3Ss2Rr1Qq0Pp9Oo8Nn7Mm6Ll5Kk4Jj3Ii2Hh1Gg0Ff9Ee8Dd7Cc6Bb5Aa4:1::::::\n")); len(ms) != 0 {
		t.Errorf("disabled signature still matches: %s", matchIDs(ms))
	}
	if ms := runCatalogue(c, "/etc/vault/token", 5, []byte("short")); matchIDs(ms) != "file/vault-token" || ms[0].Severity != Medium {
		t.Errorf("replaced signature: %v", ms)
	}
	if ms := runCatalogue(c, "/etc/backup/nightly.key", 10, []byte("BK1xxxxxxx")); matchIDs(ms) != "team/backup-key" {
		t.Errorf("new signature: %s", matchIDs(ms))
	}
	if ms := runCatalogue(c, "/srv/fixtures/.env", 20, []byte("DB_PASSWORD=Xk29-Lm8Nk4\n")); len(ms) != 0 {
		t.Errorf("user exclusion ignored: %s", matchIDs(ms))
	}
	alone, err := LoadCatalogue(false, user)
	if err != nil {
		t.Fatal(err)
	}
	if len(alone.sigs) != 2 {
		t.Errorf("without defaults: %d signatures, want 2", len(alone.sigs))
	}

	bad := map[string]string{
		"unknown key":       "[[signatures]]\nid = \"x\"\ntitle = \"t\"\nseverity = \"low\"\ncategory = \"c\"\npaths = [\"/a\"]\nregexx = \"a\"\n",
		"no id":             "[[signatures]]\ntitle = \"t\"\nseverity = \"low\"\ncategory = \"c\"\npaths = [\"/a\"]\n",
		"no paths":          "[[signatures]]\nid = \"x\"\ntitle = \"t\"\nseverity = \"low\"\ncategory = \"c\"\n",
		"bad severity":      "[[signatures]]\nid = \"x\"\ntitle = \"t\"\nseverity = \"urgent\"\ncategory = \"c\"\npaths = [\"/a\"]\n",
		"relative glob":     "[[signatures]]\nid = \"x\"\ntitle = \"t\"\nseverity = \"low\"\ncategory = \"c\"\npaths = [\"a/b\"]\n",
		"bad regex":         "[[signatures]]\nid = \"x\"\ntitle = \"t\"\nseverity = \"low\"\ncategory = \"c\"\npaths = [\"/a\"]\nregex = \"(\"\n",
		"unknown analyzer":  "[[signatures]]\nid = \"x\"\ntitle = \"t\"\nseverity = \"low\"\ncategory = \"c\"\npaths = [\"/a\"]\nanalyzer = \"magic8\"\n",
		"bad magic":         "[[signatures]]\nid = \"x\"\ntitle = \"t\"\nseverity = \"low\"\ncategory = \"c\"\npaths = [\"/a\"]\nmagic = [{ at = 0, hex = \"zz\" }]\n",
		"magic too far":     "[[signatures]]\nid = \"x\"\ntitle = \"t\"\nseverity = \"low\"\ncategory = \"c\"\npaths = [\"/a\"]\nmagic = [{ at = 99999999, text = \"a\" }]\n",
		"read without":      "[[signatures]]\nid = \"x\"\ntitle = \"t\"\nseverity = \"low\"\ncategory = \"c\"\npaths = [\"/a\"]\nread = 10\n",
		"empty size range":  "[[signatures]]\nid = \"x\"\ntitle = \"t\"\nseverity = \"low\"\ncategory = \"c\"\npaths = [\"/a\"]\nminSize = 10\nmaxSize = 5\n",
		"twice":             "[[signatures]]\nid = \"x\"\ntitle = \"t\"\nseverity = \"low\"\ncategory = \"c\"\npaths = [\"/a\"]\n[[signatures]]\nid = \"x\"\ntitle = \"t\"\nseverity = \"low\"\ncategory = \"c\"\npaths = [\"/a\"]\n",
		"test without want": "[[signatures]]\nid = \"x\"\ntitle = \"t\"\nseverity = \"low\"\ncategory = \"c\"\npaths = [\"/a\"]\n[[signatures.tests]]\npath = \"/a\"\n",
		"trailing **":       "[[signatures]]\nid = \"x\"\ntitle = \"t\"\nseverity = \"low\"\ncategory = \"c\"\npaths = [\"/a/**\"]\n",
	}
	for name, body := range bad {
		if _, err := LoadCatalogue(false, write("bad.toml", body)); err == nil {
			t.Errorf("%s: loaded", name)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
	if _, err := LoadCatalogue(false); err == nil {
		t.Error("an empty catalogue loaded")
	}
}

// TestCatalogueSignatureCount reports the catalogue by category (and keeps the docs honest).
func TestCatalogueSignatureCount(t *testing.T) {
	byCat := map[string]int{}
	analyzersUsed := map[string]bool{}
	for _, s := range DefaultCatalogue().sigs {
		byCat[s.category]++
		for name, a := range analyzers {
			if a == s.analyzer {
				analyzersUsed[name] = true
			}
		}
	}
	t.Logf("%d signatures by category: %v", len(DefaultCatalogue().sigs), byCat)
	for name := range analyzers {
		if !analyzersUsed[name] {
			t.Errorf("analyzer %s is used by no signature", name)
		}
	}
}

// plusEdgeKey is a throw-away passphrase-protected ed25519 key (ssh-keygen) one of whose base64
// lines starts with '+'. The PEM check used to trim '+' from line ends as if it were a string
// concatenation operator, which corrupted one real key in five.
const plusEdgeKey = `-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAACmFlczI1Ni1jdHIAAAAGYmNyeXB0AAAAGAAAABAvF5QAWj
RaR/p188P69yUzAAAAEAAAAAEAAAAzAAAAC3NzaC1lZDI1NTE5AAAAIDF0Y4zpbVsywN/H
+OjDT5NSDv7HVTPa85/I7id4rRqxAAAAkGxwx29js7L/47A8OklQB8VA37+apRFQVaSUcM
EmezsXWmdODdtjk1NSAhPYjG3w/OFizKg/GVITgW2LKUzULEzqMHaagZiwZIk7epE+lIsG
E308Xe6q58GZfOnKjzVl046khjOe2Gu/WU6lh7xSN9QKcu+LCXPwsVqvgLqQDNHPp5HOdh
WDxwtvXolSpa4tRA==
-----END OPENSSH PRIVATE KEY-----`

func TestPrivateKeyWithPlusAtLineEdges(t *testing.T) {
	if ms := Default().Scan("home/alice/.ssh/id_ed25519", []byte(plusEdgeKey)); !hasRule(ms, "private-key") {
		t.Errorf("secret rules: got %s", describe(ms))
	}
	ms := runCatalogue(DefaultCatalogue(), "/home/alice/.ssh/id_ed25519", int64(len(plusEdgeKey)), []byte(plusEdgeKey))
	if m := findMatch(ms, "file/ssh-private-key"); m == nil || m.Evidence["encrypted"] != true {
		t.Errorf("catalogue: got %v", ms)
	}
	for in, want := range map[string]string{
		"+NydkzIo":      "+NydkzIo",
		"NydkzIo+":      "NydkzIo+",
		`"MIIE+abc" +`:  "MIIE+abc",
		`+ "MIIE+abc+"`: "MIIE+abc+",
		`'MIIE/abc+',`:  "MIIE/abc+",
		"  MIIE\\r":     "MIIE",
		"`MIIEabc` + ":  "MIIEabc",
	} {
		if got := string(trimPEMLine([]byte(in))); got != want {
			t.Errorf("trimPEMLine(%q) = %q, want %q", in, got, want)
		}
	}
}
