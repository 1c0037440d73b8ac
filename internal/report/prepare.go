package report

import (
	"cmp"
	"slices"

	"github.com/snapwatch/snapwatch/internal/finding"
)

// prepared is the view every writer renders: the result's metadata, its findings validated,
// redacted and sorted, and the counts a summary needs.
type prepared struct {
	r        *Result
	findings []finding.Finding // sorted, redacted; without those below MinSeverity in filtered formats
	counts   [finding.Critical + 1]int
	hidden   int              // findings left out for being below MinSeverity
	min      finding.Severity // the MinSeverity applied (Info when none)
	stats    map[string]any   // JSON-safe and redacted
	total    int              // findings before filtering
}

// prepare validates and copies fs (the findings to write; r.Findings for Write) into a prepared
// view. r is not modified.
func prepare(r *Result, fs []finding.Finding, opt Options, filtered bool) (*prepared, error) {
	if fs == nil {
		fs = r.Findings
	}
	p := &prepared{r: r, total: len(fs), stats: cleanStats(r.Stats)}
	if filtered {
		p.min = opt.MinSeverity
	}
	out := make([]finding.Finding, 0, len(fs))
	for i := range fs {
		f := fs[i]
		if err := checkSeverity(f); err != nil {
			return nil, err
		}
		p.counts[f.Severity]++
		if filtered && f.Severity < opt.MinSeverity {
			p.hidden++
			continue
		}
		out = append(out, redactFinding(f))
	}
	sortFindings(out)
	p.findings = out
	return p, nil
}

// sortFindings puts findings in the order every format uses: severity (highest first), rule,
// resource, location path, line; then volume, offset, id and title so that the order is total
// and output is byte-for-byte reproducible whatever order the findings came in.
func sortFindings(fs []finding.Finding) {
	slices.SortStableFunc(fs, compareFindings)
}

func compareFindings(a, b finding.Finding) int {
	la, lb := locOf(a), locOf(b)
	return cmp.Or(
		cmp.Compare(b.Severity, a.Severity),
		cmp.Compare(a.Rule, b.Rule),
		cmp.Compare(a.Resource.Key(), b.Resource.Key()),
		cmp.Compare(la.Path, lb.Path),
		cmp.Compare(la.Line, lb.Line),
		cmp.Compare(la.Volume, lb.Volume),
		cmp.Compare(la.Offset, lb.Offset),
		cmp.Compare(a.ID, b.ID),
		cmp.Compare(a.Title, b.Title),
		cmp.Compare(a.Resource.ARN, b.Resource.ARN),
	)
}

// locOf returns the finding's location, or an empty one.
func locOf(f finding.Finding) finding.Location {
	if f.Location == nil {
		return finding.Location{}
	}
	return *f.Location
}

// severities lists the severities from the highest down.
var severities = []finding.Severity{finding.Critical, finding.High, finding.Medium, finding.Low, finding.Info}
