package report

import (
	"bufio"
	"encoding/json"
	"io"
	"time"

	"github.com/snapwatch/snapwatch/internal/finding"
)

// jsonDoc is --format json: DESIGN.md's {"findings":[...],"errors":[...],"stats":{...}} with the
// run's metadata. Arrays and stats are never null.
type jsonDoc struct {
	Tool     ToolInfo          `json:"tool"`
	Command  string            `json:"command"`
	Targets  []string          `json:"targets"`
	Started  *time.Time        `json:"started"`  // null when unknown
	Finished *time.Time        `json:"finished"` // null when unknown
	Findings []finding.Finding `json:"findings"`
	Errors   []ErrorRecord     `json:"errors"`
	Stats    map[string]any    `json:"stats"`
}

func writeJSON(w io.Writer, p *prepared, _ Options) error {
	r := p.r
	tool := r.Tool
	if tool.Name == "" {
		tool.Name = "snapwatch"
	}
	doc := jsonDoc{
		Tool:     tool,
		Command:  r.Command,
		Targets:  nonNil(r.Targets),
		Started:  timeOrNil(r.Started),
		Finished: timeOrNil(r.Finished),
		Findings: nonNil(p.findings),
		Errors:   nonNil(r.Errors),
		Stats:    p.stats,
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

func timeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// writeJSONL writes one finding per line and nothing else: a consumer reads findings with a line
// reader. Errors and stats are not part of the stream; commands print errors on stderr.
func writeJSONL(w io.Writer, p *prepared, _ Options) error {
	bw := bufio.NewWriter(w)
	for i := range p.findings {
		if err := writeLine(bw, &p.findings[i]); err != nil {
			return err
		}
	}
	return bw.Flush()
}

func writeLine(w io.Writer, f *finding.Finding) error {
	b, err := json.Marshal(f)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
