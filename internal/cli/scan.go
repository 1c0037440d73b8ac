package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/snapwatch/snapwatch/internal/contentscan"
	"github.com/snapwatch/snapwatch/internal/finding"
	"github.com/snapwatch/snapwatch/internal/report"
	"github.com/snapwatch/snapwatch/internal/secret"
	"github.com/snapwatch/snapwatch/internal/target"
)

type scanOptions struct {
	resultFlags
	progress                     string
	maxFile, maxTotal            string
	residual, allowBacking       bool
	noArchives, noDefaultRules   bool
	workers                      int
	rules, fileRules             []string
	region, profile, endpointURL string // cloud targets (ebs:, ami:)
	base                         string // incremental scan of an ebs: target
}

func newScan() *cobra.Command {
	var o scanOptions
	cmd := &cobra.Command{
		Use:   "scan TARGET...",
		Short: "Find secrets and sensitive files in disk images, snapshots and directories",
		Long: `scan reads each target without mounting it and reports what would hurt if it leaked:
credentials, private keys, tokens, password hashes, database files — in live files, inside
archives and compressed files, and with --residual in deleted files and unallocated space.

TARGET is a directory, a disk image of any format inspect reads (raw, qcow2, VMDK, VHD, VHDX,
OVA), file:PATH, ebs:SNAP_ID (read through the EBS direct API with the default AWS credentials)
or ami:AMI_ID (every EBS volume of the AMI). Secrets are never printed in full: findings show the first 4 characters and
a sha256.

Exit codes: 0 nothing at or above --fail-on (or no --fail-on given), 1 findings at or above it,
2 an error left the result incomplete (a volume or file could not be read).`,
		Example: `  snapwatch scan disk.qcow2
  snapwatch scan --residual --fail-on high --format sarif -o scan.sarif export.vmdk
  snapwatch scan ./rootfs
  snapwatch scan --region eu-west-1 ebs:snap-0123456789abcdef0
  snapwatch scan --base auto ebs:snap-0123456789abcdef0`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runScan(cmd, args, o) },
	}
	f := cmd.Flags()
	o.resultFlags.register(f, "a finding")
	f.BoolVar(&o.residual, "residual", false, "also scan deleted files and unallocated space")
	f.BoolVar(&o.allowBacking, "allow-backing", false, "follow backing/parent files named inside images")
	f.BoolVar(&o.noArchives, "no-archives", false, "do not look inside archives and compressed files")
	f.StringVar(&o.maxFile, "max-file-size", "256MiB", "bytes read of one file; the rest is skipped and counted")
	f.StringVar(&o.maxTotal, "max-total-size", "0", "stop reading after this many bytes in all (0: no limit)")
	f.IntVar(&o.workers, "workers", 0, "files read in parallel (default: one per CPU plus two)")
	f.StringArrayVar(&o.rules, "rules", nil, "extra secret rules: a snapwatch or gitleaks TOML file (repeatable)")
	f.BoolVar(&o.noDefaultRules, "no-default-rules", false, "use only the rules given with --rules")
	f.StringArrayVar(&o.fileRules, "file-rules", nil, "extra sensitive-file signatures (TOML, repeatable)")
	f.StringVar(&o.progress, "progress", "auto", "progress on standard error: auto (when it is a terminal), always, never")
	f.StringVar(&o.region, "region", "", "cloud targets: AWS region of the snapshot or AMI (default: the credential chain's)")
	f.StringVar(&o.profile, "profile", "", "cloud targets: AWS shared-config profile")
	f.StringVar(&o.endpointURL, "endpoint-url", "", "cloud targets: one endpoint for every AWS service (a simulator or a proxy)")
	f.StringVar(&o.base, "base", "", "ebs:/ami: targets: scan only what changed since this snapshot id (ebs:) or AMI id (ami:), or \"auto\" for the previous snapshot of each volume")
	return cmd
}

