package ebs

import (
	"context"
	"slices"
	"sync"
	"time"
)

// DefaultRate is AWS's default GetSnapshotBlock quota: 1,000 requests/s per account and region
// (adjustable), and 1,000/s per snapshot (fixed).
const DefaultRate = 1000

// How the rate adapts (AIMD, as TCP does). One overload throttles every request then in flight,
// so the rate is cut at most once per cutCooldown; it climbs back only after a quiet spell, in
// small steps, so that a quota shared with another scan is found and held rather than overrun.
const (
	cutFactor   = 0.7
	cutCooldown = 300 * time.Millisecond
	cutPause    = 100 * time.Millisecond // the server's bucket is empty: let it refill a little
	raiseQuiet  = time.Second
	raiseEvery  = 200 * time.Millisecond
	raiseStep   = 0.05 // of the ceiling
	floorShare  = 0.02 // the rate never drops below this share of the ceiling
)

// Limiter is a token bucket shared by every reader of one account and region, since AWS meters
// GetSnapshotBlock per account: two scans there share one budget. Reads that a caller waits for
// (urgent) are served before prefetches, so the file-system walk is not starved by look-ahead.
// Throttled lowers the rate; Succeeded lets it recover towards the ceiling.
type Limiter struct {
	mu                 sync.Mutex
	ceiling, rate      float64
	lowest             float64
	burst, tokens      float64
	last               time.Time
	pauseUntil         time.Time
	lastCut, lastRaise time.Time
	urgent, normal     []*waiter
	timer              *time.Timer
	throttles, cuts    int64
}

type waiter struct {
	ch      chan struct{}
	granted bool
}

// NewLimiter makes a limiter with a ceiling in requests per second (≤ 0: DefaultRate).
func NewLimiter(perSecond float64) *Limiter {
	if perSecond <= 0 {
		perSecond = DefaultRate
	}
	// A small burst: AWS's own bucket allows more, but a burst here only moves requests earlier.
	burst := max(1, perSecond/20)
	return &Limiter{ceiling: perSecond, rate: perSecond, lowest: perSecond, burst: burst, tokens: burst, last: time.Now()}
}

var (
	sharedMu sync.Mutex
	shared   = map[string]*Limiter{}
)

// SharedLimiter returns the process-wide limiter of an account and region, made on first use
// with the given ceiling (≤ 0: DefaultRate); a later, different ceiling replaces it.
func SharedLimiter(account, region string, perSecond float64) *Limiter {
	if perSecond <= 0 {
		perSecond = DefaultRate
	}
	sharedMu.Lock()
	defer sharedMu.Unlock()
	k := account + "/" + region
	l := shared[k]
	if l == nil {
		l = NewLimiter(perSecond)
		shared[k] = l
		return l
	}
	l.mu.Lock()
	if l.ceiling != perSecond {
		l.ceiling, l.rate = perSecond, min(l.rate, perSecond)
		l.burst = max(1, perSecond/20)
	}
	l.mu.Unlock()
	return l
}

// Wait takes a token, waiting for one if need be; urgent callers go first.
func (l *Limiter) Wait(ctx context.Context, urgent bool) error {
	l.mu.Lock()
	now := time.Now()
	l.refill(now)
	if !now.Before(l.pauseUntil) && l.tokens >= 1 && len(l.urgent) == 0 && (urgent || len(l.normal) == 0) {
		l.tokens--
		l.mu.Unlock()
		return nil
	}
	w := &waiter{ch: make(chan struct{})}
	if urgent {
		l.urgent = append(l.urgent, w)
	} else {
		l.normal = append(l.normal, w)
	}
	l.arm(now)
	l.mu.Unlock()
	select {
	case <-w.ch:
		return nil
	case <-ctx.Done():
		l.mu.Lock()
		if w.granted {
			l.tokens++ // granted as we gave up: hand it back
		} else {
			l.urgent = slices.DeleteFunc(l.urgent, func(x *waiter) bool { return x == w })
			l.normal = slices.DeleteFunc(l.normal, func(x *waiter) bool { return x == w })
		}
		l.mu.Unlock()
		return ctx.Err()
	}
}

func (l *Limiter) refill(now time.Time) {
	if el := now.Sub(l.last).Seconds(); el > 0 {
		l.tokens = min(l.burst, l.tokens+el*l.rate)
		l.last = now
	}
}

// arm schedules the next hand-out for when a token will be there. Waiters sleep on their own
// channels, so there is no herd of goroutines waking to compete for each token.
func (l *Limiter) arm(now time.Time) {
	if l.timer != nil || (len(l.urgent) == 0 && len(l.normal) == 0) {
		return
	}
	d := time.Duration((1 - l.tokens) / l.rate * float64(time.Second))
	d = max(d, l.pauseUntil.Sub(now), 200*time.Microsecond)
	l.timer = time.AfterFunc(d, l.dispatch)
}

func (l *Limiter) dispatch() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.timer = nil
	now := time.Now()
	l.refill(now)
	for !now.Before(l.pauseUntil) && l.tokens >= 1 {
		var w *waiter
		switch {
		case len(l.urgent) > 0:
			w, l.urgent = l.urgent[0], l.urgent[1:]
		case len(l.normal) > 0:
			w, l.normal = l.normal[0], l.normal[1:]
		default:
			return
		}
		l.tokens--
		w.granted = true
		close(w.ch)
	}
	l.arm(now)
}

// Throttled reports a throttled call: the rate drops (once per cooldown) and sending pauses
// briefly.
func (l *Limiter) Throttled() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.throttles++
	now := time.Now()
	if now.Sub(l.lastCut) < cutCooldown {
		return
	}
	l.cuts++
	l.lastCut = now
	l.rate = max(l.ceiling*floorShare, l.rate*cutFactor)
	l.lowest = min(l.lowest, l.rate)
	l.tokens = 0
	l.pauseUntil = now.Add(cutPause)
}

// Succeeded reports a call that went through: after a quiet spell the rate climbs back.
func (l *Limiter) Succeeded() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.rate >= l.ceiling {
		return
	}
	now := time.Now()
	if now.Sub(l.lastCut) >= raiseQuiet && now.Sub(l.lastRaise) >= raiseEvery {
		l.rate = min(l.ceiling, l.rate+l.ceiling*raiseStep)
		l.lastRaise = now
	}
}

// LimiterStats describe how the rate moved.
type LimiterStats struct {
	Ceiling   float64 `json:"ceiling_per_second"`
	Rate      float64 `json:"rate_per_second"`
	Lowest    float64 `json:"lowest_rate_per_second"`
	Throttles int64   `json:"throttled_calls"`
	Cuts      int64   `json:"rate_cuts"`
}

// Stats returns the limiter's state.
func (l *Limiter) Stats() LimiterStats {
	l.mu.Lock()
	defer l.mu.Unlock()
	return LimiterStats{Ceiling: l.ceiling, Rate: l.rate, Lowest: l.lowest, Throttles: l.throttles, Cuts: l.cuts}
}
