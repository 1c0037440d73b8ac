package detect

import (
	"fmt"
	"testing"
	"time"

	"github.com/snapwatch/snapwatch/internal/event"
)

// benchStream is the invictus hour as the pipeline delivers it (parser pre-filter on: 2,900
// records, of which a few dozen fully decoded), copied with fresh ids and times so that the
// de-duplication and the state see a long stream, not the same hour again.
func benchStream(b *testing.B, opt event.Options, copies int) []event.Event {
	base := invictus(b, opt)
	out := make([]event.Event, 0, len(base)*copies)
	for c := range copies {
		for _, ev := range base {
			ev.ID = fmt.Sprintf("%s-%d", ev.ID, c)
			ev.Time = ev.Time.Add(time.Duration(c) * time.Hour)
			out = append(out, ev)
		}
	}
	return out
}

func benchProcess(b *testing.B, cfg Config, opt event.Options) {
	evs := benchStream(b, opt, 40)
	e, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu := startCPU()
	n := 0
	for i := 0; i < b.N; i++ {
		e.Process(evs[n])
		if n++; n == len(evs) {
			// Every pass starts from a new engine: replayed ids would be dropped as
			// duplicates and flatter the figure.
			b.StopTimer()
			n, e = 0, must(New(cfg))
			b.StartTimer()
		}
	}
	cpu.report(b)
}

// BenchmarkProcess: native rules on the realistic mix.
func BenchmarkProcess(b *testing.B) { benchProcess(b, Config{}, event.Options{}) }

// BenchmarkProcessWithSigma: native rules plus the mirror Sigma rules (three of which need every
// record: a raw-text prefilter runs on each), on fully decoded records.
func BenchmarkProcessWithSigma(b *testing.B) {
	dir := writeMirrorRules(b)
	benchProcess(b, Config{SigmaDir: dir}, event.Options{All: true})
}

// BenchmarkProcessIrrelevant: an event no rule watches.
func BenchmarkProcessIrrelevant(b *testing.B) {
	e, _ := New(Config{})
	ev := irrelevantEvent()
	b.ReportAllocs()
	cpu := startCPU()
	for i := 0; i < b.N; i++ {
		e.Process(ev)
	}
	cpu.report(b)
}

func irrelevantEvent() event.Event {
	return event.Event{ID: "x", Time: time.Unix(1, 0), Cloud: "aws", Account: "111111111111", Region: "us-east-1",
		Service: "ec2.amazonaws.com", Action: "DescribeRouteTables", ReadOnly: true, Partial: true}
}

// An irrelevant event costs no allocation: a lookup of its action and, for a write, of its region.
func TestIrrelevantEventAllocatesNothing(t *testing.T) {
	e, _ := New(Config{})
	ev := irrelevantEvent()
	write := ev
	write.Action, write.ReadOnly = "CreateTags", false
	e.Process(write) // the region is recorded once
	azure := event.Event{ID: "y", Cloud: "azure", Action: "MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/READ", Partial: true}
	for name, ev := range map[string]event.Event{"read": ev, "write": write, "azure upper case": azure} {
		if n := testing.AllocsPerRun(1000, func() { e.Process(ev) }); n != 0 {
			t.Errorf("%s: %.1f allocations per irrelevant event", name, n)
		}
	}
}

func must(e *Engine, err error) *Engine {
	if err != nil {
		panic(err)
	}
	return e
}
