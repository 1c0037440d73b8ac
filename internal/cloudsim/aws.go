package cloudsim

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/snapwatch/snapwatch/internal/cloudsim/s3"
)

// Options shape how the simulator behaves beyond what the estate holds.
type Options struct {
	// Latency is added to every answer, as a network round trip and service time would.
	Latency time.Duration
	// Throttle is a token bucket per account, region and service: a call that finds it empty is
	// answered with the service's real throttling error. Zero means no throttling.
	Throttle Rate
	// ServiceThrottle overrides Throttle for a service ("ec2", "ebs", "rds", ...).
	ServiceThrottle map[string]Rate
	// Faults are injected failures; see Fault. More can be added with AddFault.
	Faults []Fault
	// BlockTokenTTL is how long an EBS block token stays valid; default one hour.
	BlockTokenTTL time.Duration
	// Now is the simulator's clock (token expiry, AssumeRole expiration); default time.Now.
	Now func() time.Time
	// Addr is the listen address; default 127.0.0.1:0 (a free port).
	Addr string
}

// Rate is a token bucket: PerSecond tokens refill it, up to Burst (default: PerSecond, at least 1).
type Rate struct {
	PerSecond float64
	Burst     int
}

// AWS is a simulated AWS answering the real wire protocols of EC2, EBS direct, RDS, Redshift,
// STS, Organizations, KMS, DLM, Recycle Bin and S3 on one HTTP endpoint. Point every SDK client's
// BaseEndpoint at URL() (S3 clients also need UsePathStyle).
type AWS struct {
	opt Options
	est *Estate
	url string
	ln  net.Listener
	srv *http.Server
	s3  *s3.Server

	// mu guards the estate's mutable parts (permissions, guards) and sessions. Reads take it
	// shared, so concurrent describes do not serialise.
	mu       sync.RWMutex
	accounts map[string]*account
	order    []*account // estate order: pagination across accounts is stable
	org      *orgView

	kmu  sync.RWMutex // guards keys: AssumeRole adds sessions while reads run
	keys map[string]*principal

	calls    callLog
	throttle throttler
	faults   faultSet
	tokenKey []byte // signs EBS block and page tokens
	blocks   contentCache
	reqSeq   atomic.Uint64
}

