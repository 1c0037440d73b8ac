package secret

import (
	"io/fs"
	"path/filepath"
	"regexp"
	"regexp/syntax"
	"strings"
	"testing"
)

func TestRequiredAny(t *testing.T) {
	for pat, want := range map[string]string{
		`(?:^|/)usr/lib/python[23](?:\.[0-9]+)?/`: "usr/lib/python",
		`(?i)/docs?/`:                     "/doc (folded)",
		`(?:^|/)etc/chromium\.d/apikeys$`: "etc/chromium.d/apikeys",
		`a|b`:                             "", // simplified to a character class
		`x(?:abc)?y`:                      "x",
		`(?:_test\.go|_tests?\.py)$`:      "_test", // the common prefix is factored out
		`(?:^|/)[a-z]+/`:                  "/",
		`[0-9]+`:                          "",
	} {
		re, err := syntax.Parse(pat, syntax.Perl)
		if err != nil {
			t.Fatal(err)
		}
		lits, fold := requiredAny(re.Simplify())
		got := strings.Join(lits, "|")
		if fold {
			got += " (folded)"
		}
		if got != want {
			t.Errorf("%s: %q, want %q", pat, got, want)
		}
	}
}

// The literal prefilter must never change a verdict: compare with one alternation of the same
// patterns (the allow-lists' former form) over the paths of a real system.
func TestPathSetAgreesWithAlternation(t *testing.T) {
	var patterns []string
	for _, al := range Default().globalPath {
		for _, p := range al.paths.pats {
			patterns = append(patterns, p.re.String())
		}
	}
	if len(patterns) < 5 {
		t.Fatalf("only %d global path patterns", len(patterns))
	}
	ps, err := compilePathSet(patterns)
	if err != nil {
		t.Fatal(err)
	}
	alt := regexp.MustCompile("(?:" + strings.Join(patterns, ")|(?:") + ")")
	n, hits := 0, 0
	filepath.WalkDir("/usr", func(p string, d fs.DirEntry, err error) error {
		if err != nil || n > 30000 {
			return filepath.SkipDir
		}
		n++
		for _, q := range []string{p, p[1:], p + "!member.txt"} {
			got, want := ps.MatchString(q), alt.MatchString(q)
			if got != want {
				t.Fatalf("%s: pathSet %v, alternation %v", q, got, want)
			}
			if got {
				hits++
			}
		}
		return nil
	})
	t.Logf("%d paths, %d allowed", n, hits)
}

func BenchmarkPathAllowed(b *testing.B) {
	s := Default()
	paths := []string{"/usr/lib/x86_64-linux-gnu/libgnutls.so.30", "/home/alice/.aws/credentials",
		"/var/www/html/wp-config.php", "/usr/share/doc/openssl/README.gz", "/etc/ssl/private/server.key"}
	for i := 0; i < b.N; i++ {
		s.PathAllowed(paths[i%len(paths)])
	}
}

// The directory memo never changes an answer: for every path, MatchString agrees with running
// every pattern on the whole path, asked in any order and more than once.
func TestPathSetDirectoryMemoAgrees(t *testing.T) {
	patterns := []string{
		`(?i)(?:^|/)(?:tests?|testdata|fixtures?)/`,
		`(?:^|/)usr/share/(?:doc|man|info)/`,
		`(?:^|/)node_modules/`,
		`(?:_test\.go|\.spec\.[jt]sx?)$`,
		`(?:^|/)usr/lib/[a-z0-9_]+-linux-gnu[a-z]*/[^/]+\.(?:so(?:\.[0-9]+)*|a)$`,
		`^etc/chromium\.d/apikeys$`,
		`secrets/`,
	}
	ps, err := compilePathSet(patterns)
	if err != nil {
		t.Fatal(err)
	}
	dirs := 0
	for _, p := range ps.pats {
		if p.dir {
			dirs++
		}
	}
	if dirs != 4 {
		t.Fatalf("%d directory patterns, want 4", dirs)
	}
	paths := []string{
		"usr/share/doc/x/changelog.gz", "usr/share/docs/x", "/usr/share/man/man1/ls.1.gz", "src/Tests/a.go",
		"src/testing/a.go", "a_test.go", "web/node_modules/x/index.js", "node_modules", "node_modules/",
		"usr/lib/x86_64-linux-gnu/libc.so.6", "usr/lib/x86_64-linux-gnu/sub/libc.so.6", "etc/chromium.d/apikeys",
		"x/etc/chromium.d/apikeys", "home/a/secrets/key", "home/a/secrets", "secrets/", "plain", "/", "",
		"fixture/", "a/fixtures/b/c/d.txt", "testdata",
	}
	for round := 0; round < 2; round++ {
		for _, p := range paths {
			want := false
			for _, re := range ps.pats {
				want = want || re.re.MatchString(p)
			}
			if got := ps.MatchString(p); got != want {
				t.Errorf("round %d %q: %v, want %v", round, p, got, want)
			}
		}
	}
}
