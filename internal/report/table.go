package report

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/snapwatch/snapwatch/internal/finding"
)

// The terminal table: findings grouped by severity (highest first), then by resource; one line
// each, cells truncated to fit Options.Width; then errors, and a summary of counts and stats.
// Every string from a finding goes through termEscape: a file name cannot move the cursor,
// clear the screen, set the window title or reorder text on the reader's terminal.

const (
	ansiReset = "\x1b[0m"
	ansiBold  = "\x1b[1m"
	ansiDim   = "\x1b[2m"
	ansiRed   = "\x1b[31m"
)

var severityColor = map[finding.Severity]string{
	finding.Critical: "\x1b[1;97;41m", // bold white on red
	finding.High:     "\x1b[1;31m",
	finding.Medium:   "\x1b[33m",
	finding.Low:      "\x1b[36m",
	finding.Info:     "\x1b[2m",
}

type tableCol struct {
	header string
	// comfort is the width a column keeps while others can still give up space; min the width
	// it keeps in any case (never more than its content needs).
	comfort, min int
	middle       bool // truncate in the middle, which keeps both ends of ids and paths
}

var tableCols = []tableCol{
	{header: "SEVERITY", comfort: 8, min: 8},
	{header: "RULE", comfort: 32, min: 12},
	{header: "RESOURCE", comfort: 22, min: 12, middle: true},
	{header: "LOCATION", comfort: 30, min: 12, middle: true},
	{header: "TITLE", comfort: 24, min: 12},
	{header: "EVIDENCE", comfort: 20, min: 8},
}

const colSep = "  "

// paint wraps s in an ANSI colour when colour is on.
func paint(on bool, code, s string) string {
	if !on || code == "" || s == "" {
		return s
	}
	return code + s + ansiReset
}

