package cli

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/snapwatch/snapwatch/internal/config"
	"github.com/snapwatch/snapwatch/internal/detect"
	"github.com/snapwatch/snapwatch/internal/event"
	"github.com/snapwatch/snapwatch/internal/finding"
	"github.com/snapwatch/snapwatch/internal/ingest"
	"github.com/snapwatch/snapwatch/internal/report"
)

type detectOptions struct {
	resultFlags
	configPath                     string
	endpointURL, region, from, to  string
	checkpoint, rulesDir, sigmaDir string
	trusted, orgAccounts           []string
	maxErrors                      int
}

func newDetect() *cobra.Command {
	var o detectOptions
	cmd := &cobra.Command{
		Use:   "detect PATH|URI...",
		Short: "Hunt in audit logs for snapshot and image leaks (CloudTrail, Azure Activity Log, GCP Audit Logs)",
		Long: `detect reads audit logs — files, directories, .gz, s3://bucket/prefix (org-trail layouts
included), or - for standard input — in CloudTrail, Azure Activity Log or GCP Audit Log format
(sniffed per file), and alerts on what opens, uses or widens an exposure: shares to the public
or outside the organisation, SAS exports, image exports, guards turned off, bulk block reads,
copies to unused regions followed by a share. Each share is followed to its revocation: alerts
carry the exposure's timeline and say whether it is still open.

Who is inside the organisation comes from [trust] in --config (and --org-account /
--trusted-account); without it, only the account that owns a resource counts as inside.
Bad records are counted and reported, never fatal; memory stays constant whatever the input size.`,
		Example: `  snapwatch detect ./AWSLogs
  snapwatch detect --config snapwatch.toml --format sarif -o alerts.sarif s3://trail-bucket/AWSLogs/o-abc123/
  snapwatch detect --org-account 111111111111 --fail-on high activity-log.json`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runDetect(cmd, args, o) },
	}
	f := cmd.Flags()
	o.resultFlags.register(f, "an alert")
	f.StringVar(&o.configPath, "config", "", "configuration file (TOML): [trust] and [detect]")
	f.StringVar(&o.endpointURL, "endpoint-url", "", "S3 endpoint override (path-style), as the AWS CLI's --endpoint-url")
	f.StringVar(&o.region, "region", "", "AWS region of the S3 bucket (default: the credential chain's)")
	f.StringVar(&o.from, "from", "", "read only objects dated on or after this day (YYYY-MM-DD, from the key)")
	f.StringVar(&o.to, "to", "", "read only objects dated on or before this day (YYYY-MM-DD)")
	f.StringVar(&o.checkpoint, "checkpoint", "", "state file to resume from and update (mode 0600)")
	f.StringVar(&o.rulesDir, "rules-dir", "", "directory of extra or overriding detection rules (TOML)")
	f.StringVar(&o.sigmaDir, "sigma-dir", "", "directory of Sigma rules to run beside the native ones (e.g. a SigmaHQ checkout's rules/cloud)")
	f.StringArrayVar(&o.orgAccounts, "org-account", nil, "an account inside the organisation (repeatable; adds to [trust] aws_accounts)")
	f.StringArrayVar(&o.trusted, "trusted-account", nil, "an approved outside account (repeatable)")
	f.IntVar(&o.maxErrors, "max-errors", 1000, "error records kept in the result (the rest are counted)")
	return cmd
}

