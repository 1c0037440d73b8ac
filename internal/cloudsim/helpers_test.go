package cloudsim

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/smithy-go"
)

// Test access keys of testdata/estate.yaml.
const (
	keyMgmt    = "AKIAMGMT000000000001"
	keyProd    = "AKIAPROD000000000001"
	keyDev     = "AKIADEV0000000000001"
	keyOutside = "AKIAOUTSIDE000000001"
)

// start serves testdata/estate.yaml.
func start(t testing.TB, opt Options) *AWS {
	t.Helper()
	e, err := LoadEstate("testdata/estate.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return startEstate(t, e, opt)
}

func startEstate(t testing.TB, e *Estate, opt Options) *AWS {
	t.Helper()
	sim, err := NewAWS(e, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	return sim
}

// cfg is what a real program builds: static credentials, a region, the simulator's URL as the
// base endpoint, and the SDK's default (standard) retryer.
func cfg(sim *AWS, key, region string) aws.Config {
	return aws.Config{
		Region:       region,
		Credentials:  credentials.NewStaticCredentialsProvider(key, "secret", ""),
		BaseEndpoint: aws.String(sim.URL()),
	}
}

// apiCode returns the error code of an SDK error.
func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want error %s, got none", code)
	}
	if got := apiCode(err); got != code {
		t.Fatalf("want error %s, got %q (%v)", code, got, err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
