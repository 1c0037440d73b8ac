package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/snapwatch/snapwatch/internal/finding"
)

// FuzzWrite puts findings built from arbitrary strings through every format: no panic; JSON,
// JSON lines and SARIF are valid JSON (SARIF valid against the 2.1.0 schema and GitHub's
// constraints); CSV parses with one row per finding and no formula cell; the HTML holds only the
// report's own markup; the table holds no control character; evidence under secret keys comes
// out redacted.
func FuzzWrite(f *testing.F) {
	f.Add("AWS key", "/home/u/.aws/credentials", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "secret/aws", "content", "open", "aws", 4, 3)
	f.Add(csvFormula, "/srv/"+scriptBreak, "password=hunter2hunter2", "=rule", "event", "suppressed", "local", 1, 0)
	f.Add(ansiTitle, "p\n2\r:/\x00etc/\u202eshadow", "\xff\xfe\xfd\xfc\xfb\xfa", "r\x1b[2J", "guard", "resolved", "gcp", 0, -5)
	f.Add(`"><img src=x onerror=alert(1)>`, "</style><style>*{x:url(//evil)}</style>", "<!--", "a\u2028b", "", "", "", 3, 1<<30)
	f.Add("日本語😀", "C:\\Windows\\System32\\config\\SAM", "ghp_"+strings.Repeat("A", 300), strings.Repeat("r", 300), "exposure", "open", "azure", 2, 12)
	f.Add("", "", "", "", "", "", "", 9, 0)
	f.Fuzz(func(t *testing.T, title, path, ev, rule, kind, status, provider string, sev, line int) {
		res := finding.Resource{Provider: provider, Account: rule, Region: kind, Type: "disk-image", ID: path, ARN: title}
		fs := []finding.Finding{
			{
				ID: finding.Fingerprint(rule, res, path), Kind: finding.Kind(kind), Rule: rule, Title: title,
				Severity: finding.Severity(sev), Description: title + "\n" + path, Remediation: ev,
				Resource: res, Location: &finding.Location{Volume: kind, Path: path, Line: line, Offset: int64(line), Deleted: line%2 == 0},
				Evidence: finding.Evidence{
					"secret": ev, "match": ev, "note": title,
					"context": map[string]any{"password": ev, path: title},
					"list":    []any{ev, line, nil, true},
				},
				Compliance: []string{rule, title}, Tags: []string{kind, kind, path}, Related: []string{path},
				FirstSeen: time.Unix(int64(line)%(1<<33), 0), Status: finding.Status(status),
			},
			{
				ID: path, Kind: finding.KindExposure, Rule: title, Title: path, Severity: finding.High,
				Resource: finding.Resource{Provider: "aws", Account: title, Region: path, Type: rule, ID: title},
				Evidence: finding.Evidence{title: ev, "value": ev},
			},
		}
		r := &Result{
			Tool:    ToolInfo{Name: "snapwatch", Version: title, CommandLine: path},
			Command: kind, Targets: []string{path, title},
			Started:  time.Unix(int64(sev)%(1<<33), 0),
			Findings: fs,
			Errors:   []ErrorRecord{{Target: path, Where: rule, Message: title}},
			Stats:    map[string]any{"files": line, title: ev, "nested": map[string]any{path: ev}},
		}
		valid := sev >= int(finding.Info) && sev <= int(finding.Critical)
		for _, format := range Formats() {
			for _, opt := range []Options{{}, {Color: true, Width: line % 300, MinSeverity: finding.Severity(line % 5)}} {
				var b bytes.Buffer
				err := Write(&b, format, r, opt)
				if !valid {
					if err == nil {
						t.Fatalf("%s: invalid severity %d accepted", format, sev)
					}
					continue
				}
				if err != nil {
					t.Fatalf("%s: %v", format, err)
				}
				checkOutput(t, format, opt, b.Bytes(), len(fs), ev)
			}
		}
	})
}

func checkOutput(t *testing.T, format Format, opt Options, out []byte, n int, secret string) {
	t.Helper()
	switch format {
	case FormatJSON:
		var doc struct{ Findings []finding.Finding }
		if err := json.Unmarshal(out, &doc); err != nil {
			t.Fatalf("json: %v", err)
		}
		if len(doc.Findings) != n {
			t.Fatalf("json: %d findings, want %d", len(doc.Findings), n)
		}
		if utf8.RuneCountInString(secret) > redactedLen {
			for _, f := range doc.Findings {
				for _, k := range []string{"secret", "match", "value"} {
					if v, ok := f.Evidence[k].(string); ok && utf8.RuneCountInString(v) > redactedLen {
						t.Fatalf("json: evidence %s not redacted: %q", k, v)
					}
				}
			}
		}
	case FormatJSONL:
		lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
		if len(lines) != n {
			t.Fatalf("jsonl: %d lines, want %d", len(lines), n)
		}
		for _, l := range lines {
			if !json.Valid([]byte(l)) {
				t.Fatalf("jsonl: invalid line %q", l)
			}
		}
	case FormatSARIF:
		validateSARIF(t, out)
	case FormatCSV:
		rows := readCSV(t, out)
		if len(rows) != n+1 {
			t.Fatalf("csv: %d rows, want %d", len(rows), n+1)
		}
		for _, row := range rows {
			if len(row) != len(csvHeader) {
				t.Fatalf("csv: %d fields", len(row))
			}
		}
		assertNoFormula(t, rows)
	case FormatHTML:
		assertSafeHTML(t, string(out))
	case FormatTable:
		assertTerminalSafe(t, string(out), opt.Color)
	}
}
