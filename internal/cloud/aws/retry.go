package aws

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
)

// Retry budget. Throttling is expected under load and is the limiter's signal, so a throttled
// call is retried many times with capped exponential backoff: giving up on it would turn a
// busy account into a failed scope. Any other retryable failure (5xx, a dropped connection, a
// body cut short) gets four attempts, one more than the SDK's default, so that two 5xx in a
// row followed by a connection hiccup do not fail a scope; their backoff starts at 50 ms, so an
// unreachable region is still reported in well under a second.
const (
	throttleAttempts = 12
	otherAttempts    = 4
	maxBackoff       = 20 * time.Second
)

var throttles = retry.IsErrorThrottles(retry.DefaultThrottles)

func isThrottle(err error) bool {
	return err != nil && throttles.IsErrorThrottle(err).Bool()
}

// newRetryer is the SDK's standard retryer with two changes. Its client-side retry token
// bucket is off (ratelimit.None): that bucket holds 500 tokens, charges 5 per throttled retry
// and is shared by every call of a client, so under sustained throttling it empties after
// about 100 retries and the SDK then fails calls at once with "failed to get rate limit token"
// instead of backing off — the opposite of what an audit of 100k snapshots needs. Pacing is
// the AIMD limiter's job. And non-throttling errors stop after otherAttempts.
func newRetryer() aws.Retryer {
	return &budgetRetryer{Standard: retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = throttleAttempts
		o.MaxBackoff = maxBackoff
		o.RateLimiter = ratelimit.None
	})}
}

type budgetRetryer struct {
	*retry.Standard
}

// RetryDelay ends the retries of a non-throttling error after otherAttempts; returning an
// error here makes the SDK's retry middleware give up with that error.
func (r *budgetRetryer) RetryDelay(attempt int, err error) (time.Duration, error) {
	if attempt >= otherAttempts && !isThrottle(err) {
		return 0, &retry.MaxAttemptsError{Attempt: attempt, Err: err}
	}
	return r.Standard.RetryDelay(attempt, err)
}
