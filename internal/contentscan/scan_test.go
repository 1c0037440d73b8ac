package contentscan

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"os"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/snapwatch/snapwatch/internal/finding"
	"github.com/snapwatch/snapwatch/internal/fixture"
	"github.com/snapwatch/snapwatch/internal/target"
)

// Plants: each a secret the default rules find, at a path where it must be reported.
const (
	awsPair    = "aws_access_key_id = AKIAUVM2HVYKNABO4YSL\naws_secret_access_key = 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\n"
	slackToken = "xoxb-2817364519-4416282719283-Kq3ZrT8vLm2XpW9sNb4Yc7Hd"
	stripeKey  = "sk_live_OhbVrpoiVgRV5IfLBcbfnoGM"
	pgURI      = "postgres://app:Wq8vN2rT5kLm@db.internal:5432/app"
	deletedKey = "sk_live_Zx9Qw3Er7Ty1Ui5Op2As8DfG"
)

type plant struct {
	path string // where the finding must be reported
	rule string
}

func plantedFiles(t *testing.T) ([]fixture.File, []plant) {
	var tgz bytes.Buffer
	gz := gzip.NewWriter(&tgz)
	tw := tar.NewWriter(gz)
	env := []byte("SLACK_BOT_TOKEN=" + slackToken + "\n")
	tw.WriteHeader(&tar.Header{Name: "app/.env", Mode: 0o600, Size: int64(len(env)), Typeflag: tar.TypeReg})
	tw.Write(env)
	tw.Close()
	gz.Close()

	var zb bytes.Buffer
	zw := zip.NewWriter(&zb)
	w, _ := zw.Create("config/settings.ini")
	w.Write([]byte("[billing]\nkey = " + stripeKey + "\n"))
	zw.Close()

	var single bytes.Buffer
	g := gzip.NewWriter(&single)
	g.Write([]byte("DATABASE_URL=" + pgURI + "\n"))
	g.Close()

	// Windows writes text as UTF-16LE with a BOM.
	u := utf16.Encode([]rune("[default]\r\n" + strings.ReplaceAll(awsPair, "\n", "\r\n")))
	utf := []byte{0xff, 0xfe}
	for _, c := range u {
		utf = binary.LittleEndian.AppendUint16(utf, c)
	}

	files := []fixture.File{
		{Path: "home/alice/.aws/credentials", Data: []byte("[default]\n" + awsPair), Mode: 0o600},
		{Path: "var/backups/app.tar.gz", Data: tgz.Bytes()},
		{Path: "srv/bundle.zip", Data: zb.Bytes()},
		{Path: "etc/app/db.env.gz", Data: single.Bytes()},
		{Path: "Users/bob/creds.txt", Data: utf},
		{Path: "tmp/old-billing.conf", Data: []byte("STRIPE=" + deletedKey + "\n")},
		{Path: "usr/share/doc/readme.txt", Data: []byte("nothing secret here\n")},
	}
	plants := []plant{
		{"/home/alice/.aws/credentials", "secret/aws-access-key-pair"},
		{"/var/backups/app.tar.gz!app/.env", "secret/slack-bot-token"},
		{"/srv/bundle.zip!config/settings.ini", "secret/stripe-secret-key"},
		{"/etc/app/db.env.gz!db.env", "secret/postgres-uri-password"},
		{"/Users/bob/creds.txt", "secret/aws-access-key-pair"},
	}
	return files, plants
}

type fsBuild struct {
	name   string
	build  func(t *testing.T, src string) string
	remove func(t *testing.T, img, path string) // nil: the file system keeps no deleted content
}

var builds = []fsBuild{
	{"ext4", func(t *testing.T, s string) string { return fixture.Ext4(t, s, 16) },
		func(t *testing.T, img, p string) { fixture.Run(t, "debugfs", "-w", "-R", "rm "+p, img) }},
	{"ext2", func(t *testing.T, s string) string { return fixture.Ext2(t, s, 16) },
		func(t *testing.T, img, p string) { fixture.Run(t, "debugfs", "-w", "-R", "rm "+p, img) }},
	{"xfs", func(t *testing.T, s string) string { return fixture.XFS(t, s, 64) }, nil},
	{"ntfs", func(t *testing.T, s string) string { return fixture.NTFS(t, s, 16) },
		func(t *testing.T, img, p string) {
			mnt, unmount := fixture.MountNTFS(t, img)
			if err := os.Remove(mnt + p); err != nil {
				t.Fatal(err)
			}
			unmount()
		}},
	{"fat32", func(t *testing.T, s string) string { return fixture.FAT(t, s, 40, 32) },
		func(t *testing.T, img, p string) {
			if _, err := fixture.RunEnv([]string{"MTOOLS_SKIP_CHECK=1"}, "mdel", "-i", img, "::"+p); err != nil {
				t.Fatal(err)
			}
		}},
}

func TestPlantedSecretsOnEveryFileSystem(t *testing.T) {
	files, plants := plantedFiles(t)
	for _, b := range builds {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			img := b.build(t, fixture.WriteTree(t, files))
			if b.remove != nil {
				b.remove(t, img, "/tmp/old-billing.conf")
			}
			raw, _ := fixture.Disk(t, fixture.LayoutGPT, fixture.Part{Image: img})
			found := scanImage(t, raw, true)
			for _, p := range plants {
				if !found[p.rule+" "+p.path] {
					t.Errorf("%s at %s not found; found %v", p.rule, p.path, found)
				}
			}
			if b.remove != nil && !found["secret/stripe-secret-key /tmp/old-billing.conf (deleted)"] {
				t.Errorf("deleted plant not found; found %v", found)
			}
		})
	}
}

// scanImage scans a disk image and returns "rule path" keys ("(deleted)" appended for deleted files).
func scanImage(t *testing.T, path string, residual bool) map[string]bool {
	t.Helper()
	tg, err := target.Open(context.Background(), path, target.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	s := New(Options{Residual: residual})
	if err := s.Scan(context.Background(), tg); err != nil {
		t.Fatal(err)
	}
	for _, e := range s.Errors() {
		t.Errorf("scan error: %+v", e)
	}
	found := map[string]bool{}
	for _, f := range s.Findings() {
		key := f.Rule + " " + f.Location.Path
		if f.Location.Deleted {
			key += " (deleted)"
		}
		found[key] = true
		checkRedacted(t, f)
	}
	return found
}

func checkRedacted(t *testing.T, f finding.Finding) {
	for _, secret := range []string{"faoiSAsTck62gwhR71o32FiD7mdFSsaP7xSFa6IV", slackToken, stripeKey, "Wq8vN2rT5kLm", deletedKey} {
		for k, v := range f.Evidence {
			if s, ok := v.(string); ok && strings.Contains(s, secret) {
				t.Errorf("%s: evidence %s holds the secret in full", f.Rule, k)
			}
		}
		if strings.Contains(f.Description, secret) || strings.Contains(f.Title, secret) {
			t.Errorf("%s: text holds the secret", f.Rule)
		}
	}
}
