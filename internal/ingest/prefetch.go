package ingest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"iter"

	"github.com/klauspost/compress/gzip"
)

// Objects must be decoded in order (the decoder keeps state across them: Azure operations,
// GCP policies), so the parallelism is in fetching and inflating: a goroutine reads the next
// objects and gunzips them while the current one is decoded. Inflating is about half the cost
// of a gzipped trail, so this nearly doubles throughput on two cores.
const (
	// prefetchAhead objects are read ahead of the one being decoded.
	prefetchAhead = 2
	// prefetchMax bounds the inflated bytes held for one object; the rest of a larger object
	// is inflated as it is decoded, so memory stays bounded whatever an object's size.
	prefetchMax = 64 << 20
)

// fetched is one listed key, ready to decode.
type fetched struct {
	key  string
	skip string // "digest" or "window": not read, only counted
	r    io.Reader
	c    io.Closer
	// err is a transport error (fatal: read the object again next run); corrupt is an
	// object whose compression is broken (skipped, counted).
	err, corrupt error
}

// fetchAll lists the keys and fetches them ahead, in order, on its own goroutine. Listing errors
// arrive as a fetched with only err set; the channel closes when the listing ends or ctx does.
func (s *source) fetchAll(ctx context.Context) <-chan fetched {
	out := make(chan fetched, prefetchAhead)
	go func() {
		defer close(out)
		send := func(f fetched) bool {
			select {
			case out <- f:
				return true
			case <-ctx.Done():
				if f.c != nil {
					f.c.Close()
				}
				return false
			}
		}
		for key, err := range s.b.list(ctx, s.state.Done) {
			var f fetched
			switch {
			case err != nil:
				f = fetched{err: err}
			case isDigestKey(key):
				f = fetched{key: key, skip: "digest"}
			case !inWindow(key, s.opt.From, s.opt.To):
				f = fetched{key: key, skip: "window"}
			default:
				f = s.fetch(ctx, key)
			}
			if !send(f) || err != nil {
				return
			}
		}
	}()
	return out
}

// fetch opens an object and inflates up to prefetchMax bytes of it.
func (s *source) fetch(ctx context.Context, key string) fetched {
	rc, err := s.b.open(ctx, key)
	if err != nil {
		return fetched{key: key, err: err}
	}
	tr := &trackingReader{r: rc}
	br := bufio.NewReaderSize(tr, 64<<10)
	head, _ := br.Peek(2)
	if tr.err != nil {
		rc.Close()
		return fetched{key: key, err: tr.err}
	}
	if !bytes.Equal(head, []byte{0x1f, 0x8b}) {
		return fetched{key: key, r: br, c: rc} // the decoder reads it as it goes
	}
	zr, err := gzip.NewReader(br)
	if err != nil {
		rc.Close()
		return s.failed(key, tr, err)
	}
	var buf bytes.Buffer
	n, err := io.Copy(&buf, io.LimitReader(zr, prefetchMax))
	if err != nil {
		rc.Close()
		return s.failed(key, tr, err)
	}
	if n < prefetchMax {
		rc.Close()
		return fetched{key: key, r: &buf}
	}
	return fetched{key: key, r: io.MultiReader(&buf, zr), c: rc}
}

// failed tells a transport failure from a corrupt object.
func (s *source) failed(key string, tr *trackingReader, err error) fetched {
	if tr.err != nil {
		return fetched{key: key, err: tr.err}
	}
	return fetched{key: key, corrupt: errors.Join(errors.New("gzip"), err)}
}

// events yields the events of the fetched objects, in order.
func (s *source) events(ctx context.Context) iter.Seq2[fetched, error] {
	return func(yield func(fetched, error) bool) {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		ch := s.fetchAll(ctx)
		defer func() {
			for f := range ch { // let the fetcher finish and close what it opened
				if f.c != nil {
					f.c.Close()
				}
			}
		}()
		for f := range ch {
			if !yield(f, f.err) { // the consumer closes what it received
				return
			}
		}
	}
}
