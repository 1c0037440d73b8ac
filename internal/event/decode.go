package event

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"time"
)

// Options tune a Decoder. The zero value is the default.
type Options struct {
	// MaxRecordBytes caps one record's size; a larger record is skipped and reported bad.
	// Default 1 MiB (CloudTrail and EventBridge cap events at 256 KB; Azure request bodies can
	// be larger).
	MaxRecordBytes int
	// All turns the pre-filter off: every record is fully decoded. By default a record whose
	// action cannot matter to leak detection is yielded as a Partial event (id, time, cloud,
	// account, region, service, action and origin only).
	All bool
	// AzureWindow bounds the Azure operations held back while waiting for their final record
	// (Start/Accept → Success/Failure), default 4096; AzureWindowTime bounds their age in log
	// time, default 1 h. An operation pushed out of the window is yielded as it stands.
	AzureWindow     int
	AzureWindowTime time.Duration
	// GCPPolicies bounds the resources whose last IAM policy is remembered to diff a
	// setIamPolicy that carries no policyDelta, default 10000 (oldest forgotten first).
	GCPPolicies int
}

func (o Options) withDefaults() Options {
	if o.MaxRecordBytes <= 0 {
		o.MaxRecordBytes = 1 << 20
	}
	if o.AzureWindow <= 0 {
		o.AzureWindow = 4096
	}
	if o.AzureWindowTime <= 0 {
		o.AzureWindowTime = time.Hour
	}
	if o.GCPPolicies <= 0 {
		o.GCPPolicies = 10000
	}
	return o
}

// Stats counts what a Decoder read, over all its Decode calls.
type Stats struct {
	Records   int64 `json:"records"`   // audit records read, bad ones included; envelopes are not records
	Events    int64 `json:"events"`    // events yielded
	Partial   int64 `json:"partial"`   // of Events, those from the pre-filter only
	Bad       int64 `json:"bad"`       // records that could not be decoded (each also yielded as a *RecordError)
	Digests   int64 `json:"digests"`   // CloudTrail digest files skipped
	Skipped   int64 `json:"skipped"`   // non-audit payloads skipped: CloudWatch Logs control messages, other EventBridge detail types
	Collapsed int64 `json:"collapsed"` // Azure records merged into the record that ends their operation
	Bytes     int64 `json:"bytes"`     // uncompressed bytes read
}

// Add sums two Stats.
func (s Stats) Add(o Stats) Stats {
	return Stats{s.Records + o.Records, s.Events + o.Events, s.Partial + o.Partial, s.Bad + o.Bad,
		s.Digests + o.Digests, s.Skipped + o.Skipped, s.Collapsed + o.Collapsed, s.Bytes + o.Bytes}
}

// RecordError is a non-fatal error: one record could not be decoded and iteration goes on. Any
// other error yielded by Decode is fatal (read error, corrupt compression, context done) and
// ends the iteration.
type RecordError struct {
	Source string
	Index  int   // the record's 0-based index in the source
	Offset int64 // uncompressed byte offset where the record ends, when known
	Err    error
}

func (e *RecordError) Error() string {
	return fmt.Sprintf("%s: record %d (near byte %d): %v", e.Source, e.Index, e.Offset, e.Err)
}

func (e *RecordError) Unwrap() error { return e.Err }

// IsRecordError reports whether err is a non-fatal, per-record error.
func IsRecordError(err error) bool {
	var re *RecordError
	return errors.As(err, &re)
}

// format restricts which record kinds a decode accepts.
type format int

const (
	formatAuto format = iota
	formatCloudTrail
	formatAzure
	formatGCP
)

// Decoder decodes audit-log streams into Events. It keeps state across calls — statistics, the
// GCP policies seen, Azure operations being collapsed — so one Decoder should read all the
// files of one log source. A Decoder is not safe for concurrent use.
type Decoder struct {
	opt   Options
	stats Stats
	az    *azureCollapser
	gcp   *policyMemory
	names interner
}

// NewDecoder returns a Decoder with the given options.
func NewDecoder(opt Options) *Decoder {
	opt = opt.withDefaults()
	return &Decoder{
		opt:   opt,
		az:    newAzureCollapser(opt.AzureWindow, opt.AzureWindowTime),
		gcp:   newPolicyMemory(opt.GCPPolicies),
		names: interner{m: make(map[string]string)},
	}
}

// Stats returns the counts so far.
func (d *Decoder) Stats() Stats {
	s := d.stats
	s.Collapsed = d.az.collapsed
	return s
}

// Decode reads any supported format from r — sniffing compression, envelope and cloud — and
// yields one Event per audit record. A bad record yields a *RecordError and iteration goes on;
// any other error ends it. source names r in Origin and errors.
func (d *Decoder) Decode(ctx context.Context, r io.Reader, source string) iter.Seq2[Event, error] {
	return d.decode(ctx, r, source, formatAuto)
}