func runScan(cmd *cobra.Command, args []string, o scanOptions) error {
	ctx := cmd.Context()
	stderr := cmd.ErrOrStderr()
	format, failOn, failOnSet, err := o.parse()
	if err != nil {
		return err
	}
	maxFile, err := parseSize(o.maxFile)
	if err != nil {
		return fmt.Errorf("--max-file-size: %w", err)
	}
	maxTotal, err := parseSize(o.maxTotal)
	if err != nil {
		return fmt.Errorf("--max-total-size: %w", err)
	}
	rules, err := secret.Load(!o.noDefaultRules, o.rules...)
	if err != nil {
		return fmt.Errorf("rules: %w", err)
	}
	cat, err := secret.LoadCatalogue(true, o.fileRules...)
	if err != nil {
		return fmt.Errorf("file rules: %w", err)
	}
	sc := contentscan.New(contentscan.Options{
		Workers: o.workers, MaxFileBytes: maxFile, MaxTotalBytes: maxTotal, Residual: o.residual,
		NoArchives: o.noArchives, Secrets: rules, Catalogue: cat,
	})
	res := &report.Result{
		Tool:    report.ToolInfo{Name: "snapwatch", Version: version, CommandLine: "snapwatch " + strings.Join(os.Args[1:], " ")},
		Command: "scan", Targets: args, Started: time.Now(),
	}
	bar := newProgressBar(stderr, o.progress, sc)
	var sources []any // what reading each cloud source cost
	for _, spec := range args {
		t, err := target.Open(ctx, spec, target.Options{AllowBacking: o.allowBacking,
			Region: o.region, Profile: o.profile, EndpointURL: o.endpointURL, Base: o.base})
		if err != nil {
			res.Errors = append(res.Errors, report.ErrorRecord{Target: spec, Message: err.Error()})
			continue
		}
		for _, w := range t.Warnings {
			fmt.Fprintf(stderr, "snapwatch: %s: warning: %s\n", spec, w)
		}
		if bar.enabled() {
			sc.Count(ctx, t)
		}
		bar.start()
		err = sc.Scan(ctx, t)
		bar.stop()
		if t.SourceStats != nil {
			sources = append(sources, t.SourceStats()...)
		}
		t.Close()
		if err != nil {
			return err
		}
	}
	res.Finished = time.Now()
	res.Findings = sc.Findings()
	for _, e := range sc.Errors() {
		res.Errors = append(res.Errors, report.ErrorRecord{Target: e.Target, Where: e.Where, Message: e.Message})
	}
	res.Stats = statsMap(sc.Stats())
	if len(sources) > 0 {
		res.Stats["sources"] = statsList(sources)
	}
	if err := writeResult(cmd, format, o.output, res); err != nil {
		return err
	}
	if code := report.ExitCode(res, failOn, failOnSet); code != 0 {
		if code == ExitError {
			fmt.Fprintf(stderr, "snapwatch: scan: %d error(s) left the result incomplete\n", len(res.Errors))
		}
		return &exitError{code: code}
	}
	return nil
}

// writeResult writes a result in a format, to --output (0600) or standard output.
func writeResult(cmd *cobra.Command, format report.Format, output string, res *report.Result) error {
	w, done, err := openOutput(output, cmd.OutOrStdout())
	if err != nil {
		return err
	}
	opt := report.Options{Color: output == "" && isTerminal(os.Stdout), Width: terminalWidth()}
	if err := report.Write(w, format, res, opt); err != nil {
		done()
		return err
	}
	return done()
}

// pickFormat defaults to a table for people and JSON for pipes and files.
func pickFormat(name, output string) (report.Format, error) {
	if name == "" {
		if output == "" && isTerminal(os.Stdout) {
			return report.FormatTable, nil
		}
		return report.FormatJSON, nil
	}
	return report.ParseFormat(name)
}

func parseFailOn(s string) (finding.Severity, bool, error) {
	if s == "" {
		return finding.Info, false, nil
	}
	sev, err := finding.ParseSeverity(s)
	if err != nil {
		return 0, false, fmt.Errorf("--fail-on: %w", err)
	}
	return sev, true, nil
}

// statsList turns stats structs into the JSON-shaped values a report carries.
func statsList(vs []any) []any {
	out := make([]any, len(vs))
	for i, v := range vs {
		out[i] = statsMap(v)
	}
	return out
}

// statsMap turns a stats struct into the map a report carries, through its JSON form so the
// field names are the same everywhere.
func statsMap(v any) map[string]any {
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var m map[string]any
	json.Unmarshal(b, &m)
	return m
}
