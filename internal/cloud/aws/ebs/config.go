package ebs

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/snapwatch/snapwatch/internal/target"
)

// loadConfig builds an SDK config from the default credential chain (environment, shared files,
// SSO, IMDS…), with the region, profile and endpoint the command line gave.
func loadConfig(ctx context.Context, opt target.Options) (aws.Config, error) {
	var with []func(*config.LoadOptions) error
	if opt.Region != "" {
		with = append(with, config.WithRegion(opt.Region))
	}
	if opt.Profile != "" {
		with = append(with, config.WithSharedConfigProfile(opt.Profile))
	}
	cfg, err := config.LoadDefaultConfig(ctx, with...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("aws credentials: %w", err)
	}
	if cfg.Region == "" {
		return aws.Config{}, fmt.Errorf("aws: no region: give --region or set AWS_REGION (EBS snapshots are regional)")
	}
	if opt.EndpointURL != "" {
		cfg.BaseEndpoint = aws.String(opt.EndpointURL)
	}
	return cfg, nil
}
