package posture

import (
	"strings"
	"time"

	"github.com/snapwatch/snapwatch/internal/finding"
	"github.com/snapwatch/snapwatch/internal/inventory"
	"github.com/snapwatch/snapwatch/internal/trust"
)

// DefaultStaleAfter is the age past which a snapshot or image is stale.
const DefaultStaleAfter = 365 * 24 * time.Hour

// Config tunes Check. The zero Config is usable: unknown trust boundary (only the audited
// accounts are internal), stale after a year, nothing excluded.
type Config struct {
	// Trust is the configured boundary; the inventory's discovered organisations and audited
	// accounts are added to it.
	Trust trust.Config
	// StaleAfter is the age past which a snapshot or image is stale: 0 means
	// DefaultStaleAfter, a negative value turns the check off.
	StaleAfter time.Duration
	Exclude    Exclude
	// SeverityOverrides sets the severity of every finding of a check, by check id.
	SeverityOverrides map[string]finding.Severity
	// Now is the audit time: ages are measured from it and findings are first/last seen at it.
	// Zero means time.Now().
	Now time.Time
}

// Exclude suppresses findings the organisation has accepted. Suppressed findings are still
// returned, with Status "suppressed" and the reason in evidence, so that an accepted public
// snapshot stays visible in reports and never fails a run; Checks are not run at all.
type Exclude struct {
	IDs    []string // finding ids, resource ids or ARNs
	Tags   []string // "key" (any value) or "key=value", on the record a finding is about
	Checks []string // check ids to turn off
}

// suppression returns why a finding is suppressed, or "".
func (e *Exclude) suppression(f *finding.Finding, tags []inventory.Tag) string {
	for _, id := range e.IDs {
		if id != "" && (id == f.ID || id == f.Resource.ID || id == f.Resource.ARN) {
			return "excluded id " + id
		}
	}
	for _, want := range e.Tags {
		k, v, hasValue := strings.Cut(want, "=")
		for _, t := range tags {
			if t.Key == k && (!hasValue || t.Value == v) {
				return "excluded tag " + want
			}
		}
	}
	return ""
}

func (c *Config) now() time.Time {
	if c.Now.IsZero() {
		return time.Now().UTC()
	}
	return c.Now
}

func (c *Config) staleAfter() time.Duration {
	if c.StaleAfter == 0 {
		return DefaultStaleAfter
	}
	return c.StaleAfter
}
