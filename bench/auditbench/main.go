// Command auditbench times `snapwatch audit aws` against the simulator: an estate of 100k EBS
// snapshots, 10k AMIs and 5k RDS snapshots over 5 accounts × 17 regions, with 50 ms latency
// and a throttle of 100 requests/s per account, region and service. It prints the wall time,
// the API calls made against the minimum the audit needs (and what a per-resource peer
// would make), the throttled attempts and the peak RSS. Run it through bench/audit.sh.
package main

import (
	"context"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	awscollector "github.com/snapwatch/snapwatch/internal/cloud/aws"
	"github.com/snapwatch/snapwatch/internal/cloudsim"
	"github.com/snapwatch/snapwatch/internal/posture"
)

func main() {
	var (
		snapshots   = flag.Int("snapshots", 100_000, "EBS snapshots")
		images      = flag.Int("images", 10_000, "AMIs")
		rds         = flag.Int("rds", 5_000, "RDS snapshots (half DB, half cluster)")
		accounts    = flag.Int("accounts", 5, "accounts")
		latency     = flag.Duration("latency", 50*time.Millisecond, "simulated latency per call")
		throttle    = flag.Float64("throttle", 100, "requests/s per account, region and service (0 = none)")
		concurrency = flag.Int("concurrency", 8, "Options.Concurrency")
		public      = flag.Float64("public", 0.01, "fraction public")
		shared      = flag.Float64("shared", 0.02, "fraction shared")
		unenc       = flag.Float64("unencrypted", 0.2, "fraction unencrypted (the rest use aws/ebs, as encryption by default does)")
		cpuprofile  = flag.String("cpuprofile", "", "write a CPU profile of the audit to this file")
	)
	flag.Parse()

	spec := cloudsim.GenSpec{Accounts: *accounts, Snapshots: *snapshots, Images: *images, DBSnapshots: *rds / 2,
		ClusterSnapshots: *rds - *rds/2, PublicFraction: *public, SharedFraction: *shared, UnencryptedFraction: *unenc, Seed: 1}
	est := cloudsim.GenerateEstate(spec)
	floor := minimum(est, *accounts)
	sim, err := cloudsim.NewAWS(est, cloudsim.Options{Latency: *latency, Throttle: cloudsim.Rate{PerSecond: *throttle}})
	if err != nil {
		fail(err)
	}
	defer sim.Close()
	isolate()
	runtime.GC()
	baseRSS := rss("VmRSS")

	var done atomic.Int32
	ctx := context.Background()
	stop := make(chan struct{})
	start := time.Now()
	go func() {
		t := time.NewTicker(10 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				fmt.Fprintf(os.Stderr, "  %s: %d scopes done\n", time.Since(start).Round(time.Second), done.Load())
			}
		}
	}()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fail(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fail(err)
		}
	}
	inv, st, err := awscollector.Collect(ctx, awscollector.Options{OrgRole: cloudsim.GeneratedRole, EndpointURL: sim.URL(),
		Concurrency: *concurrency, Progress: func(awscollector.Progress) { done.Add(1) }})
	close(stop)
	wall := time.Since(start)
	pprof.StopCPUProfile()
	if err != nil {
		fmt.Printf("collect error: %v\n", err)
	}
	peak := rss("VmHWM") // before posture.Check, whose 300k findings are not the collector's
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	heap := ms.HeapAlloc

	t0 := time.Now()
	fs := posture.Check(inv, posture.Config{})
	checkTime := time.Since(t0)

	fmt.Printf("estate: %d snapshots, %d AMIs, %d RDS snapshots; %d accounts × %d regions; latency %s; throttle %.0f req/s per account+region+service; concurrency %d\n",
		*snapshots, *images, *rds, *accounts, len(cloudsim.DefaultRegions()), *latency, *throttle, *concurrency)
	fmt.Printf("wall time: %s (%d scopes)\n", wall.Round(100*time.Millisecond), done.Load())
	fmt.Printf("inventory: %d snapshot records, %d images, %d guards, %d errors; heap after collect %.0f MB\n",
		len(inv.Snapshots), len(inv.Images), len(inv.Guards), len(inv.Errors), float64(heap)/(1<<20))
	fmt.Printf("posture.Check: %d findings in %s\n", len(fs), checkTime.Round(time.Millisecond))
	fmt.Printf("API calls: %d attempts (%d retries, %d throttled); minimum %d; a per-resource peer: %d\n",
		st.Calls, st.Retries, st.Throttled, floor.total(), floor.naive)
	fmt.Printf("%-48s %9s %9s\n", "action", "made", "minimum")
	keys := make([]string, 0, len(st.CallsByAction))
	for k := range st.CallsByAction {
		keys = append(keys, k)
	}
	for k := range floor.by {
		if _, ok := st.CallsByAction[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Printf("%-48s %9d %9d\n", k, st.CallsByAction[k], floor.by[k])
	}
	fmt.Printf("peak RSS during the audit: %.0f MB (process, simulator included; %.0f MB before the audit); after posture.Check: %.0f MB\n",
		peak/1024, baseRSS/1024, rss("VmHWM")/1024)
}

