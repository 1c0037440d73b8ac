package event

import (
	"strings"
	"time"
)

// azureCollapser merges the records of one long-running Azure operation — Start, Accept,
// Success or Failure, all with one correlationId — into one event carrying the final outcome
// and what only the early records hold (the request body is logged on Start). Memory is
// bounded: at most max operations are held, none older than window in log time; an operation
// pushed out is yielded as it stands. Finished operations are remembered (as a bare marker,
// within the same bounds) so that a Start arriving after its Success is dropped, not yielded.
type azureCollapser struct {
	max    int
	window time.Duration
	m      map[string]*azOp
	queue  []azQueued // insertion order; entries whose seq no longer matches are stale
	head   int
	seq    uint64
	// collapsed counts records merged away; the Decoder adds it to its Stats.
	collapsed int64
}

type azOp struct {
	ev     Event // the merged event while pending; zero once done
	done   bool
	t      time.Time
	seq    uint64
	phases []string
}

type azQueued struct {
	key string
	seq uint64
}

func newAzureCollapser(max int, window time.Duration) *azureCollapser {
	return &azureCollapser{max: max, window: window, m: make(map[string]*azOp)}
}

func azKey(ev *Event) string {
	c := ev.Facts["correlation_id"]
	if c == "" {
		return ""
	}
	return strings.ToLower(c) + "|" + strings.ToLower(ev.Action) + "|" + ev.Resource.ID
}

// add takes one full Azure event and returns the events to yield now.
func (c *azureCollapser) add(ev Event) []Event {
	key := azKey(&ev)
	if key == "" {
		return []Event{ev}
	}
	state := ev.Facts["state"]
	final := azFinal(state)
	out := c.evict(ev.Time)
	p, ok := c.m[key]
	switch {
	case final && ok && !p.done:
		merged := azMerge(p.ev, ev, append(p.phases, state))
		c.collapsed++ // the held event is merged away; records merged into it were counted then
		p.ev, p.done, p.phases = Event{}, true, nil
		return append(out, merged)
	case final:
		if !ok {
			c.insert(key, &azOp{done: true, t: ev.Time})
		}
		return append(out, ev)
	case ok && p.done:
		c.collapsed++ // a Start or Accept after its operation ended
		return out
	case ok:
		p.ev = azMerge(p.ev, ev, nil)
		p.phases = append(p.phases, state)
		c.collapsed++
		return out
	}
	c.insert(key, &azOp{ev: ev, t: ev.Time, phases: []string{state}})
	return append(out, c.evictOver()...)
}

func (c *azureCollapser) insert(key string, op *azOp) {
	c.seq++
	op.seq = c.seq
	c.m[key] = op
	c.queue = append(c.queue, azQueued{key, c.seq})
	if len(c.queue)-c.head > 2*len(c.m)+1024 {
		// Flushes left stale entries: keep only the live ones, in order.
		live := make([]azQueued, 0, len(c.m))
		for _, q := range c.queue[c.head:] {
			if o, ok := c.m[q.key]; ok && o.seq == q.seq {
				live = append(live, q)
			}
		}
		c.queue, c.head = live, 0
	}
}

// pop removes the oldest live entry; it returns the event to yield if it was pending.
func (c *azureCollapser) pop() (Event, bool, bool) {
	for c.head < len(c.queue) {
		q := c.queue[c.head]
		c.queue[c.head] = azQueued{}
		c.head++
		if c.head > 1024 && c.head*2 > len(c.queue) {
			// Compact so the queue does not grow with the stream.
			c.queue = append(c.queue[:0], c.queue[c.head:]...)
			c.head = 0
		}
		op, ok := c.m[q.key]
		if !ok || op.seq != q.seq {
			continue
		}
		delete(c.m, q.key)
		if op.done {
			return Event{}, false, true
		}
		return azStanding(op), true, true
	}
	return Event{}, false, false
}

// oldest returns the oldest live entry's time.
func (c *azureCollapser) oldest() (time.Time, bool) {
	for c.head < len(c.queue) {
		q := c.queue[c.head]
		if op, ok := c.m[q.key]; ok && op.seq == q.seq {
			return op.t, true
		}
		c.head++
	}
	return time.Time{}, false
}

// evict drops entries older than the window before now.
func (c *azureCollapser) evict(now time.Time) []Event {
	var out []Event
	for {
		t, ok := c.oldest()
		if !ok || !t.Before(now.Add(-c.window)) {
			return out
		}
		if ev, pending, _ := c.pop(); pending {
			out = append(out, ev)
		}
	}
}

// evictOver drops the oldest entries while more than max are held.
func (c *azureCollapser) evictOver() []Event {
	var out []Event
	for len(c.m) > c.max {
		ev, pending, ok := c.pop()
		if !ok {
			break
		}
		if pending {
			out = append(out, ev)
		}
	}
	return out
}

// flush yields every pending operation (at the end of a stream), oldest first. Finished
// markers are kept.
func (c *azureCollapser) flush() []Event {
	var out []Event
	for _, q := range c.queue[c.head:] {
		op, ok := c.m[q.key]
		if !ok || op.seq != q.seq || op.done {
			continue
		}
		out = append(out, azStanding(op))
		delete(c.m, q.key)
	}
	return out
}

// azStanding is a pending operation yielded without its final record.
func azStanding(op *azOp) Event {
	ev := op.ev
	if len(op.phases) > 1 {
		ev.Facts = ensure(ev.Facts)
		ev.Facts["phases"] = strings.Join(op.phases, ",")
	}
	return ev
}

// azMerge keeps later's outcome and adds what only earlier knew: grants derived from a request
// body later lacks, and facts later does not set.
func azMerge(earlier, later Event, phases []string) Event {
	out := later
	if len(out.Grants) == 0 {
		out.Grants = earlier.Grants
	}
	if len(earlier.Facts) > 0 {
		f := make(map[string]string, len(earlier.Facts)+len(later.Facts)+1)
		for k, v := range earlier.Facts {
			f[k] = v
		}
		for k, v := range later.Facts {
			f[k] = v
		}
		out.Facts = f
	}
	if len(phases) > 1 {
		out.Facts = ensure(out.Facts)
		out.Facts["phases"] = strings.Join(phases, ",")
	}
	if out.Actor.Name == "" {
		out.Actor = earlier.Actor
	}
	if out.SourceIP == "" {
		out.SourceIP = earlier.SourceIP
	}
	return out
}
