package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	awscollect "github.com/snapwatch/snapwatch/internal/cloud/aws"
	"github.com/snapwatch/snapwatch/internal/config"
	"github.com/snapwatch/snapwatch/internal/finding"
	"github.com/snapwatch/snapwatch/internal/posture"
	"github.com/snapwatch/snapwatch/internal/report"
)

type auditOptions struct {
	resultFlags
	configPath, progress                          string
	regions, accounts, include, trusted, orgAccts []string
	orgRole, profile, endpointURL                 string
	concurrency                                   int
	publicSearch, listChecks                      bool
	content                                       contentOptions
}

func newAudit() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Audit who can reach your snapshots and images, and what they hold",
		Long: `audit reads a cloud organisation's snapshots, images and account guards and reports which
are public, shared outside the organisation, one setting away from public, unencrypted, stale
or orphaned, and which guards are off. With --scan-content it reads the disks that are exposed
and grades each exposure by what is on it. It makes read calls only.`,
	}
	cmd.AddCommand(newAuditAWS())
	return cmd
}

func newAuditAWS() *cobra.Command {
	var o auditOptions
	cmd := &cobra.Command{
		Use:   "aws",
		Short: "Audit EBS snapshots, AMIs, RDS/Aurora/DocumentDB/Neptune and Redshift snapshots across an AWS organisation",
		Long: `audit aws reads every enabled region (or --regions) of the caller's account, or of every
account of the AWS Organization with --org-role (the role snapwatch assumes in each member
account; the IAM policy it needs is in docs/design/cloud-aws.md). Credentials come from the AWS
SDK's default chain (environment, --profile, SSO, instance role).

Who is inside the organisation comes from AWS Organizations, [trust] in --config, and
--org-account / --trusted-account. A share to anyone else is a leak.

--scan-content exposed (the default) reads the content of every public, externally shared or
latent-public EBS snapshot and AMI through the EBS direct API and raises the exposure's
severity by what it holds: a public or external share holding a cloud key or a private key is
critical. Results are cached by snapshot id (snapshots never change).

Exit codes: 0 nothing at or above --fail-on, 1 findings at or above it, 2 a region, account or
snapshot could not be read (the partial result is still printed).`,
		Example: `  snapwatch audit aws
  snapwatch audit aws --org-role SnapwatchAudit --config snapwatch.toml --format html -o audit.html
  snapwatch audit aws --regions eu-west-1,us-east-1 --scan-content none --fail-on high
  snapwatch audit aws --list-checks`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.listChecks {
				return listChecks(cmd, o.format)
			}
			if _, _, _, err := o.parse(); err != nil {
				return err
			}
			res, err := auditAWS(cmd, o, nil)
			if err != nil {
				return err
			}
			return finishAudit(cmd, o, res)
		},
	}
	f := cmd.Flags()
	o.resultFlags.register(f, "a finding")
	f.StringVar(&o.configPath, "config", "", "configuration file (TOML): [trust] and [audit]")
	f.StringSliceVar(&o.regions, "regions", nil, "regions to read (default: every region enabled in each account)")
	f.StringSliceVar(&o.accounts, "accounts", nil, "accounts to read (default: every active account of the organisation with --org-role, else the caller's)")
	f.StringVar(&o.orgRole, "org-role", "", "role name to assume in each member account of the organisation")
	f.StringVar(&o.profile, "profile", "", "AWS shared-config profile")
	f.StringVar(&o.endpointURL, "endpoint-url", "", "one endpoint for every AWS service (a simulator or a proxy)")
	f.IntVar(&o.concurrency, "concurrency", 0, "most API calls in flight per account and region (default 8; lowered on throttling)")
	f.BoolVar(&o.publicSearch, "public-search", false, "also list the public snapshots and AMIs of each region owned by the organisation, as an outsider sees them")
	f.StringSliceVar(&o.include, "include", nil, "resource families: ebs, ami, rds, redshift, rbin, exports, dlm, guards (default all)")
	f.StringArrayVar(&o.orgAccts, "org-account", nil, "an account inside the organisation (repeatable; adds to [trust] aws_accounts)")
	f.StringArrayVar(&o.trusted, "trusted-account", nil, "an approved outside account (repeatable)")
	f.BoolVar(&o.listChecks, "list-checks", false, "list the checks and exit")
	f.StringVar(&o.progress, "progress", "auto", "progress on standard error: auto, always, never")
	o.content.flags(f)
	return cmd
}

