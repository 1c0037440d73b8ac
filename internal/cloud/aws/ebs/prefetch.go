package ebs

import (
	"slices"

	"github.com/snapwatch/snapwatch/internal/image"
)

var _ image.Prefetcher = (*Reader)(nil)

// Prefetch queues the written blocks under the byte ranges for fetching by the prefetch
// goroutines, in offset order within the call and in call order across calls (the walker
// announces what it reads next first). Blocks cached, in flight or already queued are skipped.
// The queue is bounded by half the cache, so that a block fetched ahead is still there when it
// is read; what does not fit is dropped (counted) and fetched when read.
func (r *Reader) Prefetch(ranges []image.Range) {
	if r.opt.NoPrefetch || len(ranges) == 0 {
		return
	}
	rs := slices.Clone(ranges)
	slices.SortFunc(rs, func(a, b image.Range) int {
		switch {
		case a.Off < b.Off:
			return -1
		case a.Off > b.Off:
			return 1
		}
		return 0
	})
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	limit := r.cacheBlocks / 2
	last := int64(-1)
	added := false
	for _, rg := range rs {
		if rg.Len <= 0 || rg.Off < 0 {
			continue
		}
		first, end := max(rg.Off/BlockSize, last+1), (rg.Off+rg.Len-1)/BlockSize
		for i := r.blocks.next(first); i >= 0 && i <= end; i = r.blocks.next(i + 1) {
			last = i
			if _, q := r.queued[i]; q || r.inflight[i] != nil || r.cache.Contains(i) {
				continue
			}
			if len(r.queue)-r.qhead >= limit {
				r.st.dropped.Add(1)
				continue
			}
			r.queue = append(r.queue, i)
			r.queued[i] = struct{}{}
			added = true
		}
		last = max(last, end)
	}
	if added {
		r.work.Broadcast()
	}
}

// prefetcher is one of Options.Concurrency goroutines taking blocks off the queue.
func (r *Reader) prefetcher() {
	defer r.wg.Done()
	for {
		r.mu.Lock()
		for !r.closed && r.qhead == len(r.queue) {
			r.work.Wait()
		}
		if r.closed {
			r.mu.Unlock()
			return
		}
		i := r.queue[r.qhead]
		r.qhead++
		delete(r.queued, i)
		if r.qhead == len(r.queue) {
			r.queue, r.qhead = r.queue[:0], 0
		} else if r.qhead > 4096 && r.qhead > len(r.queue)/2 {
			r.queue, r.qhead = slices.Clone(r.queue[r.qhead:]), 0
		}
		if r.inflight[i] != nil || r.cache.Contains(i) {
			r.mu.Unlock()
			continue
		}
		f := &flight{done: make(chan struct{}), prefetch: true}
		r.inflight[i] = f
		r.mu.Unlock()
		r.st.prefetched.Add(1)
		data, err := r.fetch(r.ctx, i, false)
		r.land(i, f, data, err)
	}
}
