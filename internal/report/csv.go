package report

import (
	"encoding/csv"
	"io"
	"strconv"
	"strings"
)

// csvHeader names the CSV columns; one row per finding follows.
var csvHeader = []string{
	"id", "severity", "kind", "rule", "title", "provider", "account", "region", "resource_type",
	"resource_id", "volume", "path", "line", "deleted", "evidence", "first_seen", "last_seen", "status",
}

func writeCSV(w io.Writer, p *prepared, _ Options) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return err
	}
	row := make([]string, len(csvHeader))
	for i := range p.findings {
		f := &p.findings[i]
		var volume, fpath, line, deleted string
		if l := f.Location; l != nil {
			volume, fpath = l.Volume, l.Path
			if l.Line > 0 {
				line = strconv.Itoa(l.Line)
			}
			deleted = strconv.FormatBool(l.Deleted)
		}
		fields := []string{
			f.ID, f.Severity.String(), string(f.Kind), f.Rule, f.Title,
			f.Resource.Provider, f.Resource.Account, f.Resource.Region, f.Resource.Type, f.Resource.ID,
			volume, fpath, line, deleted, evidenceSummary(f.Evidence, false),
			rfc3339(f.FirstSeen), rfc3339(f.LastSeen), string(f.Status),
		}
		for j, s := range fields {
			row[j] = csvCell(s)
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// csvCell defuses a cell for spreadsheets (OWASP, "CSV Injection"): a cell starting with =, +,
// -, @, tab or carriage return (and, to be safe, line feed) is read as a formula by Excel,
// LibreOffice and Google Sheets, so it gets a leading single quote. Findings carry
// attacker-controlled paths and titles. Invalid UTF-8 becomes U+FFFD so the file stays UTF-8;
// quoting of commas, quotes and newlines is encoding/csv's.
func csvCell(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if s != "" && strings.ContainsRune("=+-@\t\r\n", rune(s[0])) {
		return "'" + s
	}
	return s
}