// auditAWS collects, judges and scans what is exposed. adjust lets the demo set collector
// options the flags do not carry.
func auditAWS(cmd *cobra.Command, o auditOptions, adjust func(*awscollect.Options)) (*report.Result, error) {
	ctx := cmd.Context()
	stderr := cmd.ErrOrStderr()
	cfg, err := config.Load(o.configPath)
	if err != nil {
		return nil, fmt.Errorf("--config: %w", err)
	}
	pcfg, err := postureConfig(cfg, o)
	if err != nil {
		return nil, err
	}
	content, err := o.content.prepare()
	if err != nil {
		return nil, err
	}
	copt := awscollect.Options{
		Regions: o.regions, Accounts: o.accounts, OrgRole: o.orgRole, Profile: o.profile,
		EndpointURL: o.endpointURL, Concurrency: o.concurrency, PublicSearch: o.publicSearch, Include: o.include,
	}
	if showProgress(stderr, o.progress) {
		copt.Progress = func(p awscollect.Progress) {
			fmt.Fprintf(stderr, "\rsnapwatch: audit: %d/%d scopes read (%s %s)\x1b[K", p.Done, p.Total, p.Account, p.Region)
			if p.Done == p.Total {
				fmt.Fprintln(stderr)
			}
		}
	}
	if adjust != nil {
		adjust(&copt)
	}
	res := &report.Result{
		Tool:    report.ToolInfo{Name: "snapwatch", Version: version, CommandLine: "snapwatch " + strings.Join(os.Args[1:], " ")},
		Command: "audit", Targets: []string{"aws"}, Started: time.Now(),
	}
	col, err := awscollect.New(ctx, copt)
	if err != nil {
		return nil, err
	}
	inv, stats, _ := col.Collect(ctx) // a partial inventory comes with inv.Errors, reported below
	for _, e := range inv.Errors {
		res.Errors = append(res.Errors, report.ErrorRecord{Target: scopeName(e.Provider, e.Account, e.Region), Where: e.What, Message: e.Err})
	}
	pcfg.Now = res.Started.UTC()
	res.Findings = posture.Check(inv, pcfg)
	cstats := contentStats{}
	if content.mode != scanNone {
		cstats = scanExposed(ctx, stderr, res, inv, content, snapshotOpener(col, content))
	}
	res.Finished = time.Now()
	res.Stats = map[string]any{
		"accounts": len(inv.Accounts), "snapshots": len(inv.Snapshots), "images": len(inv.Images),
		"guards": len(inv.Guards), "exports": len(inv.Exports), "share_policies": len(inv.SharePolicies),
		"api_calls": stats.Calls, "api_calls_by_action": stats.CallsByAction, "throttled": stats.Throttled,
		"retries": stats.Retries, "collect_seconds": stats.Duration.Seconds(), "content": statsMap(cstats),
	}
	return res, nil
}

// finishAudit writes the result and turns it into the exit code.
func finishAudit(cmd *cobra.Command, o auditOptions, res *report.Result) error {
	format, failOn, failOnSet, err := o.parse()
	if err != nil {
		return err
	}
	if err := writeResult(cmd, format, o.output, res); err != nil {
		return err
	}
	stderr := cmd.ErrOrStderr()
	if code := report.ExitCode(res, failOn, failOnSet); code != 0 {
		if code == ExitError {
			fmt.Fprintf(stderr, "snapwatch: audit: %d scope(s) could not be read; the result is partial\n", len(res.Errors))
		}
		return &exitError{code: code}
	}
	return nil
}

func scopeName(parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, "/")
}

// postureConfig builds the checks' configuration from [trust], [audit] and the flags.
func postureConfig(cfg *config.Config, o auditOptions) (posture.Config, error) {
	pc := posture.Config{
		Trust:      trustConfig(cfg.Trust, o.orgAccts, o.trusted),
		StaleAfter: cfg.Audit.StaleAfter.Duration,
		Exclude: posture.Exclude{IDs: cfg.Audit.ExcludeIDs, Tags: cfg.Audit.ExcludeTags,
			Checks: cfg.Audit.ExcludeChecks},
	}
	known := map[string]bool{}
	for _, c := range posture.Checks() {
		known[c.ID] = true
	}
	for _, id := range cfg.Audit.ExcludeChecks {
		if !known[id] {
			return pc, fmt.Errorf("--config: [audit] exclude_checks: no check %q (see snapwatch audit aws --list-checks)", id)
		}
	}
	for id, s := range cfg.Audit.Severity {
		if !known[id] {
			return pc, fmt.Errorf("--config: [audit.severity]: no check %q (see snapwatch audit aws --list-checks)", id)
		}
		sev, err := finding.ParseSeverity(s)
		if err != nil {
			return pc, fmt.Errorf("--config: [audit.severity] %s: %w", id, err)
		}
		if pc.SeverityOverrides == nil {
			pc.SeverityOverrides = map[string]finding.Severity{}
		}
		pc.SeverityOverrides[id] = sev
	}
	return pc, nil
}

// listChecks prints the catalogue: a table for people, JSON otherwise.
func listChecks(cmd *cobra.Command, format string) error {
	checks := posture.Checks()
	out := cmd.OutOrStdout()
	if format == "json" || (format == "" && !isTerminal(os.Stdout)) {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(checks)
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CHECK\tSEVERITY\tKIND\tCOMPLIANCE\tTITLE")
	for _, c := range checks {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.ID, c.Severity, c.Kind, strings.Join(c.Compliance, ","), c.Title)
	}
	return tw.Flush()
}
