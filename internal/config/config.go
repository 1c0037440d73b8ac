// Package config reads snapwatch's configuration file (--config, TOML): the organisation's trust
// boundary, which every exposure and detection verdict depends on, and per-command settings.
// Command-line flags override it.
package config

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/BurntSushi/toml"
)

// Config is the whole file.
type Config struct {
	Trust  Trust  `toml:"trust"`
	Audit  Audit  `toml:"audit"`
	Detect Detect `toml:"detect"`
}

// Audit configures the exposure audit.
type Audit struct {
	// StaleAfter is the age past which a snapshot or image is stale ("8760h"); "-1s" turns the
	// check off.
	StaleAfter duration `toml:"stale_after"`
	// Exclude suppresses findings: finding ids, resource ids or ARNs, tags ("key" or
	// "key=value") and whole checks. Suppressed findings stay in the report, marked so.
	ExcludeIDs    []string `toml:"exclude_ids"`
	ExcludeTags   []string `toml:"exclude_tags"`
	ExcludeChecks []string `toml:"exclude_checks"`
	// Severity overrides a check's severity: {"aws-ebs-snapshot-stale" = "info"}.
	Severity map[string]string `toml:"severity"`
}

// Trust names who belongs to the organisation and which outsiders are approved. A share to
// anyone else is a leak.
type Trust struct {
	AWSAccounts        []string `toml:"aws_accounts"`
	AWSOrganizations   []string `toml:"aws_organizations"`
	AWSOUs             []string `toml:"aws_ous"`
	AzureTenants       []string `toml:"azure_tenants"`
	AzureSubscriptions []string `toml:"azure_subscriptions"`
	GCPOrganizations   []string `toml:"gcp_organizations"`
	GCPProjects        []string `toml:"gcp_projects"`
	GCPDomains         []string `toml:"gcp_domains"`
	TrustedAccounts    []string `toml:"trusted_accounts"`
	TrustedMembers     []string `toml:"trusted_members"`
}

// Detect configures audit-log detection.
type Detect struct {
	RulesDir string           `toml:"rules_dir"`
	SigmaDir string           `toml:"sigma_dir"`
	Bursts   map[string]Burst `toml:"bursts"` // by rule id
	// CopyWindow is how long a copy to a new region waits for a share ("6h").
	CopyWindow duration `toml:"copy_window"`
}

// Burst overrides a burst rule's threshold.
type Burst struct {
	Threshold int      `toml:"threshold"`
	Window    duration `toml:"window"`
}

type duration struct{ time.Duration }

func (d *duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("%q is not a duration (e.g. 90s, 15m, 6h)", b)
	}
	d.Duration = v
	return nil
}

// Load reads a config file; "" gives the empty config. Unknown keys are errors, so that a typo
// does not silently leave the boundary open.
func Load(path string) (*Config, error) {
	c := &Config{}
	if path == "" {
		return c, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	md, err := toml.Decode(string(b), c)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if undecoded := md.Undecoded(); len(undecoded) > 0 {
		return nil, fmt.Errorf("%s: unknown setting %q", path, undecoded[0].String())
	}
	return c, c.validate(path)
}

func (c *Config) validate(path string) error {
	var errs []error
	for _, a := range append(append([]string{}, c.Trust.AWSAccounts...), c.Trust.TrustedAccounts...) {
		if a == "" {
			errs = append(errs, fmt.Errorf("%s: empty account id in [trust]", path))
		}
	}
	for id, sev := range c.Audit.Severity {
		switch sev {
		case "critical", "high", "medium", "low", "info":
		default:
			errs = append(errs, fmt.Errorf("%s: [audit.severity] %s = %q: want critical, high, medium, low or info", path, id, sev))
		}
	}
	for id, b := range c.Detect.Bursts {
		if b.Threshold < 0 || b.Window.Duration < 0 {
			errs = append(errs, fmt.Errorf("%s: [detect.bursts.%s]: threshold and window must not be negative", path, id))
		}
	}
	return errors.Join(errs...)
}
