package cli

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/pflag"

	"github.com/snapwatch/snapwatch/internal/finding"
	"github.com/snapwatch/snapwatch/internal/report"
)

// resultFlags are --format, --output and --fail-on, which every command that reports findings
// takes the same way. Embedded in a command's options.
type resultFlags struct{ format, output, failOn string }

// register adds the flags; counted names what --fail-on counts ("a finding", "an alert").
func (r *resultFlags) register(f *pflag.FlagSet, counted string) {
	names := make([]string, 0, len(report.Formats()))
	for _, n := range report.Formats() {
		names = append(names, string(n))
	}
	f.StringVar(&r.format, "format", "", "output format: "+strings.Join(names, ", ")+" (default table on a terminal, json otherwise)")
	f.StringVarP(&r.output, "output", "o", "", "write the result to this file (mode 0600) instead of standard output")
	f.StringVar(&r.failOn, "fail-on", "", "exit 1 when "+counted+" has at least this severity (critical, high, medium, low, info)")
}

// parse reads the flags: the format to write, and the --fail-on threshold with whether one was
// given. Commands call it before their work, so that a typo fails at once.
func (r *resultFlags) parse() (format report.Format, failOn finding.Severity, failOnSet bool, err error) {
	if format, err = pickFormat(r.format, r.output); err != nil {
		return "", 0, false, err
	}
	failOn, failOnSet, err = parseFailOn(r.failOn)
	return format, failOn, failOnSet, err
}

// openOutput returns where a command writes its result: the --output file (created 0600: results
// describe what is exposed and must not be readable by other users) or standard output.
func openOutput(path string, stdout io.Writer) (*bufio.Writer, func() error, error) {
	if path == "" || path == "-" {
		w := bufio.NewWriterSize(stdout, 64<<10)
		return w, w.Flush, nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, nil, err
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return nil, nil, err
	}
	w := bufio.NewWriterSize(f, 64<<10)
	return w, func() error {
		if err := w.Flush(); err != nil {
			f.Close()
			return fmt.Errorf("write %s: %w", path, err)
		}
		return f.Close()
	}, nil
}
