package ebs

import (
	"context"
	"testing"
	"time"
)

// TestLimiterRate: a limiter hands out about its rate.
func TestLimiterRate(t *testing.T) {
	l := NewLimiter(500)
	start := time.Now()
	for range 250 {
		if err := l.Wait(context.Background(), false); err != nil {
			t.Fatal(err)
		}
	}
	if el := time.Since(start); el < 400*time.Millisecond || el > 900*time.Millisecond {
		t.Errorf("250 tokens at 500/s took %v", el)
	}
}

// TestLimiterAdapts: throttling cuts the rate once per cooldown, never under the floor; a quiet
// spell lets it climb back.
func TestLimiterAdapts(t *testing.T) {
	l := NewLimiter(1000)
	l.Throttled()
	l.Throttled() // same overload: no second cut
	if st := l.Stats(); st.Cuts != 1 || st.Throttles != 2 || st.Rate != 700 {
		t.Fatalf("stats %+v", st)
	}
	for range 200 {
		l.mu.Lock()
		l.lastCut = time.Time{}
		l.mu.Unlock()
		l.Throttled()
	}
	if st := l.Stats(); st.Rate != 1000*floorShare || st.Lowest != st.Rate {
		t.Fatalf("floor: %+v", st)
	}
	l.mu.Lock()
	l.lastCut = time.Now().Add(-2 * raiseQuiet)
	l.mu.Unlock()
	l.Succeeded()
	if st := l.Stats(); st.Rate != 1000*floorShare+1000*raiseStep {
		t.Errorf("raise: %+v", st)
	}
	l.Succeeded() // within raiseEvery: no second raise
	if st := l.Stats(); st.Rate != 1000*floorShare+1000*raiseStep {
		t.Errorf("second raise: %+v", st)
	}
}

// TestLimiterUrgentFirst: a read someone waits for goes before queued prefetches, and a waiter
// that gives up leaves the queue.
func TestLimiterUrgentFirst(t *testing.T) {
	l := NewLimiter(20) // burst 1
	ctx := context.Background()
	l.Wait(ctx, false) // empty the bucket
	order := make(chan string, 3)
	for range 2 {
		go func() { l.Wait(ctx, false); order <- "prefetch" }()
	}
	time.Sleep(10 * time.Millisecond)
	go func() { l.Wait(ctx, true); order <- "urgent" }()
	time.Sleep(10 * time.Millisecond)
	if first := <-order; first != "urgent" {
		t.Errorf("first served: %s", first)
	}
	<-order
	<-order
	cctx, cancel := context.WithTimeout(ctx, 5*time.Millisecond)
	defer cancel()
	if err := l.Wait(cctx, false); err == nil {
		t.Error("cancelled wait succeeded")
	}
	l.mu.Lock()
	n := len(l.normal) + len(l.urgent)
	l.mu.Unlock()
	if n != 0 {
		t.Errorf("%d waiters left", n)
	}
}

// TestSharedLimiter: one limiter per account and region.
func TestSharedLimiter(t *testing.T) {
	a, b := SharedLimiter("111111111111", "test-1", 100), SharedLimiter("111111111111", "test-1", 100)
	c := SharedLimiter("111111111111", "test-2", 100)
	if a != b || a == c {
		t.Error("limiters not shared by account and region")
	}
}
