package cli

import (
	"bufio"
	"fmt"
	"io"
	"os"
)

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
