package contentscan

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/snapwatch/snapwatch/internal/filesystem"
	"github.com/snapwatch/snapwatch/internal/finding"
	"github.com/snapwatch/snapwatch/internal/target"
)

// Scanner scans targets and accumulates their findings, errors and statistics. One Scanner may
// scan several targets in turn; its methods are safe to call from a progress display meanwhile.
type Scanner struct {
	opt     Options
	c       counters
	budget  atomic.Int64 // bytes left under MaxTotalBytes; unused when it is 0
	started time.Time

	mu       sync.Mutex
	findings map[string]*finding.Finding
	order    []string
	errs     []ErrorRecord
	dropped  int
	targets  int
	volumes  int
	unread   []string
}

// ErrorRecord is something the scan could not read: the result is incomplete there.
type ErrorRecord struct {
	Target  string `json:"target"`
	Where   string `json:"where,omitempty"` // "p2:/var/lib/x", "p3"
	Message string `json:"message"`
}

// New makes a Scanner.
func New(opt Options) *Scanner {
	s := &Scanner{opt: opt.withDefaults(), findings: map[string]*finding.Finding{}, started: time.Now()}
	s.budget.Store(opt.MaxTotalBytes)
	return s
}

// job is one stream of bytes to scan: a live file, a deleted file, or a stretch of free space.
type job struct {
	t     *target.Target
	m     *target.Mount
	path  string // absolute inside the volume ("/etc/shadow")
	size  int64
	inode uint64
	// open gives the bytes; for unallocated space they start at the volume offset off.
	open        func() (io.ReaderAt, error)
	extents     []filesystem.Extent // set when the file is read ahead in windows (prefetch.go)
	deleted     bool
	unallocated bool
	off         int64
}

// Scan reads the target through. It returns only when ctx is cancelled (with ctx's error);
// everything else that goes wrong is recorded in Errors.
func (s *Scanner) Scan(ctx context.Context, t *target.Target) error {
	s.mu.Lock()
	s.targets++
	s.volumes += len(t.Mounts) + len(t.Unreadable)
	for _, u := range t.Unreadable {
		where := u.Volume
		s.unread = append(s.unread, t.Spec+":"+where+": "+u.Problem)
		if u.Kind != "empty" {
			s.errs = append(s.errs, ErrorRecord{Target: t.Spec, Where: where, Message: "not scanned: " + u.Problem})
		}
	}
	s.mu.Unlock()

	jobs := make(chan job, 4*s.opt.Workers)
	var wg sync.WaitGroup
	for range s.opt.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := newWorker(s)
			for j := range jobs {
				if ctx.Err() == nil {
					w.run(ctx, j)
				}
			}
		}()
	}
	s.produce(ctx, t, jobs)
	close(jobs)
	wg.Wait()
	return ctx.Err()
}

// produce walks every mount and sends its files, then its residual data, to the workers.
func (s *Scanner) produce(ctx context.Context, t *target.Target, jobs chan<- job) {
	send := func(j job) bool {
		select {
		case jobs <- j:
			return true
		case <-ctx.Done():
			return false
		}
	}
	for i := range t.Mounts {
		m := &t.Mounts[i]
		s.walk(ctx, t, m, send)
		if s.opt.Residual {
			s.residual(ctx, t, m, send)
		}
		if ctx.Err() != nil {
			return
		}
	}
}

func (s *Scanner) walk(ctx context.Context, t *target.Target, m *target.Mount, send func(job) bool) {
	feed := s.newFeeder(m, send)
	var ahead *walkAhead
	if feed.readsAhead() {
		ahead = s.startWalkAhead(ctx, feed, m.FS)
		defer ahead.stop()
	}
	err := fs.WalkDir(m.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			s.fail(t, m, "/"+strings.TrimPrefix(p, "."), err)
			return nil
		}
		if d.IsDir() {
			if slices.Contains(s.opt.SkipDirs, p) {
				return fs.SkipDir
			}
			if ahead != nil && !ahead.enter() {
				feed.dir(m.FS, p)
			}
			return nil
		}
		if !d.Type().IsRegular() {
			if d.Type()&fs.ModeSymlink == 0 {
				s.c.skip(skipSpecial)
			}
			return nil
		}
		info, err := d.Info()
		if err != nil {
			s.fail(t, m, "/"+p, err)
			return nil
		}
		s.c.filesSeen.Add(1)
		j := job{t: t, m: m, path: "/" + p, size: info.Size()}
		if st, ok := info.Sys().(*filesystem.Stat); ok {
			j.inode = st.Inode
			if st.Encrypted {
				s.c.skip(skipEncrypted)
				return nil
			}
		}
		name := p
		j.open = func() (io.ReaderAt, error) { return openReaderAt(m.FS, name) }
		if !feed.add(j) {
			return ctx.Err()
		}
		return nil
	})
	if ctx.Err() == nil && !feed.flush() {
		err = ctx.Err()
	}
	if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		s.fail(t, m, "", err)
	}
}

