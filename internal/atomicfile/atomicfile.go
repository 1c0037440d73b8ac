// Package atomicfile writes the small state files snapwatch keeps between runs (ingest
// checkpoints, content-scan results) so that a reader never sees half a file and a crash
// leaves the previous version: write a temporary file beside the target, sync it, rename it
// over. Files are 0600: they describe what is exposed where.
package atomicfile

import (
	"os"
	"path/filepath"
)

// Write replaces path with data, atomically.
func Write(path string, data []byte) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			os.Remove(tmp)
		}
	}()
	if err = f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err = f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err = f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
