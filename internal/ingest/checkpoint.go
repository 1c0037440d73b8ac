package ingest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/snapwatch/snapwatch/internal/atomicfile"
)

// position is how far reading a source got. Keys are read in order, so "everything up to and
// including Done" is one key; PartialKey/PartialRecords say how many records of the object
// after it were already delivered when a run stopped mid-object.
type position struct {
	Done           string    `json:"done,omitempty"`
	PartialKey     string    `json:"partial_key,omitempty"`
	PartialRecords int       `json:"partial_records,omitempty"`
	Updated        time.Time `json:"updated"`
}

// checkpointFile is the state file: one position per source URI. It is small and rewritten
// whole, atomically (temporary file, fsync, rename), with mode 0600: it names buckets and keys.
type checkpointFile struct {
	path    string
	Version int                 `json:"version"`
	Sources map[string]position `json:"sources"`
}

func loadCheckpoint(path string) (*checkpointFile, error) {
	c := &checkpointFile{path: path, Version: 1, Sources: map[string]position{}}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, c); err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", path, err)
	}
	if c.Version != 1 {
		return nil, fmt.Errorf("checkpoint %s: unknown version %d", path, c.Version)
	}
	if c.Sources == nil {
		c.Sources = map[string]position{}
	}
	return c, nil
}

func (c *checkpointFile) get(uri string) position { return c.Sources[uri] }

func (c *checkpointFile) set(uri string, p position) {
	p.Updated = time.Now().UTC()
	c.Sources[uri] = p
}

func (c *checkpointFile) save() error {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(c.path, append(b, '\n'))
}