// NewAWS indexes the estate and starts serving it. The simulator owns the estate from now on
// (mutating calls change it); Close stops it.
func NewAWS(estate *Estate, opt Options) (*AWS, error) {
	if estate == nil {
		estate = &Estate{}
	}
	if err := estate.Validate(); err != nil {
		return nil, err
	}
	if opt.BlockTokenTTL <= 0 {
		opt.BlockTokenTTL = time.Hour
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Addr == "" {
		opt.Addr = "127.0.0.1:0"
	}
	a := &AWS{opt: opt, est: estate, tokenKey: make([]byte, 32)}
	if _, err := rand.Read(a.tokenKey); err != nil {
		return nil, err
	}
	a.throttle.init(opt)
	a.faults.add(opt.Faults...)
	if err := a.index(); err != nil {
		return nil, err
	}
	a.s3 = s3.NewHandler()
	for _, acct := range estate.Accounts {
		for _, b := range acct.Buckets {
			a.s3.CreateBucket(b.Name)
			for _, o := range b.Objects {
				data := []byte(o.Content)
				if o.Content == "" && o.Size > 0 {
					data = make([]byte, o.Size)
				}
				a.s3.Put(b.Name, o.Key, data)
			}
		}
	}
	ln, err := net.Listen("tcp", opt.Addr)
	if err != nil {
		return nil, err
	}
	a.ln = ln
	a.url = "http://" + ln.Addr().String()
	a.srv = &http.Server{Handler: a, ReadHeaderTimeout: 30 * time.Second}
	go a.srv.Serve(ln)
	return a, nil
}

// URL is the endpoint for every service: http://127.0.0.1:PORT.
func (a *AWS) URL() string { return a.url }

// S3 is the S3 service behind the endpoint, for tests that add objects.
func (a *AWS) S3() *s3.Server { return a.s3 }

// Estate returns the estate being served (mutations included). Read it only while no calls run.
func (a *AWS) Estate() *Estate { return a.est }

// Close stops the server and closes snapshot content files.
func (a *AWS) Close() error {
	err := a.srv.Close()
	a.blocks.close()
	return err
}

// AddFault injects a failure from now on.
func (a *AWS) AddFault(f Fault) { a.faults.add(f) }

// ClearFaults removes every injected failure.
func (a *AWS) ClearFaults() { a.faults.clear() }

// service protocols.
type protocol int

const (
	protoEC2       protocol = iota // EC2 Query: form POST, XML, <Response><Errors>
	protoQuery                     // awsQuery: form POST, XML with <XResult>, <ErrorResponse>
	protoJSON                      // awsJson1.1: X-Amz-Target
	protoRESTJSON                  // restJson1
	protoS3                        // restXml (the s3 package)
	protoS3Control                 // restXml, errors wrapped in <ErrorResponse>
)

type service struct {
	name      string
	proto     protocol
	xmlns     string
	target    string // JSON 1.1 target prefix
	global    bool   // one endpoint for all regions (Organizations; STS answers in any region)
	actions   map[string]handler
	mutating  map[string]bool
	route     func(r *http.Request) (action string, params map[string]string) // REST services
	throttle  errSpec
	internal  errSpec
	denied    errSpec
	authFail  errSpec
	notFoundA string // error code for an unknown action
}

type errSpec struct {
	status int
	code   string
}

type handler func(c *call)

var services map[string]*service

// register adds a service; each service file calls it from init.
func register(s *service) {
	if services == nil {
		services = map[string]*service{}
	}
	services[s.name] = s
}

// call is one request being answered.
type call struct {
	a      *AWS
	w      http.ResponseWriter
	r      *http.Request
	svc    *service
	action string
	form   url.Values        // query protocols: the form; REST: the URL query
	params map[string]string // REST path parameters
	body   []byte            // JSON protocols: the request body
	p      *principal
	acct   *account
	region string
	reg    *region // the caller's account in the request's region (never nil after auth)
	rec    *Call
	reqID  string
	reason string // REST JSON errors: the Reason field (EBS)
	done   bool
}

// ServeHTTP routes a request: the SigV4 credential scope names the service and region, the
// access key the caller, and the service's protocol the action.
func (a *AWS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := a.opt.Now()
	keyID, region, svcName := credentialScope(r)
	if svcName == "s3" && strings.HasPrefix(r.URL.Path, "/v20180820/") {
		svcName = "s3control" // S3 Control signs for s3
	}
	svc := services[svcName]
	c := &call{a: a, w: w, r: r, svc: svc, region: region, reqID: a.requestID()}
	c.rec = &Call{Time: start, Service: svcName, Region: region}
	recorded := false
	defer func() {
		if !recorded {
			a.calls.add(c.rec)
		}
	}()
	if svc == nil {
		c.rec.Action = "Unknown"
		c.rec.Status = http.StatusBadRequest
		c.rec.Error = "UnknownService"
		http.Error(w, fmt.Sprintf("cloudsim: no service for credential scope %q (Authorization header %q)", svcName, r.Header.Get("Authorization")), http.StatusBadRequest)
		return
	}
	if err := c.parse(); err != nil {
		c.rec.Action = c.action
		c.sleep()
		c.fail(http.StatusBadRequest, protocolErrorCode(svc.proto), err.Error())
		return
	}
	c.rec.Action = c.action
	c.rec.Mutating = svc.mutating[c.action] && !c.dryRun()

	// Who is calling, then faults, throttling and latency, in the order a real call meets them.
	p, authErr := a.authenticate(r, keyID)
	if p != nil {
		c.p = p
		c.rec.Account = p.account
		c.rec.Caller = p.arn
	}
	if f := a.faults.match(c, FaultUnreachable); f != nil {
		c.rec.Error = "ConnectionClosed"
		// Recorded before the connection closes: the client retries at once on the closed
		// connection, and a test reading the log after the SDK gave up must see every attempt.
		a.calls.add(c.rec)
		recorded = true
		hijackClose(w)
		return
	}
	throttled := p != nil && !a.throttle.allow(p.account, region, svcName, start)
	c.sleep()
	switch {
	case authErr != "":
		c.fail(svc.authFail.status, svc.authFail.code, authErr)
		return
	case throttled, a.faults.match(c, FaultThrottle) != nil:
		if svcName == "ebs" {
			c.reason = "ACCOUNT_THROTTLED"
		}
		c.fail(svc.throttle.status, svc.throttle.code, "Rate exceeded")
		return
	case a.faults.match(c, FaultServerError) != nil:
		c.fail(svc.internal.status, svc.internal.code, "We encountered an internal error. Please try again.")
		return
	case a.faults.match(c, FaultDeny) != nil:
		c.fail(svc.denied.status, svc.denied.code, fmt.Sprintf("User: %s is not authorized to perform: %s:%s", p.arn, svcName, c.action))
		return
	}
	acct := a.accounts[p.account]
	if acct == nil {
		c.fail(svc.authFail.status, svc.authFail.code, msgBadToken)
		return
	}
	c.acct = acct
	if !svc.global && region != "" && !acct.enabled[region] {
		c.fail(svc.authFail.status, svc.authFail.code, fmt.Sprintf("AWS was not able to validate the provided access credentials: region %s is not enabled for account %s", region, acct.id))
		return
	}
	c.reg = acct.region(region)
	h := svc.actions[c.action]
	if h == nil {
		c.fail(http.StatusBadRequest, svc.notFoundA, fmt.Sprintf("The action %s is not valid for this web service.", c.action))
		return
	}
	if svc.mutating[c.action] && c.dryRun() {
		c.fail(http.StatusPreconditionFailed, "DryRunOperation", "Request would have succeeded, but DryRun flag is set.")
		return
	}
	if svc.mutating[c.action] {
		a.mu.Lock()
		defer a.mu.Unlock()
	} else {
		a.mu.RLock()
		defer a.mu.RUnlock()
	}
	h(c)
	if !c.done {
		c.fail(http.StatusInternalServerError, svc.internal.code, "cloudsim: handler wrote no answer")
	}
}

func (c *call) sleep() {
	if d := c.a.opt.Latency; d > 0 {
		time.Sleep(d)
	}
}

func (c *call) dryRun() bool {
	return c.svc.proto == protoEC2 && strings.EqualFold(c.form.Get("DryRun"), "true")
}

// parse reads the action and its parameters in the service's protocol.
func (c *call) parse() error {
	switch c.svc.proto {
	case protoEC2, protoQuery:
		if err := c.r.ParseForm(); err != nil {
			return err
		}
		c.form = c.r.Form
		c.action = c.form.Get("Action")
		if c.action == "" {
			return errors.New("no Action parameter: not a Query protocol request")
		}
	case protoJSON:
		t := c.r.Header.Get("X-Amz-Target")
		act, ok := strings.CutPrefix(t, c.svc.target+".")
		if !ok {
			return fmt.Errorf("X-Amz-Target %q is not %s.<Action>: not an awsJson1.1 request", t, c.svc.target)
		}
		c.action = act
		b, err := readBody(c.r)
		if err != nil {
			return err
		}
		c.body = b
	case protoRESTJSON:
		c.action, c.params = c.svc.route(c.r)
		c.form = c.r.URL.Query()
		if c.action == "" {
			c.action = "Unknown"
			return fmt.Errorf("no %s operation at %s %s", c.svc.name, c.r.Method, c.r.URL.Path)
		}
		if c.r.Method == http.MethodPost || c.r.Method == http.MethodPut {
			b, err := readBody(c.r)
			if err != nil {
				return err
			}
			c.body = b
		}
	case protoS3:
		c.action = s3Action(c.r)
	case protoS3Control:
		c.action = s3controlAction(c.r)
	}
	return nil
}

func protocolErrorCode(p protocol) string {
	switch p {
	case protoEC2, protoQuery:
		return "InvalidParameterValue"
	case protoS3, protoS3Control:
		return "InvalidRequest"
	}
	return "ValidationException"
}

// fail answers an error in the service's wire format and records it.
func (c *call) fail(status int, code, msg string) {
	c.done = true
	c.rec.Status = status
	c.rec.Error = code
	switch c.svc.proto {
	case protoEC2:
		writeEC2Error(c.w, status, code, msg, c.reqID)
	case protoQuery:
		writeQueryError(c.w, c.svc.xmlns, status, code, msg, c.reqID)
	case protoJSON:
		writeJSONError(c.w, status, code, msg, "", c.reqID)
	case protoRESTJSON:
		writeJSONError(c.w, status, code, msg, c.reason, c.reqID)
	case protoS3:
		writeS3Error(c.w, c.r, status, code, msg, c.reqID)
	case protoS3Control:
		writeS3ControlError(c.w, status, code, msg, c.reqID)
	}
}

// ok records success; the protocol writer sends the body.
func (c *call) ok() {
	c.done = true
	c.rec.Status = http.StatusOK
}

// credentialScope reads "Credential=AKID/DATE/REGION/SERVICE/aws4_request" from the SigV4
// Authorization header (or the presigned X-Amz-Credential query parameter).
func credentialScope(r *http.Request) (key, region, service string) {
	cred := ""
	if h := r.Header.Get("Authorization"); h != "" {
		if i := strings.Index(h, "Credential="); i >= 0 {
			cred = h[i+len("Credential="):]
			if j := strings.IndexAny(cred, ", "); j >= 0 {
				cred = cred[:j]
			}
		}
	} else {
		cred = r.URL.Query().Get("X-Amz-Credential")
	}
	parts := strings.Split(cred, "/")
	if len(parts) != 5 {
		return "", "", ""
	}
	return parts[0], parts[2], parts[3]
}

// requestID makes a unique, UUID-shaped request id without a random source per request.
func (a *AWS) requestID() string {
	n := a.reqSeq.Add(1)
	return fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", uint32(n>>16), uint16(n), 0x5a5, 0x1c0, n)
}

// hijackClose drops the connection without an answer: an unreachable endpoint.
func hijackClose(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}
