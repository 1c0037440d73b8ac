package ingest

import (
	"context"
	"fmt"
	"io"
	"iter"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// s3Objects is an S3 prefix, read with aws-sdk-go-v2 and the default credential chain. Keys
// are listed in S3's order (UTF-8 binary), which ListObjectsV2's StartAfter resumes from.
type s3Objects struct {
	client *s3.Client
	bucket string
	prefix string
}

func openS3(ctx context.Context, uri string, opt Options) (backend, error) {
	u, err := url.Parse(uri)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("%s: want s3://bucket/prefix", uri)
	}
	var lo []func(*config.LoadOptions) error
	if opt.Region != "" {
		lo = append(lo, config.WithRegion(opt.Region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, lo...)
	if err != nil {
		return nil, fmt.Errorf("%s: AWS configuration: %w", uri, err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1" // ListObjectsV2 works from any region; signing needs one
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		if opt.EndpointURL != "" {
			o.BaseEndpoint = aws.String(opt.EndpointURL)
			o.UsePathStyle = true
		}
	})
	return &s3Objects{client: client, bucket: u.Host, prefix: strings.TrimPrefix(u.Path, "/")}, nil
}

func (s *s3Objects) close() error { return nil }

func (s *s3Objects) name(key string) string { return "s3://" + s.bucket + "/" + key }

func (s *s3Objects) open(ctx context.Context, key string) (io.ReadCloser, error) {
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.bucket, Key: &key})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.name(key), err)
	}
	return out.Body, nil
}

func (s *s3Objects) list(ctx context.Context, startAfter string) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		in := &s3.ListObjectsV2Input{Bucket: &s.bucket}
		if s.prefix != "" {
			in.Prefix = &s.prefix
		}
		if startAfter != "" {
			in.StartAfter = &startAfter
		}
		p := s3.NewListObjectsV2Paginator(s.client, in)
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				yield("", fmt.Errorf("s3://%s/%s: list: %w", s.bucket, s.prefix, err))
				return
			}
			for _, o := range page.Contents {
				if o.Key == nil || strings.HasSuffix(*o.Key, "/") {
					continue // "folder" placeholder objects
				}
				if !yield(*o.Key, nil) {
					return
				}
			}
		}
	}
}
