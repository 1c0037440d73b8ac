// Package contentcache keeps the content-scan results of cloud snapshots between audits. A
// snapshot's bytes never change once it is complete, so its findings stay true for as long as
// the scan that made them is the same scan: entries are keyed by snapshot id and by a profile
// string naming everything that shapes the result (snapwatch's build, rules, --residual). A
// daily audit of an organisation then reads each exposed snapshot once, not once a day.
//
// Entries hold findings as the report would print them: secrets already redacted to a prefix
// and a hash. Files are 0600 in a 0700 directory.
package contentcache

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"github.com/snapwatch/snapwatch/internal/atomicfile"
	"github.com/snapwatch/snapwatch/internal/finding"
)

// Entry is one snapshot's scan result.
type Entry struct {
	Snapshot string            `json:"snapshot"`
	Profile  string            `json:"profile"`
	Scanned  time.Time         `json:"scanned"`
	Findings []finding.Finding `json:"findings"`
	// Errors say what the scan could not read; an entry with errors is never reused, so a
	// throttled or half-read snapshot is scanned again next time.
	Errors []string       `json:"errors,omitempty"`
	Stats  map[string]any `json:"stats,omitempty"`
}

// Cache is a directory of entries. The zero Cache (Dir "") stores nothing.
type Cache struct {
	Dir     string
	Profile string
}

// DefaultDir is the user's cache directory for snapwatch content results.
func DefaultDir() (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("contentcache: no user cache directory: %w", err)
	}
	return filepath.Join(base, "snapwatch", "content"), nil
}

// Profile derives a short profile key from the parts that shape a scan result.
func Profile(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s", len(p), p)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// Snapshot ids are the only names that reach the file system: anything else is refused, so a
// crafted id cannot name a path outside the cache.
var safeID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,254}$`)

func (c *Cache) path(snapshot string) (string, error) {
	if !safeID.MatchString(snapshot) {
		return "", fmt.Errorf("contentcache: snapshot id %q is not a plain id", snapshot)
	}
	return filepath.Join(c.Dir, c.Profile, snapshot+".json"), nil
}

// Get returns the stored entry of a snapshot for the cache's profile, or ok=false.
func (c *Cache) Get(snapshot string) (e *Entry, ok bool, err error) {
	if c == nil || c.Dir == "" {
		return nil, false, nil
	}
	p, err := c.path(snapshot)
	if err != nil {
		return nil, false, err
	}
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("contentcache: %w", err)
	}
	e = new(Entry)
	if err := json.Unmarshal(b, e); err != nil || e.Snapshot != snapshot || e.Profile != c.Profile || len(e.Errors) > 0 {
		// A damaged or foreign entry is a miss: the snapshot is scanned again and the entry rewritten.
		return nil, false, nil
	}
	return e, true, nil
}

// Put stores an entry, atomically (a reader never sees half a file).
func (c *Cache) Put(e *Entry) error {
	if c == nil || c.Dir == "" {
		return nil
	}
	p, err := c.path(e.Snapshot)
	if err != nil {
		return err
	}
	e.Profile = c.Profile
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("contentcache: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return fmt.Errorf("contentcache: %w", err)
	}
	if err := atomicfile.Write(p, b); err != nil {
		return fmt.Errorf("contentcache: %w", err)
	}
	return nil
}