// calls is the minimum number of calls per action.
type calls struct {
	by    map[string]int
	naive int // what a peer making one attribute call per resource would make instead of ours
}

func (c calls) total() int {
	n := 0
	for _, v := range c.by {
		n += v
	}
	return n
}

func pages(n, size int) int { return max(1, int(math.Ceil(float64(n)/float64(size)))) }

// minimum counts the calls an audit of the estate cannot do without. Listings: one page per
// 1,000 snapshots, AMIs and volumes and per 100 RDS snapshots, at least one each; one page per
// 100 DB instances, DB clusters and Redshift clusters where a manual snapshot's source is to be
// looked up. One call per
// account and region for each guard, the key aliases, the public-snapshot filter, the Recycle
// Bin (two), the export task listings (three), DLM and Redshift. Sharing: AWS has no batch or
// filter for "shared with some account", so one attribute call per snapshot, AMI and manual
// RDS snapshot that AWS lets be shared (unencrypted, or under a customer key) is the floor; the
// generated estate encrypts the rest with aws/ebs, which AWS never lets be shared. Plus the
// session: GetCallerIdentity, the organisation (DescribeOrganization, ListAccounts, ListRoots,
// one OU listing per parent), one AssumeRole per member and one DescribeRegions per account.
func minimum(e *cloudsim.Estate, accounts int) calls {
	c := calls{by: map[string]int{}}
	add := func(k string, n int) { c.by[k] += n }
	add("sts:GetCallerIdentity", 1)
	add("sts:AssumeRole", accounts-1)
	add("organizations:DescribeOrganization", 1)
	add("organizations:ListAccounts", pages(accounts, 20))
	add("organizations:ListRoots", 1)
	add("organizations:ListOrganizationalUnitsForParent", 2) // the root and the one OU
	add("ec2:DescribeRegions", accounts)
	for _, a := range e.Accounts {
		for rname, r := range a.Regions {
			add("ec2:GetSnapshotBlockPublicAccessState", 1)
			add("ec2:GetImageBlockPublicAccessState", 1)
			add("ec2:GetEbsEncryptionByDefault", 1)
			add("ec2:GetEbsDefaultKmsKeyId", 1)
			add("kms:ListAliases", 1)
			add("ec2:DescribeSnapshots", pages(len(r.Snapshots), 1000)+1) // owned + public filter
			add("ec2:DescribeImages", pages(len(r.Images), 1000))
			add("ec2:DescribeVolumes", 1)
			add("ec2:ListSnapshotsInRecycleBin", 1)
			add("ec2:ListImagesInRecycleBin", 1)
			add("ec2:DescribeStoreImageTasks", 1)
			add("ec2:DescribeExportImageTasks", 1)
			add("ec2:DescribeExportTasks", 1)
			add("dlm:GetLifecyclePolicies", 1)
			add("rds:DescribeDBSnapshots", pages(len(r.DBSnapshots), 100))
			add("rds:DescribeDBClusterSnapshots", pages(len(r.DBClusterSnaps), 100))
			add("redshift:DescribeClusterSnapshots", 1)
			// Whether the sources of manual snapshots exist: one listing of each kind, only where
			// a manual snapshot that is not a copy names its instance or cluster.
			if lookedUp(r.DBSnapshots) {
				add("rds:DescribeDBInstances", pages(len(r.DBInstances), 100))
			}
			if lookedUp(r.DBClusterSnaps) {
				add("rds:DescribeDBClusters", pages(len(r.DBClusters), 100))
			}
			for _, s := range r.RedshiftSnapshots {
				if (s.Type == "" || s.Type == "manual") && s.ClusterID != "" && (s.SourceRegion == "" || s.SourceRegion == rname) {
					add("redshift:DescribeClusters", pages(len(r.RedshiftClusters), 100))
					break
				}
			}
			snapEnc := map[string]bool{}
			for _, s := range r.Snapshots {
				snapEnc[s.ID] = s.Encrypted && (s.KMSKey == "" || strings.Contains(s.KMSKey, "aws/"))
				if !snapEnc[s.ID] {
					add("ec2:DescribeSnapshotAttribute", 1)
				}
			}
			for _, im := range r.Images {
				ok := !im.Disabled
				for _, bd := range im.BlockDevices {
					ok = ok && !snapEnc[bd.SnapshotID]
				}
				if ok {
					add("ec2:DescribeImageAttribute", 1)
				}
			}
			for _, s := range r.DBSnapshots {
				if (s.Type == "" || s.Type == "manual") && !(s.Encrypted && s.KMSKey == "") {
					add("rds:DescribeDBSnapshotAttributes", 1)
				}
			}
			for _, s := range r.DBClusterSnaps {
				if (s.Type == "" || s.Type == "manual") && !(s.Encrypted && s.KMSKey == "") {
					add("rds:DescribeDBClusterSnapshotAttributes", 1)
				}
			}
			c.naive += len(r.Snapshots) + len(r.Images) + len(r.DBSnapshots) + len(r.DBClusterSnaps)
		}
	}
	attr := c.by["ec2:DescribeSnapshotAttribute"] + c.by["ec2:DescribeImageAttribute"] +
		c.by["rds:DescribeDBSnapshotAttributes"] + c.by["rds:DescribeDBClusterSnapshotAttributes"]
	c.naive += c.total() - attr
	return c
}

