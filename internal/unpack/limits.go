package unpack

import (
	"errors"
)

// Limits bound the work and memory Walk spends on one top-level file. A zero field takes its
// default; a negative field means no limit (only for trusted input).
type Limits struct {
	MaxDepth      int   // nesting of archives/compression (default 4)
	MaxEntryBytes int64 // decompressed bytes per member (default 256 MiB)
	MaxTotalBytes int64 // decompressed bytes per top-level file, all members together (default 1 GiB)
	MaxRatio      int64 // decompressed/compressed bytes beyond which a stream is a bomb (default 200), checked as it streams
	MaxEntries    int   // members per archive (default 100_000)
}

// DefaultLimits are the limits the scanner uses unless told otherwise.
func DefaultLimits() Limits {
	return Limits{
		MaxDepth:      4,
		MaxEntryBytes: 256 << 20,
		MaxTotalBytes: 1 << 30,
		MaxRatio:      200,
		MaxEntries:    100_000,
	}
}

// resolved replaces zero fields by their defaults and negative ones by "unlimited".
func (l Limits) resolved() Limits {
	d := DefaultLimits()
	pick := func(v, def, unlimited int64) int64 {
		switch {
		case v == 0:
			return def
		case v < 0:
			return unlimited
		}
		return v
	}
	const maxInt64 = 1<<63 - 1
	return Limits{
		MaxDepth:      int(pick(int64(l.MaxDepth), int64(d.MaxDepth), 1<<31-1)),
		MaxEntryBytes: pick(l.MaxEntryBytes, d.MaxEntryBytes, maxInt64),
		MaxTotalBytes: pick(l.MaxTotalBytes, d.MaxTotalBytes, maxInt64),
		MaxRatio:      pick(l.MaxRatio, d.MaxRatio, 0), // 0 after resolution: no ratio check
		MaxEntries:    int(pick(int64(l.MaxEntries), int64(d.MaxEntries), 1<<31-1)),
	}
}

// ErrLimit matches (errors.Is) every error that reports a limit hit, bombs included. The error
// itself is a *LimitError that says which limit and where.
var ErrLimit = errors.New("limit exceeded")

// ErrEncrypted matches the error yielded for an encrypted member, which is reported, not read.
var ErrEncrypted = errors.New("encrypted, not read")

// ErrUnsupported matches the error yielded for a format or method recognised but not read
// (7z, rar, a zip compression method without a decoder).
var ErrUnsupported = errors.New("not supported")

// LimitError says which limit stopped the walk and where.
type LimitError struct {
	Path  string // Member.Path-style location of the stream that hit the limit
	Limit string // the Limits field ("MaxDepth", "MaxRatio", ...), or "Overlap" for a zip whose members share bytes
	Msg   string // what was seen, e.g. "gzip: bomb: ratio 201.3:1 exceeds 200:1 at 12.5 MiB"
}

func (e *LimitError) Error() string { return e.Path + ": " + e.Msg + " (" + e.Limit + ")" }

// Is makes errors.Is(err, ErrLimit) true for every LimitError.
func (e *LimitError) Is(target error) bool { return target == ErrLimit }

// formatError is an error of one format at one place: "a.zip!b.tar: tar: unexpected EOF".
type formatError struct {
	path, format string
	err          error
}

func (e *formatError) Error() string { return e.path + ": " + e.format + ": " + e.err.Error() }
func (e *formatError) Unwrap() error { return e.err }

// locate prefixes err with where it happened and in which format, unless it already says where
// (errors from an inner stream travel up through the readers of the outer ones).
func locate(path, format string, err error) error {
	var fe *formatError
	var le *LimitError
	if err == nil || errors.As(err, &fe) || errors.As(err, &le) {
		return err
	}
	return &formatError{path: path, format: format, err: err}
}
