package cloudsim

import (
	"sync"
	"time"
)

// Call is one request the simulator answered (or refused).
type Call struct {
	Time    time.Time
	Service string // credential-scope name: ec2, ebs, rds, redshift, sts, organizations, kms, dlm, rbin, s3
	Action  string // the API action, e.g. DescribeSnapshots, GetSnapshotBlock, GetObject
	Account string // the caller's account ("" when the access key is unknown)
	Caller  string // the caller's ARN
	Region  string
	// Mutating is set for actions that change the estate (ModifySnapshotAttribute, ...), whether
	// or not they succeeded, except EC2 dry runs, which change nothing.
	Mutating bool
	Status   int    // HTTP status answered; 0 when the connection was dropped
	Error    string // error code answered, "" on success
}

type callLog struct {
	mu     sync.Mutex
	calls  []Call
	counts map[string]int
}

func (l *callLog) add(c *Call) {
	l.mu.Lock()
	l.calls = append(l.calls, *c)
	if l.counts == nil {
		l.counts = map[string]int{}
	}
	l.counts[c.Service+":"+c.Action]++
	l.mu.Unlock()
}

// Calls returns every call so far, in arrival order.
func (a *AWS) Calls() []Call {
	a.calls.mu.Lock()
	defer a.calls.mu.Unlock()
	return append([]Call(nil), a.calls.calls...)
}

// MutatingCalls returns the calls that tried to change the estate. An audit must make none.
func (a *AWS) MutatingCalls() []Call {
	a.calls.mu.Lock()
	defer a.calls.mu.Unlock()
	var out []Call
	for _, c := range a.calls.calls {
		if c.Mutating {
			out = append(out, c)
		}
	}
	return out
}

// CallCounts returns how many calls each action received, keyed "service:Action"
// (e.g. "ec2:DescribeSnapshots"), throttled and failed ones included.
func (a *AWS) CallCounts() map[string]int {
	a.calls.mu.Lock()
	defer a.calls.mu.Unlock()
	m := make(map[string]int, len(a.calls.counts))
	for k, v := range a.calls.counts {
		m[k] = v
	}
	return m
}

// ResetCalls forgets the recorded calls.
func (a *AWS) ResetCalls() {
	a.calls.mu.Lock()
	defer a.calls.mu.Unlock()
	a.calls.calls = nil
	a.calls.counts = nil
}
