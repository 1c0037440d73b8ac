package ingest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"

	s3sim "github.com/snapwatch/snapwatch/internal/cloudsim/s3"
	"github.com/snapwatch/snapwatch/internal/event"
)

func gz(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

// trail builds a trail file body with n records whose ids are prefix-0…prefix-(n-1).
func trail(prefix string, n int, day string) []byte {
	var b strings.Builder
	b.WriteString(`{"Records":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","accountId":"111122223333","userName":"u"},"eventTime":"%sT10:00:%02dZ","eventSource":"ec2.amazonaws.com","eventName":"DescribeInstances","awsRegion":"us-east-1","eventID":"%s-%d","recipientAccountId":"111122223333","eventCategory":"Management"}`, day, i%60, prefix, i)
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}

const digestBody = `{"awsAccountId":"111122223333","digestStartTime":"2024-03-01T00:00:00Z","digestEndTime":"2024-03-01T01:00:00Z","digestS3Bucket":"b","digestS3Object":"k","logFiles":[]}`

// collect reads a source to the end (or until stop events), failing on fatal errors.
func collect(t *testing.T, src Source, stop int) []event.Event {
	t.Helper()
	var out []event.Event
	for ev, err := range src.Events(context.Background()) {
		if err != nil {
			if IsNonFatal(err) {
				t.Logf("non-fatal: %v", err)
				continue
			}
			t.Fatalf("fatal: %v", err)
		}
		out = append(out, ev)
		if stop > 0 && len(out) == stop {
			break
		}
	}
	return out
}

func TestDirectoryOfRealLogs(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "shared", "eval", "logs", "invictus-aws_dataset", "CloudTrail")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("real logs not available: %v", err)
	}
	src, err := Open(context.Background(), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	evs := collect(t, src, 0)
	st := src.Stats()
	if len(evs) != 2900 || st.Objects != 55 || st.Records != 2900 || st.Bad != 0 || st.Duplicates != 0 {
		t.Fatalf("%d events, stats %+v", len(evs), st)
	}
	// Files are read in sorted order.
	for i := 1; i < len(evs); i++ {
		if evs[i].Origin.Source < evs[i-1].Origin.Source {
			t.Fatalf("out of order: %s after %s", evs[i].Origin.Source, evs[i-1].Origin.Source)
		}
	}
}

