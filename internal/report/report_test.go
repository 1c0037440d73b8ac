package report

import (
	"bytes"
	"encoding/json"
	"flag"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/snapwatch/snapwatch/internal/finding"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

func render(t testing.TB, f Format, r *Result, opt Options) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := Write(&b, f, r, opt); err != nil {
		t.Fatalf("%s: %v", f, err)
	}
	return b.Bytes()
}

// TestGolden compares every format's rendering of the fixture with testdata/golden; run
// `go test ./internal/report -update` after an intended change and review the diff.
func TestGolden(t *testing.T) {
	cases := []struct {
		name string
		f    Format
		opt  Options
	}{
		{"fixture.table.txt", FormatTable, Options{Width: 120}},
		{"fixture.table-color.txt", FormatTable, Options{Width: 100, Color: true}},
		{"fixture.table-min-high.txt", FormatTable, Options{Width: 80, MinSeverity: finding.High}},
		{"fixture.json", FormatJSON, Options{}},
		{"fixture.jsonl", FormatJSONL, Options{}},
		{"fixture.sarif", FormatSARIF, Options{}},
		{"fixture.csv", FormatCSV, Options{}},
		{"fixture.html", FormatHTML, Options{}},
		{"empty.json", FormatJSON, Options{}},
		{"empty.table.txt", FormatTable, Options{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := fixtureResult()
			if strings.HasPrefix(c.name, "empty.") {
				r = &Result{Command: "audit"}
			}
			got := render(t, c.f, r, c.opt)
			path := filepath.Join("testdata", "golden", c.name)
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("output differs from %s (run with -update and review the diff):\n%s", path, firstDiff(got, want))
			}
		})
	}
}