// lookedUp reports whether a region's RDS snapshots include one whose source the audit looks
// up: manual, naming its instance or cluster, not a copy from another region or account.
func lookedUp(ss []cloudsim.DBSnapshot) bool {
	for _, s := range ss {
		if (s.Type == "" || s.Type == "manual") && s.SourceID != "" && s.CopiedFrom == "" {
			return true
		}
	}
	return false
}

// isolate points the SDK's default chain at the generated management user and nothing else.
func isolate() {
	dir, err := os.MkdirTemp("", "auditbench")
	if err != nil {
		fail(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		fail(err)
	}
	for k, v := range map[string]string{"AWS_ACCESS_KEY_ID": cloudsim.GeneratedAccessKey, "AWS_SECRET_ACCESS_KEY": cloudsim.GeneratedSecret,
		"AWS_REGION": "us-east-1", "AWS_CONFIG_FILE": empty, "AWS_SHARED_CREDENTIALS_FILE": empty, "AWS_EC2_METADATA_DISABLED": "true"} {
		os.Setenv(k, v)
	}
	for _, k := range []string{"AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE"} {
		os.Unsetenv(k)
	}
}

// rss reads a /proc/self/status field in KiB.
func rss(field string) float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			var kb float64
			fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), &kb)
			return kb
		}
	}
	return 0
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "auditbench:", err)
	os.Exit(2)
}