func TestDirectoryLayoutDigestsGzipDedup(t *testing.T) {
	root := t.TempDir()
	write := func(rel string, b []byte) {
		p := filepath.Join(root, filepath.FromSlash(rel))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	base := "AWSLogs/o-abc123/111122223333/CloudTrail/us-east-1/2024/03/"
	write(base+"01/111122223333_CloudTrail_us-east-1_20240301T1000Z_a.json.gz", gz(t, trail("a", 10, "2024-03-01")))
	write(base+"02/111122223333_CloudTrail_us-east-1_20240302T1000Z_b.json", trail("b", 5, "2024-03-02"))
	// The same records again under another name (double shipping): dropped as duplicates.
	write(base+"02/111122223333_CloudTrail_us-east-1_20240302T1000Z_c.json.gz", gz(t, trail("b", 5, "2024-03-02")))
	write("AWSLogs/o-abc123/111122223333/CloudTrail-Digest/us-east-1/2024/03/01/111122223333_CloudTrail-Digest_us-east-1_x_20240301T010000Z.json.gz", gz(t, []byte(digestBody)))
	write(".hidden", []byte("not a log"))

	src, err := Open(context.Background(), root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	evs := collect(t, src, 0)
	src.Close()
	st := src.Stats()
	if len(evs) != 15 || st.Duplicates != 5 || st.DigestObjects != 1 || st.Objects != 3 || st.Bad != 0 {
		t.Fatalf("%d events, stats %+v", len(evs), st)
	}

	// The key-date window keeps 2 March only.
	day := time.Date(2024, 3, 2, 15, 0, 0, 0, time.UTC)
	src, _ = Open(context.Background(), "file:"+root, Options{From: day, To: day, Dedup: NoDedup})
	evs = collect(t, src, 0)
	src.Close()
	if st := src.Stats(); len(evs) != 10 || st.OutOfWindow != 1 || st.Duplicates != 0 {
		t.Fatalf("window: %d events, stats %+v", len(evs), st)
	}
}

func TestKeyDay(t *testing.T) {
	for key, want := range map[string]string{
		"AWSLogs/o-x/1/CloudTrail/us-east-1/2023/07/10/1_CloudTrail_us-east-1_20230710T1205Z_z.json.gz": "2023-07-10",
		"AWSLogs/1/CloudTrail/eu-west-1/2024/02/29/f.json.gz":                                           "2024-02-29",
		"insights-activity-logs/resourceId=/SUBSCRIPTIONS/S/y=2020/m=06/d=08/h=18/m=00/PT1H.json":       "2020-06-08",
		"123_CloudTrail_us-east-1_20230710T1205Z_abc.json":                                              "2023-07-10",
		"cloudaudit.googleapis.com/activity/2024/03/01/00:00:00_00:59:59_S0.json":                       "2024-03-01",
	} {
		d, ok := keyDay(key)
		if !ok || d.Format("2006-01-02") != want {
			t.Errorf("%s: %v %v, want %s", key, d, ok, want)
		}
	}
	if _, ok := keyDay("logs/trail.json"); ok {
		t.Error("dateless key got a date")
	}
}

func TestPathLess(t *testing.T) {
	paths := []string{"a/b", "a-c", "a", "a/b/c", "b", "a/a"}
	sort.Slice(paths, func(i, j int) bool { return pathLess(paths[i], paths[j]) })
	want := "a a/a a/b a/b/c a-c b"
	if got := strings.Join(paths, " "); got != want {
		t.Fatalf("%s, want %s", got, want)
	}
}

func TestDedupBound(t *testing.T) {
	d := NewDedup(3)
	for _, id := range []string{"a", "b", "c"} {
		if d.Seen("aws", id) {
			t.Fatal(id)
		}
	}
	if !d.Seen("aws", "a") || d.Seen("gcp", "a") {
		t.Fatal("cloud is part of the key")
	}
	// At least the last 3 ids are always remembered, at most 6.
	for i := range 1000 {
		id := fmt.Sprint(i)
		if d.Seen("aws", id) {
			t.Fatalf("%s seen before", id)
		}
		for j := max(0, i-2); j <= i; j++ {
			if !d.Seen("aws", fmt.Sprint(j)) {
				t.Fatalf("recent id %d forgotten at %d", j, i)
			}
		}
		if d.Len() > 6 {
			t.Fatalf("%d ids held", d.Len())
		}
	}
	big := NewDedup(1 << 12)
	for i := range 100000 {
		if big.Seen("aws", fmt.Sprint(i)) {
			t.Fatalf("false duplicate at %d", i)
		}
	}
}

// s3Env points the SDK's default chain at static test credentials and away from the host's
// configuration and instance metadata.
func s3Env(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
}

func TestS3OrgTrail(t *testing.T) {
	s3Env(t)
	sim, err := s3sim.New()
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	sim.PageSize = 2 // pagination with few objects
	const org = "AWSLogs/o-abc123/"
	for _, acct := range []string{"111122223333", "444455556666"} {
		for d := 1; d <= 3; d++ {
			k := fmt.Sprintf("%s%s/CloudTrail/us-east-1/2024/03/%02d/%s_CloudTrail_us-east-1_202403%02dT1000Z_x.json.gz", org, acct, d, acct, d)
			sim.Put("trail", k, gz(t, trail(fmt.Sprintf("%s-%d", acct, d), 7, fmt.Sprintf("2024-03-%02d", d))))
		}
		sim.Put("trail", org+acct+"/CloudTrail-Digest/us-east-1/2024/03/01/"+acct+"_CloudTrail-Digest_us-east-1_t_20240301T010000Z.json.gz", gz(t, []byte(digestBody)))
	}
	sim.Put("trail", "other/ignored.json", trail("zzz", 3, "2024-03-01"))

	ctx := context.Background()
	src, err := Open(ctx, "s3://trail/"+org, Options{EndpointURL: sim.URL, Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	evs := collect(t, src, 0)
	src.Close()
	st := src.Stats()
	if len(evs) != 42 || st.Objects != 6 || st.DigestObjects != 2 || st.Bad != 0 {
		t.Fatalf("%d events, stats %+v", len(evs), st)
	}
	if !strings.HasPrefix(evs[0].Origin.Source, "s3://trail/"+org) {
		t.Errorf("origin %q", evs[0].Origin.Source)
	}
	lists, gets := 0, 0
	for _, c := range sim.Calls() {
		switch c.Op {
		case "ListObjectsV2":
			lists++
			if c.Query.Get("prefix") != org {
				t.Errorf("listed prefix %q", c.Query.Get("prefix"))
			}
		case "GetObject":
			gets++
			if strings.Contains(c.Key, "Digest") {
				t.Errorf("digest object read: %s", c.Key)
			}
		default:
			t.Errorf("unexpected call %+v", c)
		}
	}
	// 8 keys under the prefix, 2 a page: 4 pages.
	if lists != 4 || gets != 6 {
		t.Errorf("%d lists, %d gets", lists, gets)
	}

	// A key-date window reads only the objects of its days.
	sim.ResetCalls()
	src, _ = Open(ctx, "s3://trail/"+org, Options{EndpointURL: sim.URL, From: time.Date(2024, 3, 2, 0, 0, 0, 0, time.UTC), To: time.Date(2024, 3, 2, 23, 0, 0, 0, time.UTC)})
	evs = collect(t, src, 0)
	src.Close()
	if st := src.Stats(); len(evs) != 14 || st.Objects != 2 || st.OutOfWindow != 4 {
		t.Fatalf("window: %d events, stats %+v", len(evs), st)
	}
}

func TestS3CheckpointResume(t *testing.T) {
	s3Env(t)
	sim, err := s3sim.New()
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	for d := 1; d <= 4; d++ {
		k := fmt.Sprintf("AWSLogs/111122223333/CloudTrail/us-east-1/2024/03/%02d/f.json.gz", d)
		sim.Put("b", k, gz(t, trail(fmt.Sprintf("d%d", d), 10, fmt.Sprintf("2024-03-%02d", d))))
	}
	ckpt := filepath.Join(t.TempDir(), "state.json")
	opt := Options{EndpointURL: sim.URL, Checkpoint: ckpt}
	ctx := context.Background()
	seen := map[string]int{}
	// Stop three times mid-way: after 15 events (mid second object), after 10 more, then read on.
	for _, stop := range []int{15, 10, 0} {
		src, err := Open(ctx, "s3://b/AWSLogs/", opt)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range collect(t, src, stop) {
			seen[ev.ID]++
		}
		if err := src.Close(); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(ckpt)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Fatalf("checkpoint mode %v", fi.Mode().Perm())
		}
	}
	if len(seen) != 40 {
		t.Fatalf("%d distinct events, want 40", len(seen))
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("%s delivered %d times", id, n)
		}
	}
	// A fourth run has nothing left and reads no object.
	sim.ResetCalls()
	src, _ := Open(ctx, "s3://b/AWSLogs/", opt)
	if evs := collect(t, src, 0); len(evs) != 0 {
		t.Fatalf("%d events after the end", len(evs))
	}
	src.Close()
	for _, c := range sim.Calls() {
		if c.Op == "GetObject" {
			t.Errorf("read %s again", c.Key)
		}
		if c.Op == "ListObjectsV2" && !strings.HasSuffix(c.Query.Get("start-after"), "04/f.json.gz") {
			t.Errorf("listing did not resume: %v", c.Query)
		}
	}
	b, _ := os.ReadFile(ckpt)
	if !strings.Contains(string(b), `"done": "AWSLogs/111122223333/CloudTrail/us-east-1/2024/03/04/f.json.gz"`) {
		t.Errorf("checkpoint: %s", b)
	}
}

func TestCorruptObjectIsSkipped(t *testing.T) {
	root := t.TempDir()
	os.WriteFile(filepath.Join(root, "a.json.gz"), []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3}, 0o644)
	os.WriteFile(filepath.Join(root, "b.json"), trail("b", 3, "2024-03-01"), 0o644)
	src, _ := Open(context.Background(), root, Options{})
	defer src.Close()
	n, objErr := 0, 0
	for _, err := range src.Events(context.Background()) {
		if err != nil {
			if !IsNonFatal(err) {
				t.Fatal(err)
			}
			objErr++
			continue
		}
		n++
	}
	if n != 3 || objErr != 1 || src.Stats().BadObjects != 1 {
		t.Fatalf("%d events, %d errors, %+v", n, objErr, src.Stats())
	}
}
