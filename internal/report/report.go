// Package report writes the result of any snapwatch command (scan, audit, detect, report, demo)
// in the formats of the CLI contract: a terminal table, JSON, JSON lines, SARIF 2.1.0, CSV and a
// self-contained HTML page. It knows nothing of how findings were found.
//
// Every writer starts from the same prepared view of a Result: findings validated, put in one
// deterministic order, and passed through a defensive redaction of their evidence (see Redact),
// so that no format prints a secret in full even if a producer forgot to redact it.
package report

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/snapwatch/snapwatch/internal/finding"
)

// ToolInfo names the program that produced a result.
type ToolInfo struct {
	Name        string `json:"name"` // "snapwatch"
	Version     string `json:"version,omitempty"`
	CommandLine string `json:"command_line,omitempty"` // as typed, for the record
}

// ErrorRecord is something a command could not read or check: its presence makes the result
// incomplete (exit code 2).
type ErrorRecord struct {
	Target  string `json:"target,omitempty"` // "ebs:snap-1", "/images/a.qcow2", "aws/123456789012/eu-west-1"
	Where   string `json:"where,omitempty"`  // "volume p3", "ec2:DescribeSnapshots"
	Message string `json:"message"`
}

// Result is what one run of a command found. Writers do not modify it.
type Result struct {
	Tool     ToolInfo
	Command  string   // "scan", "audit", "detect"
	Targets  []string // as given on the command line
	Started  time.Time
	Finished time.Time
	Findings []finding.Finding
	Errors   []ErrorRecord
	Stats    map[string]any // command-specific counters: files scanned, bytes, skipped by reason...
}

// Format names an output format, as given to --format.
type Format string

// The formats of the CLI contract.
const (
	FormatTable Format = "table"
	FormatJSON  Format = "json"
	FormatJSONL Format = "jsonl"
	FormatSARIF Format = "sarif"
	FormatCSV   Format = "csv"
	FormatHTML  Format = "html"
	FormatOCSF  Format = "ocsf" // OCSF 1.4 Findings events, a JSON array
	FormatASFF  Format = "asff" // AWS Security Finding Format, a JSON array for BatchImportFindings
)

// Options tune the human-oriented formats; machine formats ignore them.
type Options struct {
	Color       bool             // table: ANSI colours
	MinSeverity finding.Severity // table and html: hide findings below it (they are still counted)
	Width       int              // table: terminal width in columns; ≤ 0 means DefaultWidth
}

// DefaultWidth is the table width when Options.Width is not set.
const DefaultWidth = 120

// spec is one format in the registry.
type spec struct {
	name Format
	// write renders a prepared result.
	write func(w io.Writer, p *prepared, opt Options) error
	// stream, when set, makes NewStream write findings as they come instead of at Close.
	stream func(w io.Writer, opt Options) Stream
	// filtered formats honour Options.MinSeverity.
	filtered bool
}

// formats is the registry, in the order Formats lists them. A new format is a file with its
// writer and one line here.
var formats = []spec{
	{name: FormatTable, write: writeTable, filtered: true},
	{name: FormatJSON, write: writeJSON},
	{name: FormatJSONL, write: writeJSONL, stream: newJSONLStream},
	{name: FormatSARIF, write: writeSARIF},
	{name: FormatCSV, write: writeCSV},
	{name: FormatHTML, write: writeHTML, filtered: true},
	{name: FormatOCSF, write: writeOCSF},
	{name: FormatASFF, write: writeASFF},
}

// Formats lists the formats Write accepts.
func Formats() []Format {
	out := make([]Format, len(formats))
	for i, s := range formats {
		out[i] = s.name
	}
	return out
}

// ParseFormat reads a --format value (case-insensitive).
func ParseFormat(name string) (Format, error) {
	f := Format(strings.ToLower(strings.TrimSpace(name)))
	if _, err := lookup(f); err != nil {
		return "", err
	}
	return f, nil
}

func lookup(f Format) (*spec, error) {
	for i := range formats {
		if formats[i].name == f {
			return &formats[i], nil
		}
	}
	names := make([]string, len(formats))
	for i, s := range formats {
		names[i] = string(s.name)
	}
	return nil, fmt.Errorf("report: unknown format %q (want %s)", string(f), strings.Join(names, ", "))
}

// Write renders r in format f. Findings are written in a deterministic order (severity, highest
// first, then rule, resource, location path and line) with their evidence redacted; r itself is
// not modified. A finding with a severity outside info…critical is an error.
func Write(w io.Writer, f Format, r *Result, opt Options) error {
	s, err := lookup(f)
	if err != nil {
		return err
	}
	if r == nil {
		return errors.New("report: nil result")
	}
	p, err := prepare(r, nil, opt, s.filtered)
	if err != nil {
		return err
	}
	return s.write(w, p, opt)
}

// Worst returns the highest severity among fs, or Info when fs is empty. It considers every
// finding whatever its status; callers filter first if they want only open ones.
func Worst(fs []finding.Finding) finding.Severity {
	worst := finding.Info
	for _, f := range fs {
		worst = max(worst, f.Severity)
	}
	return worst
}

// ExitCode applies DESIGN.md's exit codes to a result: 2 if anything could not be read or checked
// (r.Errors, or no result at all: the result is incomplete), else 1 if --fail-on was given and an
// open finding is at or above it, else 0. Suppressed and resolved findings never fail a run; a
// finding with an empty status counts as open.
func ExitCode(r *Result, failOn finding.Severity, failOnSet bool) int {
	if r == nil || len(r.Errors) > 0 {
		return 2
	}
	if failOnSet {
		for _, f := range r.Findings {
			if isOpen(f) && f.Severity >= failOn {
				return 1
			}
		}
	}
	return 0
}

func isOpen(f finding.Finding) bool {
	return f.Status == "" || f.Status == finding.StatusOpen
}
