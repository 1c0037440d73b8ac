package aws

import (
	"context"
	"sync"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"
)

// meter counts what an audit costs and feeds the AIMD limiters. It is installed in every
// client the collector builds as two middlewares: one around the whole operation (it holds a
// limiter slot for the operation, retries and backoff included, so that a throttled scope
// backs off as a whole), and one around each HTTP attempt (it counts the attempt and tells the
// limiter whether AWS throttled it).
type meter struct {
	lim *limiters

	mu        sync.Mutex
	ops       int
	calls     int
	byAction  map[string]int
	throttled int
}

func newMeter(max int) *meter {
	return &meter{lim: &limiters{max: max}, byAction: map[string]int{}}
}

// apiOptions returns the middleware for the clients of one account.
func (m *meter) apiOptions(account string) func(*middleware.Stack) error {
	return func(st *middleware.Stack) error {
		op := middleware.InitializeMiddlewareFunc("snapwatchLimit", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			l := m.lim.get(account, awsmiddleware.GetRegion(ctx), awsmiddleware.GetServiceID(ctx))
			if err := l.acquire(ctx); err != nil {
				return middleware.InitializeOutput{}, middleware.Metadata{}, err
			}
			defer l.release()
			m.mu.Lock()
			m.ops++
			m.mu.Unlock()
			return next.HandleInitialize(ctx, in)
		})
		// After the service metadata is in the context: the limiter is chosen by service and region.
		if err := st.Initialize.Insert(op, "RegisterServiceMetadata", middleware.After); err != nil {
			if err := st.Initialize.Add(op, middleware.After); err != nil {
				return err
			}
		}
		attempt := middleware.FinalizeMiddlewareFunc("snapwatchMeter", func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			out, md, err := next.HandleFinalize(ctx, in)
			svc := serviceName(awsmiddleware.GetServiceID(ctx))
			l := m.lim.get(account, awsmiddleware.GetRegion(ctx), awsmiddleware.GetServiceID(ctx))
			thr := isThrottle(err)
			if thr {
				l.throttled(time.Now())
			} else if err == nil {
				l.success()
			}
			m.mu.Lock()
			m.calls++
			m.byAction[svc+":"+awsmiddleware.GetOperationName(ctx)]++
			if thr {
				m.throttled++
			}
			m.mu.Unlock()
			return out, md, err
		})
		// After the retry middleware: once per attempt.
		return st.Finalize.Insert(attempt, "Retry", middleware.After)
	}
}

// serviceName turns an SDK service id ("EC2", "RDS", "Organizations") into the lower-case
// name used in IAM actions and in the simulator's call log.
func serviceName(id string) string {
	switch id {
	case "EC2":
		return "ec2"
	case "RDS":
		return "rds"
	case "Redshift":
		return "redshift"
	case "KMS":
		return "kms"
	case "DLM":
		return "dlm"
	case "rbin":
		return "rbin"
	case "STS":
		return "sts"
	case "Organizations":
		return "organizations"
	case "S3":
		return "s3"
	case "S3 Control":
		return "s3control"
	}
	b := []byte(id)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func (m *meter) stats() Stats {
	m.mu.Lock()
	defer m.mu.Unlock()
	by := make(map[string]int, len(m.byAction))
	for k, v := range m.byAction {
		by[k] = v
	}
	return Stats{Calls: m.calls, CallsByAction: by, Throttled: m.throttled, Retries: max(0, m.calls-m.ops)}
}
