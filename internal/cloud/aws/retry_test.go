package aws

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
)

var errThrottled = &smithy.GenericAPIError{Code: "RequestLimitExceeded", Message: "Request limit exceeded."}

// retries asks a retryer for n retry tokens for a throttling error and returns how many it gave.
func retries(r aws.RetryerV2, n int) int {
	for i := range n {
		if _, err := r.GetRetryToken(context.Background(), errThrottled); err != nil {
			return i
		}
	}
	return n
}

// TestRetryTokensDoNotRunOut: the SDK's default retryer stops granting retries after about
// 100 throttles (500 tokens at 5 each) and would then fail calls at once; ours keeps retrying.
func TestRetryTokensDoNotRunOut(t *testing.T) {
	if got := retries(retry.NewStandard(), 10_000); got >= 10_000 {
		t.Fatalf("the SDK default granted %d retries: the premise changed, revisit retry.go", got)
	} else {
		t.Logf("SDK default: %d throttled retries before 'failed to get rate limit token'", got)
	}
	r := newRetryer().(aws.RetryerV2)
	if got := retries(r, 10_000); got != 10_000 {
		t.Fatalf("ours stopped after %d retries", got)
	}
	if r.MaxAttempts() != throttleAttempts {
		t.Errorf("max attempts %d", r.MaxAttempts())
	}
}

// TestNonThrottleBudget: a 5xx ends after otherAttempts, a throttle goes on.
func TestNonThrottleBudget(t *testing.T) {
	r := newRetryer()
	server := &smithy.GenericAPIError{Code: "InternalError"}
	if _, err := r.RetryDelay(otherAttempts, server); !errors.Is(err, server) {
		t.Errorf("5xx at attempt %d: %v", otherAttempts, err)
	}
	if _, err := r.RetryDelay(otherAttempts-1, server); err != nil {
		t.Errorf("5xx before the budget: %v", err)
	}
	if _, err := r.RetryDelay(otherAttempts+3, errThrottled); err != nil {
		t.Errorf("throttle stopped early: %v", err)
	}
}
