// Package ingest feeds audit-log sources to the event decoder: files, directories and .gz
// files on disk, S3 prefixes (CloudTrail's own and organisation-trail layouts). It skips
// CloudTrail digest files, drops events already seen (by cloud-native id, in bounded memory),
// filters objects by the date in their key, and checkpoints its progress so a rerun resumes
// where the last one stopped.
package ingest

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strings"
	"time"

	"github.com/snapwatch/snapwatch/internal/event"
)

// Options configure a Source. The zero value reads everything once, without a checkpoint.
type Options struct {
	// Event tunes the decoder.
	Event event.Options
	// EndpointURL overrides the S3 endpoint (path-style addressing is then used), as
	// --endpoint-url does for the AWS CLI. Region is the AWS region; empty means the default
	// chain's, or us-east-1.
	EndpointURL string
	Region      string
	// From and To, when set, keep only objects whose key names a day within [From, To] (days
	// in UTC, inclusive): CloudTrail's …/YYYY/MM/DD/…, Azure's y=YYYY/m=MM/d=DD, a
	// _YYYYMMDDTHHMMZ_ file name. Objects without a date in their key are kept.
	From, To time.Time
	// Checkpoint is the path of a state file recording, per source URI, the last object fully
	// read and how far into the next one reading got. When set, a Source resumes from it and
	// updates it (atomically, mode 0600) as it goes.
	Checkpoint string
	// Dedup drops events whose id was already seen. Give several Sources one Dedup to drop
	// duplicates across them (CloudTrail via S3 and via EventBridge, two trails, ...). Nil
	// means a new one of DefaultDedupSize per Source; use NoDedup to turn it off.
	Dedup *Dedup
}

// Source is one log source: a file, a directory tree or an S3 prefix.
type Source interface {
	// Events yields the source's events in key order. A non-fatal error (see IsNonFatal) is
	// one bad record or unreadable object and iteration goes on; any other error ends it.
	Events(ctx context.Context) iter.Seq2[event.Event, error]
	// Stats reports what was read so far.
	Stats() Stats
	// Close saves the checkpoint and releases resources.
	Close() error
}

// Stats counts a Source's work.
type Stats struct {
	event.Stats
	Objects       int64  `json:"objects"`        // files or S3 objects read
	DigestObjects int64  `json:"digest_objects"` // CloudTrail digest files skipped without reading
	OutOfWindow   int64  `json:"out_of_window"`  // objects skipped for their key date
	BadObjects    int64  `json:"bad_objects"`    // objects that could not be decoded (corrupt compression...)
	Duplicates    int64  `json:"duplicates"`     // events dropped as already seen
	ResumedAfter  string `json:"resumed_after"`  // the checkpointed key this run started after
}

// ObjectError is a non-fatal error: one object could not be decoded and the others are still
// read.
type ObjectError struct {
	Object string
	Err    error
}

func (e *ObjectError) Error() string { return fmt.Sprintf("%s: %v", e.Object, e.Err) }
func (e *ObjectError) Unwrap() error { return e.Err }

// IsNonFatal reports whether err leaves the iteration going: a bad record or a bad object.
func IsNonFatal(err error) bool {
	var oe *ObjectError
	return event.IsRecordError(err) || errors.As(err, &oe)
}

// opener makes a backend for a URI.
type opener func(ctx context.Context, uri string, opt Options) (backend, error)

// schemes maps a URI scheme to its backend; a URI without one is a local path.
var schemes = map[string]opener{
	"s3": openS3,
	"file": func(ctx context.Context, uri string, opt Options) (backend, error) {
		return openFiles(strings.TrimPrefix(uri, "file:"))
	},
}

// Open returns the Source for uri: "s3://bucket/prefix", "file:PATH", a plain path to a file or
// directory, or "-" for standard input.
func Open(ctx context.Context, uri string, opt Options) (Source, error) {
	var (
		b   backend
		err error
	)
	if scheme, _, ok := strings.Cut(uri, "://"); ok && schemes[scheme] != nil {
		b, err = schemes[scheme](ctx, uri, opt)
	} else if strings.HasPrefix(uri, "file:") {
		b, err = schemes["file"](ctx, uri, opt)
	} else {
		b, err = openFiles(uri)
	}
	if err != nil {
		return nil, err
	}
	return newSource(uri, b, opt)
}
