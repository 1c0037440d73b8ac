package secret

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCatalogueRealTools judges files made by the real tools (ssh-keygen, openssl, keytool, gpg,
// sqlite3, kubectl) rather than by hand, so the analyzers are checked against what those tools
// actually write. Each part is skipped when its tool is missing; -short skips the slow ones.
func TestCatalogueRealTools(t *testing.T) {
	c := DefaultCatalogue()
	dir := t.TempDir()
	run := func(t *testing.T, name string, args ...string) {
		t.Helper()
		if _, err := exec.LookPath(name); err != nil {
			t.Skipf("%s not installed", name)
		}
		cmd := exec.Command(name, args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
	}
	judge := func(t *testing.T, file, guest string) []FileMatch {
		t.Helper()
		data, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		return runCatalogue(c, guest, int64(len(data)), data)
	}
	expect := func(t *testing.T, ms []FileMatch, id, severity string, evidence map[string]any) {
		t.Helper()
		m := findMatch(ms, id)
		if m == nil {
			t.Fatalf("want %s, got %s", id, matchIDs(ms))
		}
		if severity != "" && m.Severity.String() != severity {
			t.Errorf("%s: severity %s, want %s (%v)", id, m.Severity, severity, m.Evidence)
		}
		for k, want := range evidence {
			wj, _ := json.Marshal(want)
			gj, _ := json.Marshal(m.Evidence[k])
			if string(wj) != string(gj) {
				t.Errorf("%s: evidence %s = %s, want %s (all %v)", id, k, gj, wj, m.Evidence)
			}
		}
	}

	t.Run("ssh-keygen", func(t *testing.T) {
		run(t, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "alice@laptop", "-f", "id_ed25519")
		run(t, "ssh-keygen", "-q", "-t", "ed25519", "-N", "correct horse", "-f", "id_protected")
		run(t, "ssh-keygen", "-q", "-t", "rsa", "-b", "2048", "-m", "PEM", "-N", "", "-f", "legacy_rsa")
		run(t, "ssh-keygen", "-q", "-t", "ecdsa", "-N", "", "-f", "ssh_host_ecdsa_key")
		expect(t, judge(t, "id_ed25519", "/home/alice/.ssh/id_ed25519"), "file/ssh-private-key", "critical",
			map[string]any{"key_types": []string{"ssh-ed25519"}, "encrypted": false})
		expect(t, judge(t, "id_protected", "/home/alice/.ssh/id_protected"), "file/ssh-private-key", "medium",
			map[string]any{"encrypted": true})
		expect(t, judge(t, "legacy_rsa", "/srv/deploy/legacy_rsa"), "file/ssh-private-key", "critical",
			map[string]any{"key_types": []string{"RSA"}})
		expect(t, judge(t, "ssh_host_ecdsa_key", "/etc/ssh/ssh_host_ecdsa_key"), "file/ssh-host-key", "high",
			map[string]any{"key_types": []string{"ecdsa-sha2-nistp256"}})
		expect(t, judge(t, "id_ed25519.pub", "/home/alice/.ssh/authorized_keys"), "file/ssh-authorized-keys", "info",
			map[string]any{"keys": 1, "comments": []string{"alice@laptop"}})
		if ms := judge(t, "id_ed25519.pub", "/home/alice/.ssh/id_ed25519.pub"); len(ms) != 0 {
			t.Errorf("a public key matched %s", matchIDs(ms))
		}
		// Many keys of each kind: a check that fails on some base64 content (a line starting
		// with '+') shows up only over a batch.
		batch := 12
		if testing.Short() {
			batch = 1
		}
		for i := 0; i < batch; i++ {
			for _, kind := range [][]string{{"-t", "rsa", "-b", "1024", "-m", "PEM", "-N", ""}, {"-t", "ed25519", "-N", "pw"}} {
				name := fmt.Sprintf("batch_%s_%d", kind[1], i)
				run(t, "ssh-keygen", append([]string{"-q", "-f", name}, kind...)...)
				expect(t, judge(t, name, "/root/.ssh/"+name), "file/ssh-private-key", "", nil)
			}
		}
	})

	t.Run("openssl", func(t *testing.T) {
		run(t, "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
			"-keyout", "web.key", "-out", "web.crt", "-subj", "/CN=shop.test", "-days", "2")
		run(t, "openssl", "pkcs12", "-export", "-inkey", "web.key", "-in", "web.crt", "-out", "web.p12", "-passout", "pass:p12pass")
		run(t, "openssl", "pkcs8", "-topk8", "-in", "web.key", "-out", "web-enc.key", "-passout", "pass:keypass")
		expect(t, judge(t, "web.key", "/etc/ssl/private/web.key"), "file/tls-private-key", "high", map[string]any{"encrypted": false})
		expect(t, judge(t, "web-enc.key", "/opt/app/web-enc.key"), "file/private-key-file", "medium", map[string]any{"encrypted": true})
		expect(t, judge(t, "web.p12", "/home/alice/web.p12"), "file/pkcs12-keystore", "high",
			map[string]any{"format": "pkcs12", "private_key_visible": true})
		if ms := judge(t, "web.crt", "/etc/ssl/private/web.crt"); len(ms) != 0 {
			t.Errorf("a certificate matched %s", matchIDs(ms))
		}
		// Password hashes as openssl writes them, in a shadow file.
		var shadow strings.Builder
		for i, alg := range []string{"-6", "-5", "-1"} {
			out, err := exec.Command("openssl", "passwd", alg, "-salt", "s4ltS4lt", "pw").Output()
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&shadow, "user%d:%s:19700:0:99999:7:::\n", i, strings.TrimSpace(string(out)))
		}
		shadow.WriteString("daemon:*:19700:0:99999:7:::\n")
		if err := os.WriteFile(filepath.Join(dir, "shadow"), []byte(shadow.String()), 0o600); err != nil {
			t.Fatal(err)
		}
		expect(t, judge(t, "shadow", "/etc/shadow"), "file/unix-shadow", "critical", map[string]any{
			"accounts_with_hash": 3, "algorithms": []string{"md5crypt", "sha256crypt", "sha512crypt"}, "weak_algorithms": true,
		})
	})

	t.Run("keytool", func(t *testing.T) {
		if testing.Short() {
			t.Skip("keytool starts a JVM per call")
		}
		run(t, "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
			"-keyout", "ca.key", "-out", "ca.crt", "-subj", "/CN=ca", "-days", "2")
		kt := func(args ...string) {
			run(t, "keytool", append(args, "-storepass", "changeit")...)
		}
		kt("-genkeypair", "-alias", "server", "-keyalg", "EC", "-keystore", "server.jks", "-storetype", "JKS", "-keypass", "changeit", "-dname", "CN=server")
		kt("-importcert", "-noprompt", "-alias", "ca", "-file", "ca.crt", "-keystore", "trust.jks", "-storetype", "JKS")
		kt("-genseckey", "-alias", "aes", "-keyalg", "AES", "-keysize", "128", "-keystore", "secrets.jceks", "-storetype", "JCEKS", "-keypass", "changeit")
		kt("-genkeypair", "-alias", "server", "-keyalg", "EC", "-keystore", "server.keystore", "-storetype", "PKCS12", "-dname", "CN=server")
		expect(t, judge(t, "server.jks", "/opt/app/server.jks"), "file/java-keystore", "high",
			map[string]any{"format": "jks", "private_keys": 1})
		if ms := judge(t, "trust.jks", "/opt/app/trust.jks"); len(ms) != 0 {
			t.Errorf("a trust store matched %s", matchIDs(ms))
		}
		expect(t, judge(t, "secrets.jceks", "/opt/app/secrets.jceks"), "file/java-keystore", "high",
			map[string]any{"format": "jceks", "secret_keys": 1})
		expect(t, judge(t, "server.keystore", "/opt/app/server.keystore"), "file/java-keystore", "high",
			map[string]any{"format": "pkcs12", "private_key_visible": true})
	})

	t.Run("gpg", func(t *testing.T) {
		if testing.Short() {
			t.Skip("gpg key generation is slow")
		}
		for _, tc := range []struct {
			home, pass, sev string
			protected       bool
		}{{"gpg-clear", "", "critical", false}, {"gpg-protected", "a passphrase", "medium", true}} {
			home := filepath.Join(dir, tc.home)
			if err := os.MkdirAll(home, 0o700); err != nil {
				t.Fatal(err)
			}
			run(t, "gpg", "--homedir", home, "--batch", "--pinentry-mode", "loopback", "--passphrase", tc.pass,
				"--quick-gen-key", "Test <test@example.invalid>", "ed25519", "sign", "1d")
			if _, err := exec.LookPath("gpgconf"); err == nil {
				_ = exec.Command("gpgconf", "--homedir", home, "--kill", "gpg-agent").Run()
			}
			keys, _ := filepath.Glob(filepath.Join(home, "private-keys-v1.d", "*.key"))
			if len(keys) == 0 {
				t.Fatal("gpg wrote no key file")
			}
			rel, _ := filepath.Rel(dir, keys[0])
			expect(t, judge(t, rel, "/home/alice/.gnupg/private-keys-v1.d/"+filepath.Base(keys[0])), "file/gpg-private-key", tc.sev,
				map[string]any{"protected": tc.protected})
		}
	})

	t.Run("sqlite3", func(t *testing.T) {
		// Multi-page tables (interior b-tree pages) at the default page size.
		var sql strings.Builder
		sql.WriteString("CREATE TABLE meta(key TEXT, value TEXT); CREATE TABLE logins(origin_url TEXT, username_value TEXT, password_value BLOB);\nBEGIN;\n")
		for i := 0; i < 3000; i++ {
			fmt.Fprintf(&sql, "INSERT INTO logins VALUES('https://site%d.test/login', 'user%d', randomblob(48));\n", i, i)
		}
		sql.WriteString("COMMIT;\nCREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT); INSERT INTO users(email) VALUES('a@x'),('b@x');\n")
		if err := os.WriteFile(filepath.Join(dir, "load.sql"), []byte(sql.String()), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := exec.LookPath("sqlite3"); err != nil {
			t.Skip("sqlite3 not installed")
		}
		cmd := exec.Command("sqlite3", filepath.Join(dir, "Login Data"))
		cmd.Stdin, _ = os.Open(filepath.Join(dir, "load.sql"))
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("sqlite3: %v\n%s", err, out)
		}
		expect(t, judge(t, "Login Data", "/home/alice/.config/google-chrome/Default/Login Data"), "file/chromium-login-data", "high",
			map[string]any{"entries": 3000})
		expect(t, judge(t, "Login Data", "/home/alice/app/data.sqlite"), "file/sqlite-database", "medium",
			map[string]any{"tables": []string{"logins", "meta", "users"}, "rows": map[string]int{"logins": 3000, "users": 2}})
	})

	t.Run("kubectl", func(t *testing.T) {
		run(t, "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
			"-keyout", "admin.key", "-out", "admin.crt", "-subj", "/CN=admin", "-days", "2")
		kc := func(file string, args ...string) {
			run(t, "kubectl", append([]string{"config", "--kubeconfig", file}, args...)...)
		}
		kc("embedded", "set-cluster", "prod", "--server=https://10.0.0.10:6443")
		kc("embedded", "set-credentials", "admin", "--client-key=admin.key", "--client-certificate=admin.crt", "--embed-certs=true")
		kc("embedded", "set-credentials", "ci", "--token=eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjaSJ9.c2lnbmF0dXJlMTIz")
		kc("embedded", "set-context", "prod", "--cluster=prod", "--user=admin")
		kc("exec", "set-cluster", "eks", "--server=https://ABCDEF.gr7.eu-west-1.eks.amazonaws.com")
		kc("exec", "set-credentials", "eks", "--exec-command=aws", "--exec-api-version=client.authentication.k8s.io/v1beta1", "--exec-arg=eks", "--exec-arg=get-token")
		expect(t, judge(t, "embedded", "/root/.kube/config"), "file/kubeconfig", "critical", map[string]any{
			"credentials": []string{"embedded"}, "embedded_client_keys": 1, "tokens": 1, "servers": []string{"https://10.0.0.10:6443"},
		})
		expect(t, judge(t, "exec", "/home/alice/.kube/config"), "file/kubeconfig", "info", map[string]any{
			"credentials": []string{"exec-plugin"}, "exec_commands": []string{"aws"}, "users": []string{"eks"},
		})
	})
}