// openReaderAt opens a file for random access: the readers of snapwatch and *os.File both allow it.
func openReaderAt(fsys fs.FS, name string) (io.ReaderAt, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	ra, ok := f.(io.ReaderAt)
	if !ok {
		f.Close()
		return nil, fmt.Errorf("%s: file cannot be read at offsets", name)
	}
	return ra, nil
}

func (s *Scanner) fail(t *target.Target, m *target.Mount, path string, err error) {
	where := m.Volume
	if path != "" {
		if where != "" {
			where += ":"
		}
		where += path
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.errs) >= s.opt.MaxErrors {
		s.dropped++
		return
	}
	s.errs = append(s.errs, ErrorRecord{Target: t.Spec, Where: where, Message: err.Error()})
}

// Progress is a snapshot for a progress display.
func (s *Scanner) Progress() Progress {
	return Progress{
		FilesDone: s.c.filesScanned.Load(), FilesTotal: s.c.filesTotal.Load(),
		BytesDone: s.c.bytesScanned.Load(), BytesTotal: s.c.bytesTotal.Load(),
		Findings: s.c.findings.Load(),
	}
}

// Count walks the targets' metadata only, so that a progress display knows the totals. It is
// optional: Scan works without it.
func (s *Scanner) Count(ctx context.Context, t *target.Target) {
	for _, m := range t.Mounts {
		fs.WalkDir(m.FS, ".", func(p string, d fs.DirEntry, err error) error {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if err != nil {
				return nil
			}
			if d.IsDir() && slices.Contains(s.opt.SkipDirs, p) {
				return fs.SkipDir
			}
			if d.Type().IsRegular() {
				if info, err := d.Info(); err == nil {
					s.c.filesTotal.Add(1)
					s.c.bytesTotal.Add(min(info.Size(), s.opt.MaxFileBytes))
				}
			}
			return nil
		})
	}
}

// Findings returns what was found, most severe first, in a stable order.
func (s *Scanner) Findings() []finding.Finding {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]finding.Finding, 0, len(s.order))
	for _, id := range s.order {
		out = append(out, *s.findings[id])
	}
	slices.SortStableFunc(out, func(a, b finding.Finding) int {
		if a.Severity != b.Severity {
			return int(b.Severity) - int(a.Severity)
		}
		if c := strings.Compare(a.Location.Volume, b.Location.Volume); c != 0 {
			return c
		}
		if c := strings.Compare(a.Location.Path, b.Location.Path); c != 0 {
			return c
		}
		return strings.Compare(a.Rule, b.Rule)
	})
	return out
}

// Errors returns what could not be read.
func (s *Scanner) Errors() []ErrorRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := slices.Clone(s.errs)
	if s.dropped > 0 {
		out = append(out, ErrorRecord{Message: fmt.Sprintf("%d more errors not listed", s.dropped)})
	}
	return out
}

// Stats returns the counters of the scan so far.
func (s *Scanner) Stats() Stats {
	s.mu.Lock()
	st := Stats{Targets: s.targets, Volumes: s.volumes, Findings: len(s.order), Unreadable: slices.Clone(s.unread)}
	s.mu.Unlock()
	s.c.mu.Lock()
	if len(s.c.skipped) > 0 {
		st.Skipped = map[string]int64{}
		for k, v := range s.c.skipped {
			st.Skipped[k] = v
		}
	}
	s.c.mu.Unlock()
	st.FilesSeen = s.c.filesSeen.Load()
	st.FilesScanned = s.c.filesScanned.Load()
	st.BytesScanned = s.c.bytesScanned.Load()
	st.ArchiveMembers = s.c.members.Load()
	st.DeletedScanned = s.c.deleted.Load()
	st.UnallocatedBytes = s.c.unallocated.Load()
	st.CodeBytesSkipped = s.c.codeSkipped.Load()
	st.Seconds = time.Since(s.started).Seconds()
	if st.Seconds > 0 {
		st.MBPerSecond = float64(st.BytesScanned) / 1e6 / st.Seconds
	}
	return st
}
