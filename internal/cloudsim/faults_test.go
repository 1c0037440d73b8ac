package cloudsim

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/ebs"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/rds"
)

// Throttling answers each service's real error, which the SDK's standard retryer recognises
// and retries with backoff until the bucket refills.
func TestThrottlingIsRetried(t *testing.T) {
	sim := start(t, Options{Throttle: Rate{PerSecond: 20, Burst: 2}})
	c := ec2.NewFromConfig(cfg(sim, keyProd, "us-east-1"))
	r := rds.NewFromConfig(cfg(sim, keyProd, "us-east-1"))
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 8 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			_, err := c.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"}})
			errs <- err
		}()
		go func() {
			defer wg.Done()
			_, err := r.DescribeDBSnapshots(ctx, &rds.DescribeDBSnapshotsInput{})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	failed := 0
	for err := range errs {
		if err != nil {
			failed++
			t.Logf("after retries: %v", err)
		}
	}
	codes := map[string]int{}
	for _, call := range sim.Calls() {
		codes[call.Service+":"+call.Error]++
	}
	if codes["ec2:RequestLimitExceeded"] == 0 || codes["rds:Throttling"] == 0 {
		t.Fatalf("no throttling answered: %v", codes)
	}
	if failed > 4 { // three attempts each: most must get through
		t.Fatalf("%d of 16 calls failed after retries; answers %v", failed, codes)
	}
	// The error codes themselves, without retries.
	noRetry := func(o *ec2.Options) { o.Retryer = aws.NopRetryer{} }
	sim.AddFault(Fault{Kind: FaultThrottle, Count: 1})
	_, err := c.DescribeRegions(ctx, &ec2.DescribeRegionsInput{}, noRetry)
	wantCode(t, err, "RequestLimitExceeded")
	var re *retry.MaxAttemptsError
	if errors.As(err, &re) {
		t.Fatal("retried despite NopRetryer")
	}
	sim.AddFault(Fault{Kind: FaultThrottle, Service: "kms", Count: 1})
	_, err = kms.NewFromConfig(cfg(sim, keyProd, "us-east-1"), func(o *kms.Options) { o.Retryer = aws.NopRetryer{} }).ListAliases(ctx, &kms.ListAliasesInput{})
	wantCode(t, err, "ThrottlingException")
	sim.AddFault(Fault{Kind: FaultThrottle, Service: "ebs", Count: 1})
	_, err = ebs.NewFromConfig(cfg(sim, keyProd, "us-east-1"), func(o *ebs.Options) { o.Retryer = aws.NopRetryer{} }).ListSnapshotBlocks(ctx, &ebs.ListSnapshotBlocksInput{SnapshotId: aws.String("snap-0a000000000000001")})
	wantCode(t, err, "RequestThrottledException")
}

func TestServerErrorsAndUnreachableRegions(t *testing.T) {
	sim := start(t, Options{})
	use1 := ec2.NewFromConfig(cfg(sim, keyProd, "us-east-1"))
	// Two 500s, then success: the SDK's third attempt gets through.
	sim.AddFault(Fault{Kind: FaultServerError, Service: "ec2", Region: "us-east-1", Count: 2})
	_, err := use1.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"}})
	must(t, err)
	// A region that always fails with 5xx: the error the caller ends with.
	sim.AddFault(Fault{Kind: FaultServerError, Region: "eu-west-1"})
	_, err = ec2.NewFromConfig(cfg(sim, keyProd, "eu-west-1")).DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{})
	wantCode(t, err, "InternalError")
	_, err = rds.NewFromConfig(cfg(sim, keyProd, "eu-west-1")).DescribeDBSnapshots(ctx, &rds.DescribeDBSnapshotsInput{})
	wantCode(t, err, "InternalFailure")
	// An unreachable region: the connection closes without an answer.
	sim.AddFault(Fault{Kind: FaultUnreachable, Region: "af-south-1"})
	_, err = ec2.NewFromConfig(cfg(sim, keyProd, "af-south-1")).DescribeRegions(ctx, &ec2.DescribeRegionsInput{})
	if err == nil || apiCode(err) != "" {
		t.Fatalf("want a transport error, got %v", err)
	}
	n := 0
	for _, c := range sim.Calls() {
		if c.Region == "af-south-1" && c.Error == "ConnectionClosed" && c.Status == 0 {
			n++
		}
	}
	if n != 3 {
		t.Fatalf("%d attempts on the unreachable region, want the SDK's 3", n)
	}
	// A missing permission.
	sim.AddFault(Fault{Kind: FaultDeny, Action: "GetSnapshotBlockPublicAccessState"})
	_, err = use1.GetSnapshotBlockPublicAccessState(ctx, &ec2.GetSnapshotBlockPublicAccessStateInput{})
	wantCode(t, err, "UnauthorizedOperation")
	sim.ClearFaults()
	_, err = use1.GetSnapshotBlockPublicAccessState(ctx, &ec2.GetSnapshotBlockPublicAccessStateInput{})
	must(t, err)
}

func TestLatencyAndCallLog(t *testing.T) {
	sim := start(t, Options{Latency: 30 * time.Millisecond})
	c := ec2.NewFromConfig(cfg(sim, keyProd, "us-east-1"))
	t0 := time.Now()
	_, err := c.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"self"}})
	must(t, err)
	if d := time.Since(t0); d < 30*time.Millisecond {
		t.Fatalf("answered in %v", d)
	}
	calls := sim.Calls()
	if len(calls) != 1 {
		t.Fatal(calls)
	}
	got := calls[0]
	if got.Service != "ec2" || got.Action != "DescribeImages" || got.Account != "222222222222" || got.Region != "us-east-1" ||
		got.Caller != "arn:aws:iam::222222222222:user/snapwatch" || got.Mutating || got.Status != 200 || got.Error != "" {
		t.Fatalf("%+v", got)
	}
	sim.ResetCalls()
	if len(sim.Calls()) != 0 || len(sim.CallCounts()) != 0 {
		t.Fatal("not reset")
	}
}
