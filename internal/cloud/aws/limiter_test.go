package aws

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestAIMDBoundsInFlight(t *testing.T) {
	l := newAIMD(4)
	var in, peak atomic.Int32
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			if err := l.acquire(context.Background()); err != nil {
				t.Error(err)
				return
			}
			n := in.Add(1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			time.Sleep(time.Millisecond)
			in.Add(-1)
			l.release()
		})
	}
	wg.Wait()
	if peak.Load() > 4 || peak.Load() < 2 {
		t.Errorf("peak in flight %d, bound 4", peak.Load())
	}
}

func TestAIMDHalvesAndGrows(t *testing.T) {
	l := newAIMD(8)
	now := time.Now()
	l.throttled(now)
	l.throttled(now.Add(time.Millisecond)) // same burst: one cut
	if b := l.bound(); b != 4 {
		t.Fatalf("after one burst: %v", b)
	}
	l.throttled(now.Add(cutEvery))
	l.throttled(now.Add(2 * cutEvery))
	l.throttled(now.Add(3 * cutEvery))
	if b := l.bound(); b != 1 {
		t.Fatalf("floor: %v", b)
	}
	for range 100 {
		l.success()
	}
	if b := l.bound(); b != 8 {
		t.Fatalf("after successes: %v, want back at 8", b)
	}
}

func TestAIMDAcquireHonoursContext(t *testing.T) {
	l := newAIMD(1)
	if err := l.acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if err := l.acquire(ctx); err == nil {
		t.Fatal("acquired beyond the bound")
	}
	l.release()
	if err := l.acquire(context.Background()); err != nil {
		t.Fatal("slot lost after a cancelled wait:", err)
	}
}
