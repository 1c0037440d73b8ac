package secret

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"
)

// fuzzPaths are the paths of the embedded test cases: one per signature family at least, so a
// fuzzed content reaches every analyzer.
var fuzzPaths = sync.OnceValue(func() []string {
	tests, order, err := embeddedCatalogueTests()
	if err != nil {
		panic(err)
	}
	seen := map[string]bool{}
	var out []string
	for _, id := range order {
		for _, tc := range tests[id] {
			if !seen[tc.Path] {
				seen[tc.Path] = true
				out = append(out, tc.Path)
			}
		}
	}
	return out
})

// checkFileMatches verifies the invariants every match must keep: known severity, bounded
// evidence that serialises to JSON.
func checkFileMatches(t *testing.T, path string, ms []FileMatch) {
	t.Helper()
	for _, m := range ms {
		if m.Severity < Info || m.Severity > Critical || m.ID == "" {
			t.Fatalf("%s: bad match %+v", path, m)
		}
		ev, err := json.Marshal(m.Evidence)
		if err != nil {
			t.Fatalf("%s: %s: evidence does not serialise: %v", path, m.ID, err)
		}
		if len(ev) > 16<<10 {
			t.Fatalf("%s: %s: %d bytes of evidence", path, m.ID, len(ev))
		}
	}
}

// FuzzCatalogueCheck feeds arbitrary content, under the path of any embedded test case (shadow,
// kubeconfig, SQLite, keystores, histories…), to Wants and Check: no panic, bounded evidence.
func FuzzCatalogueCheck(f *testing.F) {
	tests, order, err := embeddedCatalogueTests()
	if err != nil {
		f.Fatal(err)
	}
	paths := fuzzPaths()
	index := map[string]uint16{}
	for i, p := range paths {
		index[p] = uint16(i)
	}
	for _, id := range order {
		for _, tc := range tests[id] {
			if data, err := tc.data(); err == nil {
				f.Add(index[tc.Path], data)
			}
		}
	}
	f.Add(uint16(0), []byte("root:$6$x:1:\nroot:!:\n::::\n:$y$:\n"))
	f.Add(index["/etc/kubernetes/admin.conf"], []byte("users:\n- name: a\n  user:\n    exec:\n      command: \"\n- - - :\n{\"users\": [{\"name\": \"x\", \"user\": {\"token\": \"abcdefghijk\"}}]}"))
	f.Add(index["/var/lib/grafana/grafana.db"], sqliteLoop())
	c := DefaultCatalogue()
	f.Fuzz(func(t *testing.T, which uint16, data []byte) {
		path := paths[int(which)%len(paths)]
		size := int64(len(data))
		need, head := c.Wants(path, size)
		if head < 0 || head > size {
			t.Fatalf("Wants(%s, %d) head %d", path, size, head)
		}
		if need {
			checkFileMatches(t, path, c.Check(path, size, data[:head]))
		}
		checkFileMatches(t, path, c.Check(path, size, data))
	})
}

// sqliteLoop is a SQLite header whose schema b-tree is an interior page pointing at itself.
func sqliteLoop() []byte {
	b := make([]byte, 1024)
	copy(b, sqliteMagic)
	binary.BigEndian.PutUint16(b[16:], 512)
	b[100] = 0x05                            // interior table page
	binary.BigEndian.PutUint16(b[103:], 1)   // one cell
	binary.BigEndian.PutUint32(b[108:], 1)   // right-most pointer: page 1
	binary.BigEndian.PutUint16(b[112:], 200) // cell pointer
	binary.BigEndian.PutUint32(b[200:], 2)   // left child: page 2
	b[512] = 0x05                            // page 2: interior, pointing back
	binary.BigEndian.PutUint32(b[512+8:], 1) // right-most: page 1
	binary.BigEndian.PutUint16(b[512+3:], 0) // no cells
	return b
}

