package contentscan

import (
	"sync"
	"sync/atomic"
)

// Stats count what a scan did and what it skipped, so that a result says how complete it is.
type Stats struct {
	Targets          int              `json:"targets"`
	Volumes          int              `json:"volumes"`
	FilesSeen        int64            `json:"files_seen"`
	FilesScanned     int64            `json:"files_scanned"`
	BytesScanned     int64            `json:"bytes_scanned"`
	ArchiveMembers   int64            `json:"archive_members"`
	DeletedScanned   int64            `json:"deleted_files_scanned"`
	UnallocatedBytes int64            `json:"unallocated_bytes_scanned"`
	CodeBytesSkipped int64            `json:"elf_code_bytes_skipped"` // .text of executables and libraries: machine code
	Skipped          map[string]int64 `json:"skipped,omitempty"`      // by reason
	Unreadable       []string         `json:"unreadable_volumes,omitempty"`
	Findings         int              `json:"findings"`
	Seconds          float64          `json:"seconds"`
	MBPerSecond      float64          `json:"mb_per_second"`
}

// Progress is a snapshot for a progress bar; totals are known only after the counting pass.
type Progress struct {
	FilesDone, FilesTotal int64
	BytesDone, BytesTotal int64
	Findings              int64
}

// counters are the live, concurrently updated side of Stats and Progress.
type counters struct {
	filesSeen, filesScanned, bytesScanned atomic.Int64
	members, deleted, unallocated         atomic.Int64
	codeSkipped                           atomic.Int64
	filesTotal, bytesTotal, findings      atomic.Int64

	mu      sync.Mutex
	skipped map[string]int64
}

func (c *counters) skip(reason string) {
	c.mu.Lock()
	if c.skipped == nil {
		c.skipped = map[string]int64{}
	}
	c.skipped[reason]++
	c.mu.Unlock()
}

// Skip reasons, stable for scripts reading stats.skipped.
const (
	skipTooLarge     = "file-truncated-at-max-file-bytes"
	skipTotalLimit   = "total-byte-limit-reached"
	skipUnreadable   = "unreadable"
	skipSpecial      = "not-a-regular-file"
	skipArchiveLimit = "archive-limit"
	skipEncrypted    = "encrypted-by-file-system"
	skipNoContent    = "deleted-without-recoverable-content"
	skipUnchanged    = "unchanged-since-base" // incremental scans: no byte of the file changed
)