func firstDiff(got, want []byte) string {
	gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := 0; i < max(len(gl), len(wl)); i++ {
		var g, w string
		if i < len(gl) {
			g = gl[i]
		}
		if i < len(wl) {
			w = wl[i]
		}
		if g != w {
			return "line " + itoa(i+1) + ":\n got: " + g + "\nwant: " + w
		}
	}
	return "(same lines, different bytes)"
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

// TestDeterministic: the same findings in any order give the same bytes, in every format.
func TestDeterministic(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, f := range Formats() {
		want := render(t, f, fixtureResult(), Options{})
		for i := 0; i < 20; i++ {
			r := fixtureResult()
			rng.Shuffle(len(r.Findings), func(a, b int) { r.Findings[a], r.Findings[b] = r.Findings[b], r.Findings[a] })
			if got := render(t, f, r, Options{}); !bytes.Equal(got, want) {
				t.Fatalf("%s: output depends on the order of findings:\n%s", f, firstDiff(got, want))
			}
		}
	}
}

func TestWriteDoesNotModifyResult(t *testing.T) {
	r := fixtureResult()
	before := fixtureResult()
	for _, f := range Formats() {
		render(t, f, r, Options{MinSeverity: finding.High})
	}
	if !reflect.DeepEqual(r, before) {
		t.Fatal("Write modified its result")
	}
	if r.Findings[0].Title != csvFormula {
		t.Fatal("findings were reordered in place")
	}
}

// TestNoSecretInAnyFormat: the fixture's producers left secrets unredacted in evidence; no format
// may print them, nor more than their first four characters.
func TestNoSecretInAnyFormat(t *testing.T) {
	for _, f := range Formats() {
		out := string(render(t, f, fixtureResult(), Options{Width: 400}))
		for _, secret := range []string{leakedAWSSecret, leakedPassword, leakedToken} {
			if strings.Contains(out, secret[:5]) {
				t.Errorf("%s: output contains %q, the start of a secret", f, secret[:5])
			}
		}
		if !strings.Contains(out, "wJal…") && f != FormatTable {
			t.Errorf("%s: the redacted form of the secret is missing", f)
		}
	}
}

func TestFormatsAndParse(t *testing.T) {
	want := []Format{"table", "json", "jsonl", "sarif", "csv", "html", "ocsf", "asff"}
	if got := Formats(); !reflect.DeepEqual(got, want) {
		t.Fatalf("Formats() = %v", got)
	}
	for _, name := range []string{"json", "SARIF", " html ", "OCSF", "asff"} {
		if _, err := ParseFormat(name); err != nil {
			t.Errorf("%q: %v", name, err)
		}
	}
	for _, name := range []string{"xml", "", "cef"} {
		if _, err := ParseFormat(name); err == nil || !strings.Contains(err.Error(), "unknown format") {
			t.Errorf("%q: %v", name, err)
		}
	}
	if err := Write(&bytes.Buffer{}, "xml", fixtureResult(), Options{}); err == nil {
		t.Error("unknown format accepted")
	}
	if err := Write(&bytes.Buffer{}, FormatJSON, nil, Options{}); err == nil {
		t.Error("nil result accepted")
	}
}

func TestInvalidSeverity(t *testing.T) {
	r := fixtureResult()
	r.Findings[3].Severity = 7
	for _, f := range Formats() {
		if err := Write(&bytes.Buffer{}, f, r, Options{}); err == nil || !strings.Contains(err.Error(), "invalid severity") {
			t.Errorf("%s: %v", f, err)
		}
		s, _ := NewStream(&bytes.Buffer{}, f, Options{})
		if err := s.Add(finding.Finding{Severity: -1}); err == nil {
			t.Errorf("%s: stream accepted an invalid severity", f)
		}
	}
}

func TestWorst(t *testing.T) {
	if Worst(nil) != finding.Info {
		t.Fatal("empty")
	}
	if got := Worst(fixtureFindings()); got != finding.Critical {
		t.Fatalf("got %v", got)
	}
	if got := Worst([]finding.Finding{{Severity: finding.Low}, {Severity: finding.Medium}, {}}); got != finding.Medium {
		t.Fatalf("got %v", got)
	}
}

func TestExitCode(t *testing.T) {
	high := finding.Finding{Severity: finding.High, Status: finding.StatusOpen}
	noStatus := finding.Finding{Severity: finding.High}
	low := finding.Finding{Severity: finding.Low, Status: finding.StatusOpen}
	suppressed := finding.Finding{Severity: finding.Critical, Status: finding.StatusSuppressed}
	resolved := finding.Finding{Severity: finding.Critical, Status: finding.StatusResolved}
	errs := []ErrorRecord{{Target: "ebs:snap-1", Message: "access denied"}}
	cases := []struct {
		name    string
		r       *Result
		failOn  finding.Severity
		set     bool
		want    int
		comment string
	}{
		{"nil result", nil, finding.Info, false, 2, "no result is an incomplete result"},
		{"empty", &Result{}, finding.Info, true, 0, ""},
		{"findings, no --fail-on", &Result{Findings: []finding.Finding{high}}, finding.Info, false, 0, "findings alone do not fail"},
		{"at threshold", &Result{Findings: []finding.Finding{high}}, finding.High, true, 1, ""},
		{"above threshold", &Result{Findings: []finding.Finding{high}}, finding.Medium, true, 1, ""},
		{"below threshold", &Result{Findings: []finding.Finding{low}}, finding.Medium, true, 0, ""},
		{"--fail-on info", &Result{Findings: []finding.Finding{{Severity: finding.Info}}}, finding.Info, true, 1, "the zero severity, set explicitly"},
		{"empty status counts as open", &Result{Findings: []finding.Finding{noStatus}}, finding.High, true, 1, ""},
		{"suppressed never fails", &Result{Findings: []finding.Finding{suppressed}}, finding.Low, true, 0, ""},
		{"resolved never fails", &Result{Findings: []finding.Finding{resolved}}, finding.Low, true, 0, ""},
		{"errors", &Result{Errors: errs}, finding.Info, false, 2, ""},
		{"errors win over findings", &Result{Findings: []finding.Finding{high}, Errors: errs}, finding.Low, true, 2, "incomplete beats failing"},
		{"errors, findings below", &Result{Findings: []finding.Finding{low}, Errors: errs}, finding.Critical, true, 2, ""},
	}
	for _, c := range cases {
		if got := ExitCode(c.r, c.failOn, c.set); got != c.want {
			t.Errorf("%s: ExitCode = %d, want %d %s", c.name, got, c.want, c.comment)
		}
	}
}