// TestCatalogueAdversarialInputs bounds the CPU time of content built to make analyzers work
// hard: millions of lines, self-referencing SQLite pages, keystores claiming 2^31 entries,
// thousands of unterminated tags and key headers, 1 MiB each. Each must be judged in well under
// a second (the slowest, a history with a secret on every line, runs at about 5 MB/s); the limit is loose (CPU time, so a loaded machine does not make it flaky) and
// catches quadratic behaviour.
func TestCatalogueAdversarialInputs(t *testing.T) {
	if raceEnabled {
		t.Skip("a timing bound; the race detector slows everything tenfold")
	}
	const size = 1 << 20
	fill := func(unit string) []byte { return bytes.Repeat([]byte(unit), size/len(unit)+1)[:size] }
	jks := append([]byte{0xfe, 0xed, 0xfe, 0xed, 0, 0, 0, 2, 0x7f, 0xff, 0xff, 0xff}, fill("\x00\x00\x00\x02\x00\x01a\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01X\x00\x00\x00\x00")...)
	inputs := []struct{ path, name string }{
		{"/etc/shadow", "root:$6$abcdefgh$Zz9Yy8Xx7Ww6Vv5Uu4Tt3Ss2Rr1Qq0Pp9Oo8Nn7Mm6Ll5Kk4Jj3Ii2:1::::::\n"},
		{"/etc/shadow", ":"},
		{"/home/a/.kube/config", "users:\n- name: a\n  user:\n    token: abcdefghijklmnop\n    exec:\n      command: x\n"},
		{"/root/.bash_history", "mysql -pSecretX --password=Xy PGPASSWORD=abc curl -u a:b https://u:p@h/ sshpass -p x\n"},
		{"/root/.bash_history", "pass"},
		{"/Windows/Panther/unattend.xml", "<Password><Value>"},
		{"/Windows/Panther/unattend.xml", "<AdministratorPassword>x</AdministratorPassword>"},
		{"/home/a/.ssh/id_rsa", "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n"},
		{"/home/a/.ssh/id_rsa", "PuTTY-User-Key-File-3: ssh-rsa\n"},
		{"/srv/app/.env", "A_PASSWORD=Zq8vN2kLr5Tw\n"},
		{"/srv/app/web.config", `<add name="x" connectionString="Password=abcd;"/>`},
		{"/srv/infra/terraform.tfstate", `{"terraform_version":"1.0.0","password":"abcdefgh","mode":"managed"}`},
		{"/var/lib/cloud/instance/user-data.txt", "password: abc\nchpasswd:\n  list: x\n"},
		{"/home/a/.m2/settings.xml", "<server><id>a</id><password>b</password></server><!--"},
		{"/root/.pgpass", "h:5432:d:u:p\\:x\n"},
		{"/root/.netrc", "machine m login l password p macdef x\n"},
		{"/home/a/.git-credentials", "https://u:p@h\n"},
		{"/var/lib/postgresql/16/main/global/1260", "md5e10adc3949ba59abbe56e057f20f883e SCRAM-SHA-256$"},
	}
	c := DefaultCatalogue()
	run := func(name, path string, data []byte) {
		start := cpuTime()
		ms := c.Check(path, int64(len(data)), data)
		used := cpuTime() - start
		checkFileMatches(t, path, ms)
		t.Logf("%-45s %-30.30q %6.1f MB/s per CPU-second, %d matches", path, name, float64(len(data))/used.Seconds()/1e6, len(ms))
		if used > 3*time.Second {
			t.Errorf("%s (%q): %v of CPU for %d bytes", path, name, used, len(data))
		}
	}
	for _, in := range inputs {
		run(in.name, in.path, fill(in.name))
	}
	loop := sqliteLoop()
	run("sqlite self-loop", "/var/lib/grafana/grafana.db", loop)
	run("sqlite self-loop", "/home/a/.config/google-chrome/Default/Login Data", loop)
	deep := append([]byte(nil), loop...)
	for p := 2; p*512+512 <= size; p++ { // a chain of interior pages as long as the file
		pg := make([]byte, 512)
		pg[0] = 0x05
		binary.BigEndian.PutUint32(pg[8:], uint32(p+1))
		deep = append(deep[:(p-1)*512], pg...)
	}
	run("sqlite page chain", "/home/a/x.sqlite", deep)
	run("jks claiming 2^31 entries", "/opt/app/server.jks", jks)
	run("pem headers", "/opt/app/x.pem", fill("-----BEGIN PRIVATE KEY-----\n"))
	run("authorized_keys", "/root/.ssh/authorized_keys", fill("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIF4p8F4D alice@x\n"))
	run("long line", "/root/.bash_history", bytes.Repeat([]byte("x"), size))
	if !strings.HasPrefix(string(jks), "\xfe\xed") {
		t.Fatal("bad jks")
	}
}
