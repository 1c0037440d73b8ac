package ingest

import (
	"context"
	"io"
	"iter"
	"strings"
	"time"

	"github.com/snapwatch/snapwatch/internal/event"
)

// backend lists and opens the objects of one source. Keys are listed in the backend's own
// order, which after() defines, so a checkpointed key can be resumed after.
type backend interface {
	// list yields the keys after startAfter ("" for all), in order.
	list(ctx context.Context, startAfter string) iter.Seq2[string, error]
	open(ctx context.Context, key string) (io.ReadCloser, error)
	// name is the key as Origin.Source: a path, or s3://bucket/key.
	name(key string) string
	close() error
}

type source struct {
	uri   string
	b     backend
	opt   Options
	dec   *event.Decoder
	dedup *Dedup
	ckpt  *checkpointFile
	stats Stats
	state position // where reading is: what the checkpoint says
	saved time.Time
}

func newSource(uri string, b backend, opt Options) (*source, error) {
	s := &source{uri: uri, b: b, opt: opt, dec: event.NewDecoder(opt.Event), dedup: opt.Dedup}
	if s.dedup == nil {
		s.dedup = NewDedup(DefaultDedupSize)
	}
	if opt.Checkpoint != "" {
		c, err := loadCheckpoint(opt.Checkpoint)
		if err != nil {
			b.close()
			return nil, err
		}
		s.ckpt = c
		s.state = c.get(uri)
		s.stats.ResumedAfter = s.state.Done
	}
	return s, nil
}

func (s *source) Stats() Stats {
	st := s.stats
	st.Stats = s.dec.Stats()
	return st
}

func (s *source) Close() error {
	err := s.save(true)
	if cerr := s.b.close(); err == nil {
		err = cerr
	}
	return err
}

// save writes the checkpoint, at most once a second unless forced.
func (s *source) save(force bool) error {
	if s.ckpt == nil || (!force && time.Since(s.saved) < time.Second) {
		return nil
	}
	s.saved = time.Now()
	s.ckpt.set(s.uri, s.state)
	return s.ckpt.save()
}

// trackingReader remembers whether the transport failed, to tell a network error (fatal: the
// object will be read again on the next run) from a corrupt object (skipped).
type trackingReader struct {
	r   io.Reader
	err error
}

func (t *trackingReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if err != nil && err != io.EOF {
		t.err = err
	}
	return n, err
}

func (s *source) Events(ctx context.Context) iter.Seq2[event.Event, error] {
	return func(yield func(event.Event, error) bool) {
		for f, err := range s.events(ctx) {
			if err != nil {
				yield(event.Event{}, err)
				return
			}
			switch f.skip {
			case "digest":
				s.stats.DigestObjects++
				continue
			case "window":
				s.stats.OutOfWindow++
				continue
			}
			ok := s.object(ctx, f, yield)
			if f.c != nil {
				f.c.Close()
			}
			if !ok {
				return
			}
		}
		s.save(true)
	}
}

// object decodes one fetched object; false means stop.
func (s *source) object(ctx context.Context, f fetched, yield func(event.Event, error) bool) bool {
	key, name := f.key, s.b.name(f.key)
	skip := 0
	if key == s.state.PartialKey {
		skip = s.state.PartialRecords // delivered by the previous run
	}
	s.stats.Objects++
	if f.corrupt != nil {
		s.stats.BadObjects++
		s.state = position{Done: key}
		return yield(event.Event{}, &ObjectError{Object: name, Err: f.corrupt})
	}
	tr := &trackingReader{r: f.r}
	s.state.PartialKey, s.state.PartialRecords = key, skip
	for ev, err := range s.dec.Decode(ctx, tr, name) {
		if err != nil {
			if event.IsRecordError(err) {
				if !yield(ev, err) {
					s.save(true)
					return false
				}
				continue
			}
			if tr.err != nil || ctx.Err() != nil {
				yield(ev, err) // the transport failed: stop, and read this object again next time
				s.save(true)
				return false
			}
			s.stats.BadObjects++
			if !yield(ev, &ObjectError{Object: name, Err: err}) {
				s.save(true)
				return false
			}
			break
		}
		if ev.Origin.Index < skip {
			continue
		}
		if ev.Origin.Index+1 > s.state.PartialRecords {
			s.state.PartialRecords = ev.Origin.Index + 1
		}
		if ev.ID != "" && s.dedup.Seen(ev.Cloud, ev.ID) {
			s.stats.Duplicates++
			continue
		}
		if !yield(ev, nil) {
			s.save(true)
			return false
		}
	}
	s.state = position{Done: key}
	s.save(false)
	return true
}

// isDigestKey recognises CloudTrail digest objects by key: they live under CloudTrail-Digest/.
func isDigestKey(key string) bool { return strings.Contains(key, "CloudTrail-Digest") }
