package ingest

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"os"
	"path/filepath"
	"strings"
)

// files is a file, a directory tree (recursive, in lexical order per directory), or standard
// input ("-"). Keys are slash-separated paths relative to the root.
type files struct {
	root  string
	isDir bool
	stdin bool
}

func openFiles(path string) (backend, error) {
	if path == "-" {
		return &files{stdin: true}, nil
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() && !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a file or directory", path)
	}
	return &files{root: path, isDir: st.IsDir()}, nil
}

func (f *files) close() error { return nil }

func (f *files) name(key string) string {
	switch {
	case f.stdin:
		return "-"
	case f.isDir:
		return filepath.Join(f.root, filepath.FromSlash(key))
	}
	return f.root
}

func (f *files) open(ctx context.Context, key string) (io.ReadCloser, error) {
	if f.stdin {
		return io.NopCloser(os.Stdin), nil
	}
	return os.Open(f.name(key))
}

func (f *files) list(ctx context.Context, startAfter string) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		if !f.isDir {
			key := filepath.Base(f.root)
			if f.stdin {
				key = "-"
			}
			if startAfter == "" || pathLess(startAfter, key) {
				yield(key, nil)
			}
			return
		}
		err := filepath.WalkDir(f.root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			rel, _ := filepath.Rel(f.root, p)
			key := filepath.ToSlash(rel)
			if d.IsDir() {
				if key == "." || startAfter == "" {
					return nil
				}
				// Skip whole directories that sort before the resume point.
				if !strings.HasPrefix(startAfter, key+"/") && pathLess(key, startAfter) {
					return filepath.SkipDir
				}
				return nil
			}
			if !d.Type().IsRegular() || strings.HasPrefix(d.Name(), ".") {
				return nil // hidden files: editors' swap files, our own checkpoint's temporaries
			}
			if startAfter != "" && !pathLess(startAfter, key) {
				return nil
			}
			if !yield(key, nil) {
				return fs.SkipAll
			}
			return nil
		})
		if err != nil {
			yield("", err)
		}
	}
}

// pathLess orders slash paths the way filepath.WalkDir visits them: component by component.
func pathLess(a, b string) bool {
	for {
		ai, bi := strings.IndexByte(a, '/'), strings.IndexByte(b, '/')
		ac, bc := a, b
		if ai >= 0 {
			ac = a[:ai]
		}
		if bi >= 0 {
			bc = b[:bi]
		}
		if ac != bc {
			return ac < bc
		}
		if ai < 0 || bi < 0 {
			// One is a prefix of the other: a directory sorts before what it holds.
			return ai < 0 && bi >= 0
		}
		a, b = a[ai+1:], b[bi+1:]
	}
}