func writeTable(w io.Writer, p *prepared, opt Options) error {
	bw := bufio.NewWriter(w)
	r := p.r
	width := opt.Width
	if width <= 0 {
		width = DefaultWidth
	}
	color := opt.Color

	// Heading: what ran on what, and how long it took.
	head := nonEmpty(r.Tool.Name, "snapwatch")
	if r.Command != "" {
		head += " " + r.Command
	}
	if len(r.Targets) > 0 {
		head += " " + strings.Join(r.Targets, " ")
	}
	if d := duration(r); d != "" {
		head += " · " + d
	}
	if t := formatTime(r.Started); t != "" {
		head += " · " + t
	}
	fmt.Fprintln(bw, paint(color, ansiBold, truncate(termEscape(head), width)))
	fmt.Fprintln(bw)

	// Findings, grouped by severity then resource.
	rows := slices.Clone(p.findings)
	slices.SortStableFunc(rows, func(a, b finding.Finding) int {
		return cmp.Or(cmp.Compare(b.Severity, a.Severity), cmp.Compare(a.Resource.Key(), b.Resource.Key()))
	})
	if len(rows) == 0 {
		msg := "No findings."
		if p.hidden > 0 {
			msg = fmt.Sprintf("No findings at or above %s.", p.min)
		}
		fmt.Fprintln(bw, truncate(msg, width))
	} else {
		cells := make([][]string, len(rows))
		for i := range rows {
			f := &rows[i]
			cells[i] = []string{
				strings.ToUpper(f.Severity.String()),
				termEscape(f.Rule),
				termEscape(nonEmpty(f.Resource.ID, resourceLabel(f.Resource))),
				termEscape(whereLabel(f)),
				termEscape(tableTitle(f)),
				termEscape(evidenceSummary(f.Evidence, true)),
			}
		}
		widths := columnWidths(cells, width)
		line := func(cols []string, sev finding.Severity, header bool) {
			var b strings.Builder
			for i, c := range cols {
				if tableCols[i].middle {
					c = truncateMiddle(c, widths[i])
				} else {
					c = truncate(c, widths[i])
				}
				last := i == len(cols)-1
				if !last {
					c = padRight(c, widths[i])
				}
				switch {
				case header:
					c = paint(color, ansiBold, c)
				case i == 0:
					c = paint(color, severityColor[sev], c)
				}
				b.WriteString(c)
				if !last {
					b.WriteString(colSep)
				}
			}
			fmt.Fprintln(bw, strings.TrimRight(b.String(), " "))
		}
		hdr := make([]string, len(tableCols))
		for i, c := range tableCols {
			hdr[i] = c.header
		}
		line(hdr, 0, true)
		for i := range rows {
			if i > 0 && rows[i].Severity != rows[i-1].Severity {
				fmt.Fprintln(bw)
			}
			line(cells[i], rows[i].Severity, false)
		}
	}

	// What could not be read: the result is incomplete.
	if len(r.Errors) > 0 {
		fmt.Fprintln(bw)
		fmt.Fprintln(bw, paint(color, ansiBold+ansiRed, truncate(fmt.Sprintf("ERRORS (%d): the result is incomplete", len(r.Errors)), width)))
		for _, e := range r.Errors {
			fmt.Fprintln(bw, "  "+truncate(termEscape(errorLine(e)), max(width-2, 1)))
		}
	}

	// Summary: counts by severity (of every finding, shown or not) and errors; coloured only
	// when it fits, since truncation would cut an escape sequence.
	fmt.Fprintln(bw)
	var plain, colored []string
	for _, s := range severities {
		c := fmt.Sprintf("%d %s", p.counts[s], s)
		plain = append(plain, c)
		if p.counts[s] > 0 {
			c = paint(color, severityColor[s], c)
		}
		colored = append(colored, c)
	}
	hidden := ""
	if p.hidden > 0 {
		hidden = fmt.Sprintf(" (%d below %s hidden)", p.hidden, p.min)
	}
	errs := plural(len(r.Errors), "error", "errors")
	summary := "Findings: " + strings.Join(plain, " · ") + hidden + " · " + errs
	if displayWidth(summary) > width {
		summary = truncate(summary, width)
	} else if color {
		if len(r.Errors) > 0 {
			errs = paint(color, ansiRed, errs)
		}
		summary = "Findings: " + strings.Join(colored, " · ") + hidden + " · " + errs
	}
	fmt.Fprintln(bw, summary)
	if stats := flattenStats(p.stats); len(stats) > 0 {
		parts := make([]string, len(stats))
		for i, s := range stats {
			parts[i] = s.Key + "=" + s.Value
		}
		fmt.Fprintln(bw, paint(color, ansiDim, truncate(termEscape("Stats: "+strings.Join(parts, " · ")), width)))
	}
	return bw.Flush()
}

// tableTitle is the title, or the rule when a finding has none; suppressed and resolved
// findings say so.
func tableTitle(f *finding.Finding) string {
	t := nonEmpty(f.Title, f.Rule)
	if f.Status != "" && f.Status != finding.StatusOpen {
		t = "[" + string(f.Status) + "] " + t
	}
	return t
}

// columnWidths fits the columns into width. Each column starts at its natural width (its
// widest cell); while the line is too long, the column furthest above its comfortable width
// gives up a column, then, if that is not enough, the one furthest above its minimum. The
// severity column never shrinks.
func columnWidths(cells [][]string, width int) []int {
	n := len(tableCols)
	avail := max(width-len(colSep)*(n-1), 1)
	widths := make([]int, n)
	for i, c := range tableCols {
		widths[i] = displayWidth(c.header)
	}
	for _, row := range cells {
		for i, c := range row {
			widths[i] = max(widths[i], min(displayWidth(c), avail))
		}
	}
	sum := 0
	for _, w := range widths {
		sum += w
	}
	for _, floor := range []func(tableCol) int{
		func(c tableCol) int { return c.comfort },
		func(c tableCol) int { return max(c.min, displayWidth(c.header)) },
	} {
		for sum > avail {
			widest := -1
			for i := 1; i < n; i++ {
				excess := widths[i] - floor(tableCols[i])
				if excess > 0 && (widest < 0 || excess > widths[widest]-floor(tableCols[widest])) {
					widest = i
				}
			}
			if widest < 0 {
				break
			}
			widths[widest]--
			sum--
		}
	}
	return widths
}
