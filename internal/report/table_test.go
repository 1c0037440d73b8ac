package report

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/snapwatch/snapwatch/internal/finding"
)

var sgr = regexp.MustCompile("\x1b\\[[0-9;]*m")

// assertTerminalSafe fails on anything but printable text, newlines and (when allowed) the
// colour sequences the table writes itself.
func assertTerminalSafe(t testing.TB, out string, colour bool) {
	t.Helper()
	if colour {
		out = sgr.ReplaceAllString(out, "")
	}
	if !utf8.ValidString(out) {
		t.Fatal("output is not UTF-8")
	}
	for i, r := range out {
		if (r < 0x20 && r != '\n') || r == 0x7f || (r >= 0x80 && r < 0xa0) || unsafeRune(r) {
			t.Fatalf("control character %U at byte %d: %q", r, i, out[max(i-20, 0):min(i+20, len(out))])
		}
	}
}

func TestTableTerminalSafe(t *testing.T) {
	for _, colour := range []bool{false, true} {
		out := string(render(t, FormatTable, fixtureResult(), Options{Width: 300, Color: colour}))
		assertTerminalSafe(t, out, colour)
		// The escapes are visible, not interpreted.
		if !strings.Contains(out, `\x1b]0;pwned\x07\x1b[2J`) {
			t.Errorf("escaped title sequence missing:\n%s", out)
		}
	}
	// Bidirectional overrides are shown, not applied.
	r := &Result{Findings: []finding.Finding{{Title: bidiOverride, Rule: "r\u2066x", Severity: finding.High,
		Location: &finding.Location{Path: "/a\u2028b\u0085c"}}}}
	out := string(render(t, FormatTable, r, Options{Width: 200}))
	assertTerminalSafe(t, out, false)
	for _, want := range []string{`invoice\u202egnp.exe`, `r\u2066x`, `/a\u2028b\u0085c`} {
		if !strings.Contains(out, want) {
			t.Errorf("%q missing:\n%s", want, out)
		}
	}
}

func TestTableWidth(t *testing.T) {
	for _, width := range []int{80, 100, 120, 200} {
		out := string(render(t, FormatTable, fixtureResult(), Options{Width: width}))
		for _, line := range strings.Split(out, "\n") {
			if w := displayWidth(line); w > width {
				t.Errorf("width %d: line of %d columns: %q", width, w, line)
			}
		}
	}
}

func TestTableGroupsAndSummary(t *testing.T) {
	out := string(render(t, FormatTable, fixtureResult(), Options{Width: 200}))
	lines := strings.Split(out, "\n")
	var sevs []string
	for _, l := range lines {
		if f := strings.Fields(l); len(f) > 0 && strings.Contains("CRITICAL HIGH MEDIUM LOW INFO", f[0]) && f[0] == strings.ToUpper(f[0]) && len(f) > 1 {
			sevs = append(sevs, f[0])
		}
	}
	if strings.Join(sevs, " ") != "CRITICAL CRITICAL CRITICAL HIGH HIGH MEDIUM MEDIUM LOW INFO" {
		t.Errorf("rows not grouped by severity: %v", sevs)
	}
	for _, want := range []string{
		"Findings: 3 critical · 2 high · 2 medium · 1 low · 1 info · 2 errors",
		"ERRORS (2): the result is incomplete",
		"files_scanned=48213",
		"bytes_read=20.0 GiB (21474836480)",
		"wJal… sha256:9f86d081884c",
		"vg0/root:/root/.ssh/id_ed25519 (deleted)",
		"[resolved] GitHub personal",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("%q missing:\n%s", want, out)
		}
	}
	// Within a severity, findings on the same resource are together.
	crit := strings.Join(lines, "\n")
	i, j, k := strings.Index(crit, "aws-ebs-snapshot-public"), strings.Index(crit, "secret/aws-access-key-pair"), strings.Index(crit, "gcp-snapshot-iam-public")
	if !(i < j && j < k) {
		t.Errorf("critical findings not grouped by resource")
	}
}

func TestTableMinSeverity(t *testing.T) {
	out := string(render(t, FormatTable, fixtureResult(), Options{Width: 160, MinSeverity: finding.Critical}))
	if strings.Contains(out, "\nHIGH") || !strings.Contains(out, "(6 below critical hidden)") {
		t.Errorf("MinSeverity not applied:\n%s", out)
	}
	// Counts still cover everything.
	if !strings.Contains(out, "3 critical · 2 high") {
		t.Error(out)
	}
	r := &Result{Findings: []finding.Finding{{Severity: finding.Low, Title: "x"}}}
	if out := string(render(t, FormatTable, r, Options{MinSeverity: finding.High})); !strings.Contains(out, "No findings at or above high.") {
		t.Error(out)
	}
}

func TestTruncate(t *testing.T) {
	for _, c := range []struct {
		in     string
		w      int
		end    string
		middle string
	}{
		{"abcdef", 6, "abcdef", "abcdef"},
		{"abcdefghijkl", 8, "abcdefg…", "abcd…jkl"},
		{"日本語日本語", 7, "日本語…", "日本語…"},
		{"p2:/home/deploy/.aws/credentials:3", 20, "p2:/home/deploy/.aw…", "p2:/home/d…entials:3"},
		{"x", 0, "", ""},
	} {
		if got := truncate(c.in, c.w); got != c.end {
			t.Errorf("truncate(%q, %d) = %q, want %q", c.in, c.w, got, c.end)
		}
		if got := truncateMiddle(c.in, c.w); got != c.middle {
			t.Errorf("truncateMiddle(%q, %d) = %q, want %q", c.in, c.w, got, c.middle)
		}
		if w := displayWidth(truncateMiddle(c.in, c.w)); w > c.w {
			t.Errorf("truncateMiddle(%q, %d) is %d wide", c.in, c.w, w)
		}
	}
}
