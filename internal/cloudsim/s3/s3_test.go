package s3

import (
	"context"
	"errors"
	"io"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	sdk "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// The real SDK client against the simulator: what it parses is S3's wire format.
func client(s *Server) *sdk.Client {
	return sdk.New(sdk.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(s.URL),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider("AKID", "secret", ""),
	})
}

func TestWithRealSDK(t *testing.T) {
	s, err := New()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.PageSize = 2
	for _, k := range []string{"logs/a/1.json", "logs/a/2.json", "logs/b/1.json", "logs/c.json", "other/x", "logs/with space+plus.json"} {
		s.Put("bkt", k, []byte("data of "+k))
	}
	ctx := context.Background()
	c := client(s)

	// Delimiter listing across pages: common prefixes and keys.
	var prefixes, keys []string
	p := sdk.NewListObjectsV2Paginator(c, &sdk.ListObjectsV2Input{Bucket: aws.String("bkt"), Prefix: aws.String("logs/"), Delimiter: aws.String("/")})
	pages := 0
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, cp := range page.CommonPrefixes {
			prefixes = append(prefixes, *cp.Prefix)
		}
		for _, o := range page.Contents {
			keys = append(keys, *o.Key)
		}
	}
	if len(prefixes) != 2 || prefixes[0] != "logs/a/" || prefixes[1] != "logs/b/" || len(keys) != 2 || keys[0] != "logs/c.json" ||
		keys[1] != "logs/with space+plus.json" || pages != 2 {
		t.Fatalf("prefixes %v keys %v pages %d", prefixes, keys, pages)
	}

	// GetObject whole (checksum validated by the SDK) and by range; HeadObject.
	out, err := c.GetObject(ctx, &sdk.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("logs/with space+plus.json"), ChecksumMode: types.ChecksumModeEnabled})
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(out.Body)
	out.Body.Close()
	if err != nil || string(b) != "data of logs/with space+plus.json" {
		t.Fatalf("%q %v", b, err)
	}
	out, err = c.GetObject(ctx, &sdk.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("logs/c.json"), Range: aws.String("bytes=5-6")})
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(out.Body)
	if string(b) != "of" || *out.ContentRange != "bytes 5-6/19" {
		t.Fatalf("range: %q %v", b, *out.ContentRange)
	}
	h, err := c.HeadObject(ctx, &sdk.HeadObjectInput{Bucket: aws.String("bkt"), Key: aws.String("other/x")})
	if err != nil || *h.ContentLength != 15 || h.ETag == nil {
		t.Fatalf("head %+v %v", h, err)
	}

	// Errors in S3's shape.
	_, err = c.GetObject(ctx, &sdk.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("missing")})
	var nsk *types.NoSuchKey
	if !errors.As(err, &nsk) {
		t.Fatalf("missing key: %v", err)
	}
	_, err = c.HeadObject(ctx, &sdk.HeadObjectInput{Bucket: aws.String("bkt"), Key: aws.String("missing")})
	var nf *types.NotFound
	if !errors.As(err, &nf) {
		t.Fatalf("head missing: %v", err)
	}
	_, err = c.ListObjectsV2(ctx, &sdk.ListObjectsV2Input{Bucket: aws.String("nope")})
	var nsb *types.NoSuchBucket
	if !errors.As(err, &nsb) {
		t.Fatalf("missing bucket: %v", err)
	}
	_, err = c.PutObject(ctx, &sdk.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k")})
	if err == nil {
		t.Fatal("PutObject should be unsupported")
	}

	ops := map[string]int{}
	for _, call := range s.Calls() {
		ops[call.Op]++
	}
	if ops["ListObjectsV2"] != 3 || ops["GetObject"] != 3 || ops["HeadObject"] != 2 || ops["Unsupported"] != 1 {
		t.Fatalf("calls %v", ops)
	}
}
