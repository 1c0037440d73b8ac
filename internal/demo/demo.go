// Package demo brings up the embedded simulated estate that `snapwatch demo` audits: a small
// organisation served by internal/cloudsim on 127.0.0.1, whose public AMI is backed by
// snapwatch's sample disk. Nothing leaves the machine and no cloud account is needed.
package demo

import (
	"bytes"
	_ "embed"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/snapwatch/snapwatch/internal/cloudsim"
	"github.com/snapwatch/snapwatch/internal/image"
	"github.com/snapwatch/snapwatch/internal/sample"
)

//go:embed estate.yaml
var estateYAML string

// The credentials of the estate's management account, and where the audit starts.
const (
	AccessKey = "AKIADEMOMGMT00000001"
	SecretKey = "demo-management-secret"
	Region    = "us-east-1"
	OrgRole   = "SnapwatchAudit"
	// SampleSnapshot is the snapshot whose blocks are the sample disk.
	SampleSnapshot = "snap-0demo0000000000001"
)

// Env is a running demo estate.
type Env struct {
	Sim *cloudsim.AWS
	Dir string // working directory holding the sample disk
}

// Start writes the sample disk as a raw image into dir (the simulator serves its blocks as the
// snapshot's) and starts the simulated AWS.
func Start(dir string, opt cloudsim.Options) (*Env, error) {
	raw := filepath.Join(dir, "sample-disk.raw")
	if err := writeRaw(raw); err != nil {
		return nil, fmt.Errorf("demo: sample disk: %w", err)
	}
	estate, err := cloudsim.ParseEstate([]byte(strings.ReplaceAll(estateYAML, "{{SAMPLE_DISK}}", raw)))
	if err != nil {
		return nil, fmt.Errorf("demo: estate: %w", err)
	}
	sim, err := cloudsim.NewAWS(estate, opt)
	if err != nil {
		return nil, fmt.Errorf("demo: simulator: %w", err)
	}
	return &Env{Sim: sim, Dir: dir}, nil
}

// Close stops the simulator.
func (e *Env) Close() error { return e.Sim.Close() }

// Credentials returns the environment the AWS SDK's default chain reads, pointed at the demo
// account, with shared config files and instance metadata turned off so that nothing of the
// user's own AWS setup is used.
func (e *Env) Credentials() map[string]string {
	return map[string]string{
		"AWS_ACCESS_KEY_ID":           AccessKey,
		"AWS_SECRET_ACCESS_KEY":       SecretKey,
		"AWS_SESSION_TOKEN":           "",
		"AWS_REGION":                  Region,
		"AWS_PROFILE":                 "",
		"AWS_CONFIG_FILE":             os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE": os.DevNull,
		"AWS_EC2_METADATA_DISABLED":   "true",
	}
}

// writeRaw decodes the embedded qcow2 sample with snapwatch's own reader and writes the guest
// disk as a sparse raw file.
func writeRaw(path string) error {
	qcow := path + ".qcow2"
	if err := sample.Write(qcow); err != nil {
		return err
	}
	defer os.Remove(qcow)
	img, err := image.Open(qcow, image.Options{})
	if err != nil {
		return err
	}
	defer img.Close()
	out, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if err := out.Truncate(img.Size()); err != nil {
		out.Close()
		return err
	}
	buf := make([]byte, 1<<20)
	zero := make([]byte, len(buf))
	for off := int64(0); off < img.Size(); off += int64(len(buf)) {
		n, err := img.ReadAt(buf, off)
		if err != nil && err != io.EOF {
			out.Close()
			return err
		}
		if !bytes.Equal(buf[:n], zero[:n]) {
			if _, err := out.WriteAt(buf[:n], off); err != nil {
				out.Close()
				return err
			}
		}
	}
	return out.Close()
}
