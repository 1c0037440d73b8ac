package ebs

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ebsapi "github.com/aws/aws-sdk-go-v2/service/ebs"
	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// Defaults of Options.
const (
	// DefaultConcurrency: at AWS's 20–60 ms per GetSnapshotBlock, 64 calls in flight reach the
	// 1,000 blocks/s quota (rate × latency), as coldsnap's 64 workers do.
	DefaultConcurrency = 64
	// DefaultCacheBytes holds 512 blocks: several times what a scan looks ahead, so prefetched
	// blocks are read before they are evicted.
	DefaultCacheBytes = 256 << 20
	defaultRetries    = 5
	maxThrottleTries  = 30
	checksumTries     = 3
	listPageSize      = 10000
)

// Options tune a Reader. The zero value is usable.
type Options struct {
	// Concurrency bounds the prefetch calls in flight (default 64). A read that misses the cache
	// fetches its block itself, on top.
	Concurrency int
	// CacheBytes bounds the block cache (default 256 MiB); at least 16 blocks are kept.
	CacheBytes int64
	// Limiter paces GetSnapshotBlock; default: a private one at DefaultRate. Readers of one
	// account and region should share SharedLimiter(account, region, rate).
	Limiter *Limiter
	// MaxRetries bounds the attempts at one block after 5xx answers and dropped connections
	// (default 5); throttling is retried longer, at a lower rate.
	MaxRetries int
	// NoPrefetch makes Prefetch do nothing: blocks are fetched only when read, one at a time per
	// reading goroutine, as Trivy reads. For comparisons.
	NoPrefetch bool
	// Now is the clock that decides when block tokens are about to expire (default time.Now).
	Now func() time.Time
	// OnFetch, when set, is called with the index of every block fetched (tracing, tests).
	OnFetch func(block int64)
}

// Reader reads one snapshot through the EBS direct API. It is an io.ReaderAt, safe for
// concurrent use. Close it to stop its prefetch goroutines.
type Reader struct {
	api    API
	snap   string
	opt    Options
	lim    *Limiter
	ctx    context.Context
	cancel context.CancelFunc
	opened time.Time

	listMu sync.Mutex // one listing at a time

	mu          sync.Mutex
	blocks      *blockMap
	gen         int // bumped by each listing, so a stale token is refreshed once
	cache       *simplelru.LRU[int64, *cached]
	cacheBlocks int
	inflight    map[int64]*flight
	queue       []int64 // prefetch FIFO; head at qhead
	qhead       int
	queued      map[int64]struct{}
	closed      bool
	work        *sync.Cond
	wg          sync.WaitGroup
	stopCtx     func() bool

	st counters
}

// cached is a block in the cache; its bytes never change once there.
type cached struct {
	data       []byte
	prefetched bool // fetched ahead, not because a read asked
	read       bool
}

// flight is a fetch in progress: whoever asks for the block meanwhile waits for it.
type flight struct {
	done     chan struct{}
	data     []byte
	err      error
	prefetch bool
}

type counters struct {
	fetched, prefetched, demand, hits, waited, zeros atomic.Int64
	evictedUnread, retries, throttled, badSums       atomic.Int64
	bytes                                            atomic.Int64
	relists, listCalls, dropped                      atomic.Int64
}

// Open lists a snapshot's written blocks and returns a Reader over it. ctx bounds every call the
// Reader makes, including later reads and prefetches.
func Open(ctx context.Context, api API, snapshotID string, opt Options) (*Reader, error) {
	if opt.Concurrency <= 0 {
		opt.Concurrency = DefaultConcurrency
	}
	if opt.CacheBytes <= 0 {
		opt.CacheBytes = DefaultCacheBytes
	}
	if opt.MaxRetries <= 0 {
		opt.MaxRetries = defaultRetries
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	lim := opt.Limiter
	if lim == nil {
		lim = NewLimiter(DefaultRate)
	}
	rctx, cancel := context.WithCancel(ctx)
	r := &Reader{api: api, snap: snapshotID, opt: opt, lim: lim, ctx: rctx, cancel: cancel, opened: time.Now(),
		inflight: map[int64]*flight{}, queued: map[int64]struct{}{}}
	r.work = sync.NewCond(&r.mu)
	r.cacheBlocks = max(16, int(opt.CacheBytes/BlockSize))
	r.cache, _ = simplelru.NewLRU(r.cacheBlocks, func(_ int64, c *cached) {
		if c.prefetched && !c.read {
			r.st.evictedUnread.Add(1)
		}
	})
	m, err := r.list(rctx)
	if err != nil {
		cancel()
		return nil, err
	}
	r.blocks = m
	// Cancelling ctx must wake the prefetch goroutines waiting for work.
	r.stopCtx = context.AfterFunc(rctx, func() {
		r.mu.Lock()
		r.closed = true
		r.mu.Unlock()
		r.work.Broadcast()
	})
	if !opt.NoPrefetch {
		for range opt.Concurrency {
			r.wg.Add(1)
			go r.prefetcher()
		}
	}
	return r, nil
}

// Snapshot is the snapshot's id.
func (r *Reader) Snapshot() string { return r.snap }

// Size is the volume's size in bytes.
func (r *Reader) Size() int64 { return r.blocks.size }

// Written reports how many blocks were ever written: the most a full read fetches.
func (r *Reader) Written() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.blocks.count()
}

