package cloudsim

import (
	"strings"
	"sync"
	"time"
)

// FaultKind is what an injected failure does.
type FaultKind string

const (
	// FaultServerError answers the service's 5xx error (EC2 InternalError, RDS InternalFailure,
	// KMS KMSInternalException, EBS InternalServerException, ...); the SDK retries it.
	FaultServerError FaultKind = "server-error"
	// FaultUnreachable closes the connection without an answer, as an unreachable endpoint would.
	FaultUnreachable FaultKind = "unreachable"
	// FaultThrottle answers the service's throttling error whatever the token bucket holds.
	FaultThrottle FaultKind = "throttle"
	// FaultDeny answers AccessDenied in the service's spelling (EC2 UnauthorizedOperation, STS
	// AccessDenied, KMS/Organizations AccessDeniedException): a missing permission, or, with
	// Service "sts", Action "AssumeRole" and Target a role, a role that cannot be assumed.
	FaultDeny FaultKind = "deny"
	// FaultCorruptChecksum makes GetSnapshotBlock send a checksum that does not match the data.
	FaultCorruptChecksum FaultKind = "corrupt-checksum"
)

// Fault is one injected failure. Empty fields match anything; Count limits how many calls it hits
// (0: every matching call).
type Fault struct {
	Kind    FaultKind
	Service string // ec2, ebs, rds, ...
	Action  string
	Account string // the caller's account
	Region  string
	// Target narrows the fault to a resource: the role ARN or name of an AssumeRole, the
	// snapshot id of an EBS direct call.
	Target string
	Count  int
}

type faultSet struct {
	mu     sync.Mutex
	faults []*faultState
}

type faultState struct {
	Fault
	left int // remaining hits; -1 unlimited
}

func (s *faultSet) add(fs ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range fs {
		left := f.Count
		if left <= 0 {
			left = -1
		}
		s.faults = append(s.faults, &faultState{Fault: f, left: left})
	}
}

func (s *faultSet) clear() {
	s.mu.Lock()
	s.faults = nil
	s.mu.Unlock()
}

// match finds a fault of the kind for the call and uses up one of its hits.
func (s *faultSet) match(c *call, kind FaultKind) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.faults) == 0 {
		return nil
	}
	for _, f := range s.faults {
		if f.Kind != kind || f.left == 0 {
			continue
		}
		if (f.Service != "" && f.Service != c.rec.Service) || (f.Action != "" && f.Action != c.action) ||
			(f.Account != "" && f.Account != c.rec.Account) || (f.Region != "" && f.Region != c.region) {
			continue
		}
		if f.Target != "" && !c.targets(f.Target) {
			continue
		}
		if f.left > 0 {
			f.left--
		}
		return &f.Fault
	}
	return nil
}

// targets reports whether the call is about the resource named by a fault's Target.
func (c *call) targets(t string) bool {
	switch c.svc.proto {
	case protoQuery:
		if ra := c.form.Get("RoleArn"); ra != "" {
			return ra == t || strings.HasSuffix(ra, ":role/"+t)
		}
	case protoRESTJSON:
		for _, v := range c.params {
			if v == t {
				return true
			}
		}
		return c.form.Get("firstSnapshotId") == t
	}
	for _, vs := range c.form {
		for _, v := range vs {
			if v == t {
				return true
			}
		}
	}
	return false
}

// throttler holds one token bucket per account, region and service. AWS meters each service's
// API separately, so EC2 calls do not eat into the RDS budget.
type throttler struct {
	def     Rate
	per     map[string]Rate
	mu      sync.Mutex
	buckets map[bucketKey]*bucket
}

type bucketKey struct{ account, region, service string }

type bucket struct {
	tokens float64
	last   time.Time
}

func (t *throttler) init(o Options) {
	t.def = o.Throttle
	t.per = o.ServiceThrottle
	t.buckets = map[bucketKey]*bucket{}
}

func (t *throttler) allow(account, region, service string, now time.Time) bool {
	r := t.def
	if x, ok := t.per[service]; ok {
		r = x
	}
	if r.PerSecond <= 0 {
		return true
	}
	burst := float64(r.Burst)
	if burst <= 0 {
		burst = max(r.PerSecond, 1)
	}
	k := bucketKey{account, region, service}
	t.mu.Lock()
	defer t.mu.Unlock()
	b := t.buckets[k]
	if b == nil {
		b = &bucket{tokens: burst, last: now}
		t.buckets[k] = b
	}
	if el := now.Sub(b.last).Seconds(); el > 0 {
		b.tokens = min(burst, b.tokens+el*r.PerSecond)
		b.last = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
