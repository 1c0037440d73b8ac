package report

import (
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/snapwatch/snapwatch/internal/finding"
)

// Stream writes a result whose findings arrive one by one during a long scan. Add may be called
// from several goroutines. Close writes what remains with r's metadata; the findings written are
// those given to Add followed by those in r.Findings whose id was not added, so a caller may Add
// as findings come, keep them in r.Findings too (for ExitCode), or both.
type Stream interface {
	Add(finding.Finding) error
	Close(r *Result) error
}

// NewStream returns a Stream for format f. jsonl writes each finding, redacted, as soon as it is
// added (in arrival order, not sorted); the other formats need every finding before they can
// start, so they keep them and write everything at Close.
func NewStream(w io.Writer, f Format, opt Options) (Stream, error) {
	s, err := lookup(f)
	if err != nil {
		return nil, err
	}
	if s.stream != nil {
		return s.stream(w, opt), nil
	}
	return &bufferedStream{w: w, spec: s, opt: opt, ids: map[string]bool{}}, nil
}

var errClosed = errors.New("report: stream is closed")

func checkSeverity(f finding.Finding) error {
	if f.Severity < finding.Info || f.Severity > finding.Critical {
		return fmt.Errorf("report: finding %q (rule %q): invalid severity %d", f.ID, f.Rule, int(f.Severity))
	}
	return nil
}

// bufferedStream keeps findings for a format that writes at Close.
type bufferedStream struct {
	mu     sync.Mutex
	w      io.Writer
	spec   *spec
	opt    Options
	added  []finding.Finding
	ids    map[string]bool
	closed bool
}

func (s *bufferedStream) Add(f finding.Finding) error {
	if err := checkSeverity(f); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errClosed
	}
	s.added = append(s.added, f)
	if f.ID != "" {
		s.ids[f.ID] = true
	}
	return nil
}

func (s *bufferedStream) Close(r *Result) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errClosed
	}
	s.closed = true
	if r == nil {
		r = &Result{}
	}
	all := s.added
	for _, f := range r.Findings {
		if f.ID == "" || !s.ids[f.ID] {
			all = append(all, f)
		}
	}
	if all == nil {
		all = []finding.Finding{}
	}
	p, err := prepare(r, all, s.opt, s.spec.filtered)
	if err != nil {
		return err
	}
	return s.spec.write(s.w, p, s.opt)
}

// jsonlStream writes each finding as it is added and keeps only the ids it wrote.
type jsonlStream struct {
	mu     sync.Mutex
	w      io.Writer
	ids    map[string]bool
	closed bool
}

func newJSONLStream(w io.Writer, _ Options) Stream {
	return &jsonlStream{w: w, ids: map[string]bool{}}
}

func (s *jsonlStream) Add(f finding.Finding) error {
	if err := checkSeverity(f); err != nil {
		return err
	}
	f = redactFinding(f)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errClosed
	}
	if err := writeLine(s.w, &f); err != nil {
		return err
	}
	if f.ID != "" {
		s.ids[f.ID] = true
	}
	return nil
}

func (s *jsonlStream) Close(r *Result) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errClosed
	}
	s.closed = true
	if r == nil {
		return nil
	}
	var rest []finding.Finding
	for _, f := range r.Findings {
		if f.ID == "" || !s.ids[f.ID] {
			rest = append(rest, f)
		}
	}
	if len(rest) == 0 {
		return nil
	}
	p, err := prepare(r, rest, Options{}, false)
	if err != nil {
		return err
	}
	return writeJSONL(s.w, p, Options{})
}