func runDetect(cmd *cobra.Command, args []string, o detectOptions) error {
	ctx := cmd.Context()
	format, failOn, failOnSet, err := o.parse()
	if err != nil {
		return err
	}
	cfg, err := config.Load(o.configPath)
	if err != nil {
		return fmt.Errorf("--config: %w", err)
	}
	from, to, err := parseDays(o.from, o.to)
	if err != nil {
		return err
	}
	dcfg := detectConfig(cfg, o)
	engine, err := detect.New(dcfg)
	if err != nil {
		return fmt.Errorf("detection rules: %w", err)
	}
	res := &report.Result{
		Tool:    report.ToolInfo{Name: "snapwatch", Version: version, CommandLine: "snapwatch " + strings.Join(os.Args[1:], " ")},
		Command: "detect", Targets: args, Started: time.Now(),
	}
	h := &hunt{engine: engine, byID: map[string]int{}, maxErrors: o.maxErrors, res: res}
	dedup := ingest.NewDedup(ingest.DefaultDedupSize)
	var total ingest.Stats
	for _, uri := range args {
		src, err := ingest.Open(ctx, uri, ingest.Options{
			Event:       event.Options{All: dcfg.SigmaDir != ""}, // Sigma rules read the whole record
			EndpointURL: o.endpointURL, Region: o.region, From: from, To: to,
			Checkpoint: o.checkpoint, Dedup: dedup,
		})
		if err != nil {
			h.fail(uri, "", err)
			continue
		}
		for ev, err := range src.Events(ctx) {
			if err != nil {
				h.fail(uri, "", err)
				if !ingest.IsNonFatal(err) {
					break
				}
				continue
			}
			h.add(engine.Process(ev))
		}
		addStats(&total, src.Stats())
		if err := src.Close(); err != nil {
			h.fail(uri, "checkpoint", err)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	h.add(engine.Flush())
	res.Finished = time.Now()
	res.Stats = detectStats(total, engine, h, res.Finished.Sub(res.Started))
	if err := writeResult(cmd, format, o.output, res); err != nil {
		return err
	}
	if code := report.ExitCode(res, failOn, failOnSet); code != 0 {
		if code == ExitError {
			fmt.Fprintf(cmd.ErrOrStderr(), "snapwatch: detect: %d problem(s) while reading the logs (see errors)\n", h.errors)
		}
		return &exitError{code: code}
	}
	return nil
}

// hunt gathers the alerts of one run: the engine re-issues an alert with the same id when it
// learns more (Flush adds the final timeline and status), so the last one wins.
type hunt struct {
	engine    *detect.Engine
	res       *report.Result
	byID      map[string]int
	errors    int
	maxErrors int
}

func (h *hunt) add(fs []finding.Finding) {
	for _, f := range fs {
		if i, ok := h.byID[f.ID]; ok {
			h.res.Findings[i] = f
			continue
		}
		h.byID[f.ID] = len(h.res.Findings)
		h.res.Findings = append(h.res.Findings, f)
	}
}

func (h *hunt) fail(target, where string, err error) {
	h.errors++
	if len(h.res.Errors) < h.maxErrors {
		h.res.Errors = append(h.res.Errors, report.ErrorRecord{Target: target, Where: where, Message: err.Error()})
	}
}

func detectConfig(cfg *config.Config, o detectOptions) detect.Config {
	d := detect.Config{
		Trust:    trustConfig(cfg.Trust, o.orgAccounts, o.trusted),
		RulesDir: cfg.Detect.RulesDir, SigmaDir: cfg.Detect.SigmaDir, CopyWindow: cfg.Detect.CopyWindow.Duration,
	}
	if o.rulesDir != "" {
		d.RulesDir = o.rulesDir
	}
	if o.sigmaDir != "" {
		d.SigmaDir = o.sigmaDir
	}
	if len(cfg.Detect.Bursts) > 0 {
		d.Bursts = map[string]detect.BurstLimit{}
		for id, b := range cfg.Detect.Bursts {
			d.Bursts[id] = detect.BurstLimit{Threshold: b.Threshold, Window: b.Window.Duration}
		}
	}
	return d
}

func parseDays(from, to string) (time.Time, time.Time, error) {
	var f, t time.Time
	var err error
	if from != "" {
		if f, err = time.Parse("2006-01-02", from); err != nil {
			return f, t, errors.New("--from: want a day as YYYY-MM-DD")
		}
	}
	if to != "" {
		if t, err = time.Parse("2006-01-02", to); err != nil {
			return f, t, errors.New("--to: want a day as YYYY-MM-DD")
		}
	}
	return f, t, nil
}

func addStats(total *ingest.Stats, s ingest.Stats) {
	total.Records += s.Records
	total.Events += s.Events
	total.Partial += s.Partial
	total.Bad += s.Bad
	total.Digests += s.Digests
	total.Skipped += s.Skipped
	total.Collapsed += s.Collapsed
	total.Bytes += s.Bytes
	total.Objects += s.Objects
	total.DigestObjects += s.DigestObjects
	total.OutOfWindow += s.OutOfWindow
	total.BadObjects += s.BadObjects
	total.Duplicates += s.Duplicates
}

func detectStats(s ingest.Stats, e *detect.Engine, h *hunt, took time.Duration) map[string]any {
	m := statsMap(s)
	delete(m, "resumed_after")
	m["alerts"] = len(h.res.Findings)
	m["errors"] = h.errors
	m["seconds"] = took.Seconds()
	if took > 0 {
		m["records_per_second"] = float64(s.Records) / took.Seconds()
	}
	var open, closed int
	exposures := e.Exposures()
	for _, x := range exposures {
		if x.State == "open" {
			open++
		} else {
			closed++
		}
	}
	m["exposures_open"], m["exposures_closed"] = open, closed
	m["exposures"] = exposures
	m["boundary_known"] = e.Boundary().Known()
	return m
}
