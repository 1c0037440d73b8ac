package report

import (
	"crypto/sha256"
	"encoding/base64"
	"html"
	"regexp"
	"strings"
	"testing"

	"github.com/snapwatch/snapwatch/internal/finding"
)

// The only elements the HTML report writes. Anything else in the output came from input.
var htmlTags = map[string]bool{
	"html": true, "head": true, "meta": true, "title": true, "style": true, "body": true, "header": true,
	"div": true, "span": true, "h1": true, "h2": true, "h4": true, "dl": true, "dt": true, "dd": true,
	"code": true, "main": true, "section": true, "p": true, "strong": true, "a": true, "table": true,
	"thead": true, "tbody": true, "tr": true, "th": true, "td": true, "input": true, "label": true, "b": true,
	"details": true, "summary": true, "footer": true, "script": true,
}

var (
	tagRE  = regexp.MustCompile(`<(/?)([A-Za-z][A-Za-z0-9-]*)([^>]*)>`)
	attrRE = regexp.MustCompile(`\s([A-Za-z-]+)(?:="([^"]*)")?`)
	// Attributes the report uses, and the only values an href may take.
	htmlAttrs = map[string]bool{
		"lang": true, "charset": true, "name": true, "content": true, "http-equiv": true, "class": true,
		"aria-hidden": true, "role": true, "aria-labelledby": true, "aria-label": true, "id": true, "hidden": true,
		"href": true, "style": true, "type": true, "checked": true, "for": true, "placeholder": true,
		"data-sev": true, "data-n": true, "scope": true,
	}
)

// assertSafeHTML checks that the HTML holds only the report's own markup: every "<" opens one of
// its elements with only its attributes, there is one script and it is the report's, and nothing
// refers to anything outside the file.
func assertSafeHTML(t testing.TB, out string) {
	t.Helper()
	head, rest, ok := strings.Cut(out, "<script>")
	if !ok {
		t.Fatal("no script element")
	}
	script, tail, ok := strings.Cut(rest, "</script>")
	if !ok || script != htmlScript {
		t.Fatal("the script element is not exactly the report's script")
	}
	markup := head + tail
	if strings.Count(markup, "<script") != 0 || strings.Contains(strings.ToLower(markup), "<script") {
		t.Fatal("a second script element")
	}
	for _, m := range tagRE.FindAllStringSubmatch(markup, -1) {
		if !htmlTags[strings.ToLower(m[2])] {
			t.Fatalf("unexpected element <%s%s>", m[2], m[3])
		}
		for _, a := range attrRE.FindAllStringSubmatch(m[3], -1) {
			name := strings.ToLower(a[1])
			if !htmlAttrs[name] || strings.HasPrefix(name, "on") {
				t.Fatalf("unexpected attribute %q in <%s%s>", name, m[2], m[3])
			}
			if name == "href" && !strings.HasPrefix(a[2], "#") {
				t.Fatalf("link out of the document: %q", a[2])
			}
		}
	}
	// Every "<" in the markup starts one of those tags (or the doctype): a "<" from input would be
	// &lt;.
	stripped := tagRE.ReplaceAllString(strings.Replace(markup, "<!DOCTYPE html>", "", 1), "")
	if i := strings.IndexByte(stripped, '<'); i >= 0 {
		t.Fatalf("raw '<' in text: %q", stripped[max(i-40, 0):min(i+40, len(stripped))])
	}
	// Nothing in the markup or the style sheet refers to anything outside the file. (Text may
	// mention URLs: it is text.)
	_, style, _ := strings.Cut(markup, "<style>")
	style, _, _ = strings.Cut(style, "</style>")
	code := style + strings.Join(tagRE.FindAllString(markup, -1), "")
	for _, bad := range []string{"src=", "url(", "@import", "<link", "http:", "https:", "javascript:"} {
		if strings.Contains(strings.ToLower(code), bad) {
			t.Fatalf("%q in the HTML's markup or style: it must not load anything", bad)
		}
	}
}

func TestHTMLSafe(t *testing.T) {
	out := string(render(t, FormatHTML, fixtureResult(), Options{}))
	assertSafeHTML(t, out)
	// The hostile strings are there, escaped.
	for _, want := range []string{
		"&lt;/script&gt;&lt;script&gt;alert(&#34;xss&#34;)&lt;/script&gt;",
		`=cmd|&#39; /C calc&#39;!A0`,
		`\x1b]0;pwned\x07\x1b[2J`,
		`invoice\u202egnp.exe`,
		"日本語/секрет/😀",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("%q missing", want)
		}
	}
	// No raw control or bidirectional characters reach the page.
	for i, r := range out {
		if (r < 0x20 && r != '\n' && r != '\t') || r == 0x7f || unsafeRune(r) {
			t.Fatalf("raw %U at %d", r, i)
		}
	}
}

func TestHTMLContentSecurityPolicy(t *testing.T) {
	out := string(render(t, FormatHTML, fixtureResult(), Options{}))
	m := regexp.MustCompile(`<meta http-equiv="Content-Security-Policy" content="([^"]*)">`).FindStringSubmatch(out)
	if m == nil {
		t.Fatal("no CSP meta element")
	}
	sum := sha256.Sum256([]byte(htmlScript))
	want := "default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-" +
		base64.StdEncoding.EncodeToString(sum[:]) + "'; base-uri 'none'; form-action 'none'"
	if got := html.UnescapeString(m[1]); got != want {
		t.Fatalf("CSP %q, want %q", got, want)
	}
	// The CSP comes before anything that could load or run.
	if strings.Index(out, "Content-Security-Policy") > strings.Index(out, "<style>") {
		t.Fatal("CSP after the style element")
	}
}

func TestHTMLContent(t *testing.T) {
	out := string(render(t, FormatHTML, fixtureResult(), Options{}))
	for _, want := range []string{
		"<title>snapwatch · Content scan report · images/web-01.qcow2</title>",
		"9 findings on 6 resources, of which 3 critical, 2 high, 2 medium.",
		"<strong>Incomplete result.</strong> 2 targets or checks could not be read",
		`<div class="card sev-critical"><div class="n">3</div><div class="l">Critical</div></div>`,
		`<details class="finding sev-critical" data-sev="4" data-n="0">`,
		"<h4>Remediation</h4>",
		"<dt>secret</dt><dd><code>wJal…</code></dd>",
		`<span class="tag">AWS-FSBP-EC2.1</span>`,
		`<dt>deleted</dt>`,
		`<span class="status status-suppressed">suppressed</span>`,
		"<dt>files_scanned</dt><dd>48213</dd>",
		`<input type="checkbox" class="ft" id="ft-high" checked`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("%q missing", want)
		}
	}
	if strings.Count(out, `<details class="finding`) != 9 {
		t.Error("not one details element per finding")
	}
}

func TestHTMLMinSeverityAndEmpty(t *testing.T) {
	out := string(render(t, FormatHTML, fixtureResult(), Options{MinSeverity: finding.High}))
	assertSafeHTML(t, out)
	if strings.Count(out, `<details class="finding`) != 5 || !strings.Contains(out, "4 findings below high severity are not shown.") {
		t.Error("MinSeverity not applied")
	}
	if !strings.Contains(out, `<div class="n">2</div><div class="l">Medium</div>`) {
		t.Error("counts must cover hidden findings too")
	}
	empty := string(render(t, FormatHTML, &Result{Command: "audit"}, Options{}))
	assertSafeHTML(t, empty)
	if !strings.Contains(empty, `<p class="empty">No findings.</p>`) || !strings.Contains(empty, "Exposure audit report") {
		t.Error("empty report")
	}
}
