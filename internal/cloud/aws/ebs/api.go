package ebs

import (
	"context"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	ebsapi "github.com/aws/aws-sdk-go-v2/service/ebs"
)

// BlockSize is the EBS direct API's block: every snapshot is read in blocks of 512 KiB.
const BlockSize = 512 << 10

// API is the part of the EBS direct client a Reader calls; *ebs.Client implements it, tests may
// fake it.
type API interface {
	ListSnapshotBlocks(context.Context, *ebsapi.ListSnapshotBlocksInput, ...func(*ebsapi.Options)) (*ebsapi.ListSnapshotBlocksOutput, error)
	ListChangedBlocks(context.Context, *ebsapi.ListChangedBlocksInput, ...func(*ebsapi.Options)) (*ebsapi.ListChangedBlocksOutput, error)
	GetSnapshotBlock(context.Context, *ebsapi.GetSnapshotBlockInput, ...func(*ebsapi.Options)) (*ebsapi.GetSnapshotBlockOutput, error)
}

// NewClient makes the EBS direct client a Reader wants. The SDK's retryer is turned off: the
// Reader retries itself, so that every throttled answer reaches its rate limiter (the SDK's
// retry quota would otherwise give up under sustained throttling, and hide it). The HTTP
// transport keeps as many idle connections as requests may be in flight; the SDK's default of
// 10 per host would open and close connections at 1,000 requests/s.
func NewClient(cfg aws.Config, maxConns int) *ebsapi.Client {
	if maxConns <= 0 {
		maxConns = DefaultConcurrency
	}
	hc := awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
		tr.MaxIdleConns = 2 * maxConns
		tr.MaxIdleConnsPerHost = 2 * maxConns
		tr.IdleConnTimeout = 90 * time.Second
	})
	return ebsapi.NewFromConfig(cfg, func(o *ebsapi.Options) {
		o.Retryer = aws.NopRetryer{}
		o.HTTPClient = hc
	})
}