// DecodeCloudTrail is Decode for input known to hold CloudTrail records (in any of their
// envelopes); other records are reported bad.
func (d *Decoder) DecodeCloudTrail(ctx context.Context, r io.Reader, source string) iter.Seq2[Event, error] {
	return d.decode(ctx, r, source, formatCloudTrail)
}

// DecodeAzure is Decode for Azure Activity Log input.
func (d *Decoder) DecodeAzure(ctx context.Context, r io.Reader, source string) iter.Seq2[Event, error] {
	return d.decode(ctx, r, source, formatAzure)
}

// DecodeGCP is Decode for GCP audit LogEntry input.
func (d *Decoder) DecodeGCP(ctx context.Context, r io.Reader, source string) iter.Seq2[Event, error] {
	return d.decode(ctx, r, source, formatGCP)
}

// Decode decodes r with a new default Decoder; see Decoder.Decode.
func Decode(ctx context.Context, r io.Reader, source string) iter.Seq2[Event, error] {
	return NewDecoder(Options{}).Decode(ctx, r, source)
}

// DecodeCloudTrail decodes CloudTrail input with a new default Decoder.
func DecodeCloudTrail(ctx context.Context, r io.Reader, source string) iter.Seq2[Event, error] {
	return NewDecoder(Options{}).DecodeCloudTrail(ctx, r, source)
}

// DecodeAzure decodes Azure Activity Log input with a new default Decoder.
func DecodeAzure(ctx context.Context, r io.Reader, source string) iter.Seq2[Event, error] {
	return NewDecoder(Options{}).DecodeAzure(ctx, r, source)
}

// DecodeGCP decodes GCP audit log input with a new default Decoder.
func DecodeGCP(ctx context.Context, r io.Reader, source string) iter.Seq2[Event, error] {
	return NewDecoder(Options{}).DecodeGCP(ctx, r, source)
}

func (d *Decoder) decode(ctx context.Context, r io.Reader, source string, f format) iter.Seq2[Event, error] {
	return func(yield func(Event, error) bool) {
		if err := ctx.Err(); err != nil {
			yield(Event{}, err)
			return
		}
		if isDigestName(source) {
			d.stats.Digests++
			return
		}
		in, err := openInput(r)
		if err != nil {
			yield(Event{Origin: Origin{Source: source}}, fmt.Errorf("%s: %w", source, err))
			return
		}
		ru := &run{d: d, ctx: ctx, source: source, format: f, yield: yield,
			s: newScanner(in, d.opt.MaxRecordBytes)}
		ru.top()
		d.stats.Bytes += ru.s.dropped + int64(ru.s.end)
		if ru.stopped {
			return
		}
		// Operations still waiting for their final record are yielded as they stand.
		for _, ev := range d.az.flush() {
			if !ru.emit(&ev) {
				return
			}
		}
		if ru.s.err != nil {
			yield(Event{Origin: Origin{Source: source}}, fmt.Errorf("%s: %w", source, ru.s.err))
		}
	}
}

// run is the state of one Decode call.
type run struct {
	d       *Decoder
	ctx     context.Context
	source  string
	format  format
	yield   func(Event, error) bool
	s       *scanner
	index   int // records seen in this source
	stopped bool
	ev      Event // scratch for partial events
}

// emit yields an event; false means stop.
func (ru *run) emit(ev *Event) bool {
	if ru.stopped {
		return false
	}
	ru.d.stats.Events++
	if ev.Partial {
		ru.d.stats.Partial++
	}
	if !ru.yield(*ev, nil) {
		ru.stopped = true
	}
	return !ru.stopped
}

// bad counts and yields a bad record.
func (ru *run) bad(index int, err error) bool {
	if ru.stopped {
		return false
	}
	ru.d.stats.Bad++
	e := &RecordError{Source: ru.source, Index: index, Offset: ru.s.offset(), Err: err}
	if !ru.yield(Event{Origin: Origin{Source: ru.source, Index: index}}, e) {
		ru.stopped = true
	}
	return !ru.stopped
}

// nextIndex numbers a new record and checks for cancellation now and then.
func (ru *run) nextIndex() int {
	i := ru.index
	ru.index++
	ru.d.stats.Records++
	if i&1023 == 0 && ru.ctx.Err() != nil && !ru.stopped {
		ru.yield(Event{}, ru.ctx.Err())
		ru.stopped = true
	}
	return i
}

// interner shares the strings that repeat across records (actions, services, regions,
// accounts) so a partial event costs one allocation, its id. It stops growing at a bound.
type interner struct{ m map[string]string }

func (in *interner) get(b []byte) string {
	if s, ok := in.m[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(in.m) < 1<<14 {
		in.m[s] = s
	}
	return s
}
