package ebs

import (
	"bytes"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/snapwatch/snapwatch/internal/cloudsim"
	"github.com/snapwatch/snapwatch/internal/image"
)

// readAll prefetches every byte of a snapshot, reads it through, and compares it with the image.
func readAll(t *testing.T, r *Reader, raw string) {
	t.Helper()
	want, err := os.ReadFile(raw)
	if err != nil {
		t.Fatal(err)
	}
	r.Prefetch([]image.Range{{Off: 0, Len: r.Size()}})
	got := make([]byte, len(want))
	if _, err := r.ReadAt(got, 0); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("bytes read differ from the image")
	}
}

func openReader(t *testing.T, sim *cloudsim.AWS, snap string, opt Options) *Reader {
	t.Helper()
	r, err := Open(ctx, NewClient(simConfig(sim, ownerKey), opt.Concurrency), snap, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// TestChecksumMismatch: a corrupted block is fetched again; one that stays corrupt is an error.
func TestChecksumMismatch(t *testing.T) {
	raw := sampleRaw(t)
	sim := startSim(t, estate(&world{base: raw, later: raw}), cloudsim.Options{Faults: []cloudsim.Fault{
		{Kind: cloudsim.FaultCorruptChecksum, Service: "ebs", Action: "GetSnapshotBlock", Count: 2}}})
	r := openReader(t, sim, snapBase, Options{})
	readAll(t, r, raw)
	if st := r.Stats(); st.ChecksumErrors != 2 || st.Retries != 2 {
		t.Errorf("stats %+v", st)
	}
	sim.AddFault(cloudsim.Fault{Kind: cloudsim.FaultCorruptChecksum, Service: "ebs", Action: "GetSnapshotBlock"})
	r2 := openReader(t, sim, snapLater, Options{})
	_, err := r2.ReadAt(make([]byte, 4096), 0)
	var ce *ChecksumError
	if !errors.As(err, &ce) || ce.Tries != checksumTries || ce.Got == ce.Want || ce.Block != 0 {
		t.Errorf("error %v", err)
	}
}

// TestThrottling: against a quota below the limiter's ceiling the limiter cuts its rate, and
// every block still arrives.
func TestThrottling(t *testing.T) {
	raw := xfsDisk(t) // 27 written blocks
	if raw == "" {
		t.Skip("mkfs.xfs is not installed")
	}
	sim := startSim(t, estate(&world{base: raw, later: raw}), cloudsim.Options{
		ServiceThrottle: map[string]cloudsim.Rate{"ebs": {PerSecond: 40, Burst: 4}}})
	lim := NewLimiter(400)
	r := openReader(t, sim, snapBase, Options{Limiter: lim, Concurrency: 16})
	readAll(t, r, raw)
	st := r.Stats()
	if st.Throttled == 0 || st.Limiter.Cuts == 0 || st.Limiter.Lowest >= 400 || st.Fetched != int64(st.WrittenBlocks) {
		t.Errorf("stats %+v", st)
	}
	t.Logf("throttled %d times, rate cut %d times, lowest %.0f/s", st.Throttled, st.Limiter.Cuts, st.Limiter.Lowest)
}

// TestTokenExpiry: tokens past their expiry are refreshed by listing again, whether the reader's
// clock notices first or the API refuses the token.
func TestTokenExpiry(t *testing.T) {
	raw := sampleRaw(t)
	clk := &clock{t: time.Now()}
	sim := startSim(t, estate(&world{base: raw, later: raw}), cloudsim.Options{Now: clk.now, BlockTokenTTL: 10 * time.Minute})
	ahead := openReader(t, sim, snapBase, Options{Now: clk.now, NoPrefetch: true})
	refused := openReader(t, sim, snapLater, Options{NoPrefetch: true}) // the real clock: does not see the expiry
	clk.add(11 * time.Minute)
	for _, r := range []*Reader{ahead, refused} {
		readAll(t, r, raw)
		if st := r.Stats(); st.Relists != 1 || st.ListCalls != 2 {
			t.Errorf("%s: stats %+v", r.Snapshot(), st)
		}
	}
}

// TestNoPrefetch: the sequential reader fetches on read only.
func TestNoPrefetch(t *testing.T) {
	raw := sampleRaw(t)
	sim := startSim(t, estate(&world{base: raw, later: raw}), cloudsim.Options{})
	r := openReader(t, sim, snapBase, Options{NoPrefetch: true})
	readAll(t, r, raw)
	if st := r.Stats(); st.Prefetched != 0 || st.Demand != int64(st.WrittenBlocks) {
		t.Errorf("stats %+v", st)
	}
}
