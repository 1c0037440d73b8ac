package demo

import (
	"os"
	"testing"

	"github.com/snapwatch/snapwatch/internal/cloudsim"
	"github.com/snapwatch/snapwatch/internal/disk"
	"github.com/snapwatch/snapwatch/internal/image"
)

// The demo estate parses, serves, and its sample snapshot is the sample disk: a GPT disk whose
// file systems snapwatch reads.
func TestStartServesTheSampleDisk(t *testing.T) {
	env, err := Start(t.TempDir(), cloudsim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	if env.Sim.URL() == "" {
		t.Fatal("no URL")
	}
	var content string
	for _, a := range env.Sim.Estate().Accounts {
		for _, r := range a.Regions {
			if r == nil {
				continue
			}
			for _, s := range r.Snapshots {
				if s.ID == SampleSnapshot {
					content = s.Content
				}
			}
		}
	}
	if content == "" {
		t.Fatalf("estate has no content for %s", SampleSnapshot)
	}
	st, err := os.Stat(content)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("sample disk: %v %v", st, err)
	}
	img, err := image.Open(content, image.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	d, err := disk.Open(img, img.Size())
	if err != nil {
		t.Fatal(err)
	}
	readable := 0
	for _, fs := range d.FileSystems {
		if fs.FS != nil {
			readable++
		}
	}
	if readable < 2 {
		t.Fatalf("sample disk: %d readable file systems, want the ESP and the root", readable)
	}
	creds := env.Credentials()
	if creds["AWS_ACCESS_KEY_ID"] != AccessKey || creds["AWS_CONFIG_FILE"] != os.DevNull {
		t.Fatalf("credentials %v", creds)
	}
}