// Close stops prefetching and cancels the calls in flight.
func (r *Reader) Close() error {
	r.cancel()
	r.wg.Wait()
	r.stopCtx()
	return nil
}

// ReadAt reads the snapshot's bytes; blocks never written read as zeros.
func (r *Reader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("snapshot %s: negative offset %d", r.snap, off)
	}
	size := r.Size()
	n := 0
	for n < len(p) && off < size {
		i, in := off/BlockSize, off%BlockSize
		k := int(min(int64(len(p)-n), BlockSize-in, size-off))
		data, err := r.block(i)
		if err != nil {
			return n, err
		}
		if data == nil {
			clear(p[n : n+k])
		} else {
			copy(p[n:n+k], data[in:])
		}
		n += k
		off += int64(k)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// block returns block i's bytes (nil: never written), from the cache, from a fetch in flight, or
// by fetching it now.
func (r *Reader) block(i int64) ([]byte, error) {
	for {
		r.mu.Lock()
		if r.blocks.find(i) < 0 {
			r.mu.Unlock()
			r.st.zeros.Add(1)
			return nil, nil
		}
		if c, ok := r.cache.Get(i); ok {
			c.read = true
			r.mu.Unlock()
			r.st.hits.Add(1)
			return c.data, nil
		}
		if f := r.inflight[i]; f != nil {
			r.mu.Unlock()
			r.st.waited.Add(1)
			select {
			case <-f.done:
			case <-r.ctx.Done():
				return nil, r.ctx.Err()
			}
			if f.err != nil && f.prefetch && r.ctx.Err() == nil {
				continue // a prefetch gave up; the reader tries for itself
			}
			if f.err == nil {
				r.mu.Lock()
				if c, ok := r.cache.Peek(i); ok {
					c.read = true
				}
				r.mu.Unlock()
			}
			return f.data, f.err
		}
		f := &flight{done: make(chan struct{})}
		r.inflight[i] = f
		r.mu.Unlock()
		r.st.demand.Add(1)
		data, err := r.fetch(r.ctx, i, true)
		r.land(i, f, data, err)
		return data, err
	}
}

// land ends a flight: the block goes into the cache and its waiters wake.
func (r *Reader) land(i int64, f *flight, data []byte, err error) {
	r.mu.Lock()
	delete(r.inflight, i)
	if err == nil {
		r.cache.Add(i, &cached{data: data, prefetched: f.prefetch, read: !f.prefetch})
	}
	f.data, f.err = data, err
	close(f.done)
	r.mu.Unlock()
}

// list reads the block map through every page of ListSnapshotBlocks.
func (r *Reader) list(ctx context.Context) (*blockMap, error) {
	m := newBlockMap()
	in := &ebsapi.ListSnapshotBlocksInput{SnapshotId: aws.String(r.snap), MaxResults: aws.Int32(listPageSize)}
	for {
		var out *ebsapi.ListSnapshotBlocksOutput
		err := r.retry(ctx, func() (err error) {
			r.st.listCalls.Add(1)
			out, err = r.api.ListSnapshotBlocks(ctx, in)
			return err
		})
		if err != nil {
			return nil, explain(r.snap, err)
		}
		if out.BlockSize != nil && *out.BlockSize != BlockSize {
			return nil, fmt.Errorf("snapshot %s: block size %d, want %d", r.snap, *out.BlockSize, BlockSize)
		}
		if out.VolumeSize != nil {
			m.size = *out.VolumeSize << 30
		}
		if out.ExpiryTime != nil && (m.expiry.IsZero() || out.ExpiryTime.Before(m.expiry)) {
			m.expiry = *out.ExpiryTime
		}
		for _, b := range out.Blocks {
			if b.BlockIndex != nil && b.BlockToken != nil {
				m.add(int64(*b.BlockIndex), *b.BlockToken)
			}
		}
		if out.NextToken == nil || *out.NextToken == "" {
			break
		}
		in.NextToken = out.NextToken
	}
	m.finish()
	if n := m.count(); n > 0 && m.size < int64(m.idx[n-1]+1)*BlockSize {
		m.size = int64(m.idx[n-1]+1) * BlockSize // VolumeSize missing: at least what is written
	}
	return m, nil
}

// relist refreshes the block tokens after they expired. gen is the listing the caller's token
// came from: when another goroutine has listed since, its tokens are used instead.
func (r *Reader) relist(ctx context.Context, gen int) error {
	r.listMu.Lock()
	defer r.listMu.Unlock()
	r.mu.Lock()
	cur := r.gen
	r.mu.Unlock()
	if cur != gen {
		return nil
	}
	m, err := r.list(ctx)
	if err != nil {
		return err
	}
	r.st.relists.Add(1)
	r.mu.Lock()
	r.blocks, r.gen = m, r.gen+1
	r.mu.Unlock()
	return nil
}

// retry runs a list call, retrying throttling and transient failures with backoff.
func (r *Reader) retry(ctx context.Context, call func() error) error {
	for attempt := 1; ; attempt++ {
		err := call()
		if err == nil {
			return nil
		}
		kind := classify(err)
		if (kind != errThrottle && kind != errTransient) || attempt > r.opt.MaxRetries+2 {
			return err
		}
		r.st.retries.Add(1)
		if err := sleep(ctx, backoff(attempt, 100*time.Millisecond, 5*time.Second)); err != nil {
			return err
		}
	}
}
