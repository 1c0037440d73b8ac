package cli

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/snapwatch/snapwatch/internal/cloudsim"
	"github.com/snapwatch/snapwatch/internal/demo"
	"github.com/snapwatch/snapwatch/internal/finding"
	"github.com/snapwatch/snapwatch/internal/report"
)

func newDemo() *cobra.Command {
	var o auditOptions
	var html string
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Audit a built-in simulated AWS organisation, end to end, with no cloud account",
		Long: `demo starts a simulated AWS on 127.0.0.1 (internal/cloudsim, answering the real wire
protocols) holding a small organisation — three accounts, two regions — with one of each
exposure snapwatch finds: a public AMI, snapshots shared outside the organisation, a latent
public snapshot, unencrypted and orphaned snapshots, guards off, an AMI stored to S3. The public
AMI's disk holds fake credentials. demo then runs exactly what 'snapwatch audit aws
--org-role SnapwatchAudit' runs against a real organisation: the exposure audit, then a content
scan of the exposed disks through the EBS direct API, which raises the public AMI to critical.
It prints the findings and writes an HTML report. Nothing leaves the machine.`,
		Example: `  snapwatch demo
  snapwatch demo --html /tmp/demo.html --format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runDemo(cmd, o, html) },
	}
	f := cmd.Flags()
	f.StringVar(&o.format, "format", "table", "output format on standard output: table, json, jsonl, sarif, csv, html, ocsf, asff")
	f.StringVar(&html, "html", "snapwatch-demo.html", "write the HTML report here (mode 0600); empty: none")
	f.StringVar(&o.content.mode, "scan-content", scanExposedOnly, "content of exposed snapshots: exposed, all, none")
	f.BoolVar(&o.content.residual, "residual", true, "content scan: also deleted files and unallocated space")
	return cmd
}

func runDemo(cmd *cobra.Command, o auditOptions, html string) error {
	stderr := cmd.ErrOrStderr()
	if _, err := pickFormat(o.format, ""); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "snapwatch-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	fmt.Fprintln(stderr, "snapwatch demo: starting the simulated AWS organisation on 127.0.0.1 …")
	env, err := demo.Start(dir, cloudsim.Options{})
	if err != nil {
		return err
	}
	defer env.Close()
	restore := setEnv(env.Credentials())
	defer restore()

	o.orgRole = demo.OrgRole
	o.endpointURL = env.Sim.URL()
	o.progress = "never"
	o.content.maxFile = "256MiB"
	o.content.parallel = 4
	o.content.cacheDir = filepath.Join(dir, "cache") // a demo never reuses a result of an earlier one
	fmt.Fprintf(stderr, "snapwatch demo: snapwatch audit aws --org-role %s --endpoint-url %s --scan-content %s\n",
		o.orgRole, o.endpointURL, o.content.mode)
	res, err := auditAWS(cmd, o, nil)
	if err != nil {
		return err
	}
	if mutating := env.Sim.MutatingCalls(); len(mutating) > 0 {
		return fmt.Errorf("demo: the audit made %d mutating call(s), first %s:%s", len(mutating), mutating[0].Service, mutating[0].Action)
	}
	format, _ := pickFormat(o.format, "")
	if err := writeResult(cmd, format, "", res); err != nil {
		return err
	}
	if html != "" {
		if err := writeResult(cmd, report.FormatHTML, html, res); err != nil {
			return err
		}
	}
	summarizeDemo(cmd, res, html, len(env.Sim.Calls()))
	if len(res.Errors) > 0 {
		return &exitError{code: ExitError}
	}
	return nil
}

// summarizeDemo says on standard error what the demo showed, and where to go next.
func summarizeDemo(cmd *cobra.Command, res *report.Result, html string, calls int) {
	w := cmd.ErrOrStderr()
	count := map[finding.Severity]int{}
	raised := 0
	for _, f := range res.Findings {
		count[f.Severity]++
		for _, t := range f.Tags {
			if t == "content-raised" {
				raised++
			}
		}
	}
	fmt.Fprintf(w, "\nsnapwatch demo: %d findings (%d critical, %d high, %d medium, %d low) from %d read-only API calls;\n",
		len(res.Findings), count[finding.Critical], count[finding.High], count[finding.Medium], count[finding.Low], calls)
	fmt.Fprintf(w, "  %d exposure(s) raised by what the content scan found on the exposed disks.\n", raised)
	if html != "" {
		fmt.Fprintf(w, "  HTML report: %s\n", html)
	}
	fmt.Fprintln(w, "  Against your own organisation: snapwatch audit aws --org-role <AuditRoleName>")
}

// setEnv sets environment variables for the demo's credential chain and returns how to put
// the previous values back.
func setEnv(vars map[string]string) (restore func()) {
	type old struct {
		v  string
		ok bool
	}
	saved := map[string]old{}
	for k, v := range vars {
		prev, ok := os.LookupEnv(k)
		saved[k] = old{prev, ok}
		if v == "" {
			os.Unsetenv(k)
		} else {
			os.Setenv(k, v)
		}
	}
	return func() {
		for k, o := range saved {
			if o.ok {
				os.Setenv(k, o.v)
			} else {
				os.Unsetenv(k)
			}
		}
	}
}
