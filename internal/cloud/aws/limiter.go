package aws

import (
	"context"
	"sync"
	"time"
)

// aimd bounds the calls in flight to one service in one account+region. AWS meters API calls
// per account, region and service with token buckets whose sizes it does not publish, so the
// bound is found, not configured: it grows by one call per window of successes (additive
// increase) and halves on a throttling answer (multiplicative decrease), never above max and
// never below one. This is TCP's congestion rule, and for the same reason: it converges on
// the share of a shared budget that keeps throttles rare while using what is there.
type aimd struct {
	mu       sync.Mutex
	limit    float64 // current bound, in [1, max]
	max      float64
	inflight int
	waiters  []chan struct{}
	lastCut  time.Time
}

func newAIMD(max int) *aimd {
	return &aimd{limit: float64(max), max: float64(max)}
}

// cutEvery spaces decreases: the throttles of one overload burst arrive together and should
// halve the bound once, not once each.
const cutEvery = 250 * time.Millisecond

// acquire waits for a slot below the current bound.
func (l *aimd) acquire(ctx context.Context) error {
	l.mu.Lock()
	if l.inflight < int(l.limit) && len(l.waiters) == 0 {
		l.inflight++
		l.mu.Unlock()
		return nil
	}
	ch := make(chan struct{})
	l.waiters = append(l.waiters, ch)
	l.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		l.mu.Lock()
		for i, w := range l.waiters {
			if w == ch {
				l.waiters = append(l.waiters[:i], l.waiters[i+1:]...)
				l.mu.Unlock()
				return ctx.Err()
			}
		}
		l.mu.Unlock()
		// Woken while giving up: the slot is ours, hand it back.
		l.release()
		return ctx.Err()
	}
}

// release frees a slot and wakes as many waiters as the bound now admits.
func (l *aimd) release() {
	l.mu.Lock()
	l.inflight--
	l.wake()
	l.mu.Unlock()
}

func (l *aimd) wake() {
	for len(l.waiters) > 0 && l.inflight < int(l.limit) {
		ch := l.waiters[0]
		l.waiters = l.waiters[1:]
		l.inflight++
		close(ch)
	}
}

// success grows the bound by one per bound's worth of successful calls.
func (l *aimd) success() {
	l.mu.Lock()
	if l.limit < l.max {
		l.limit = min(l.max, l.limit+1/l.limit)
		l.wake()
	}
	l.mu.Unlock()
}

// throttled halves the bound, at most once per cutEvery.
func (l *aimd) throttled(now time.Time) {
	l.mu.Lock()
	if now.Sub(l.lastCut) >= cutEvery {
		l.limit = max(1, l.limit/2)
		l.lastCut = now
	}
	l.mu.Unlock()
}

// bound returns the current bound (for tests and stats).
func (l *aimd) bound() float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.limit
}

// limiters holds one aimd per account, region and service.
type limiters struct {
	max int
	mu  sync.Mutex
	m   map[limiterKey]*aimd
}

type limiterKey struct{ account, region, service string }

func (ls *limiters) get(account, region, service string) *aimd {
	k := limiterKey{account, region, service}
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if ls.m == nil {
		ls.m = map[limiterKey]*aimd{}
	}
	l := ls.m[k]
	if l == nil {
		l = newAIMD(ls.max)
		ls.m[k] = l
	}
	return l
}
