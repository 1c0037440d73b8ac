package contentscan

import (
	"fmt"
	"math"
	"strings"

	"github.com/snapwatch/snapwatch/internal/finding"
	"github.com/snapwatch/snapwatch/internal/secret"
	"github.com/snapwatch/snapwatch/internal/target"
)

// addSecret records a secret match. The same secret under the same rule in the same file (or the
// same free space of a volume) is one finding with an occurrence count: its id leaves out the
// offset, so it stays stable when the file is edited elsewhere.
func (s *Scanner) addSecret(t *target.Target, loc finding.Location, m secret.Match, unallocated bool) {
	rule := "secret/" + m.RuleID
	where := loc.Path
	if unallocated {
		where = "(unallocated)"
	}
	id := finding.Fingerprint(rule, t.Resource, loc.Volume, where, m.SHA256)
	ev := finding.Evidence{
		"secret":   m.Redacted,
		"sha256":   m.SHA256,
		"category": m.Category,
	}
	if m.Entropy > 0 {
		ev["entropy"] = math.Round(m.Entropy*100) / 100
	}
	if m.Encrypted {
		ev["encrypted"] = true
	}
	if unallocated {
		ev["area"] = "unallocated space"
	}
	for k, v := range m.Context {
		ev[k] = v
	}
	f := finding.Finding{
		ID: id, Kind: finding.KindContent, Rule: rule, Title: m.Title, Severity: m.Severity,
		Description: describeSecret(m, t, loc, unallocated),
		Remediation: remediation(m.Category),
		Resource:    t.Resource, Location: &loc, Evidence: ev,
		Tags: []string{m.Category},
	}
	s.add(f)
}

// addFile records a sensitive file found by the catalogue.
func (s *Scanner) addFile(t *target.Target, loc finding.Location, fm secret.FileMatch) {
	loc.Line, loc.Offset = 0, 0
	f := finding.Finding{
		ID:   finding.Fingerprint(fm.ID, t.Resource, loc.Volume, loc.Path),
		Kind: finding.KindContent, Rule: fm.ID, Title: fm.Title, Severity: fm.Severity,
		Description: fmt.Sprintf("%s at %s%s.", fm.Title, place(t, loc), deletedNote(loc)),
		Remediation: fm.Remediation, Resource: t.Resource, Location: &loc,
		Evidence: finding.Evidence(fm.Evidence), Tags: []string{fm.Category},
	}
	s.add(f)
}

func (s *Scanner) add(f finding.Finding) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.findings[f.ID]; ok {
		n, _ := old.Evidence["occurrences"].(int)
		if n == 0 {
			n = 1
		}
		if old.Evidence == nil {
			old.Evidence = finding.Evidence{}
		}
		old.Evidence["occurrences"] = n + 1
		return
	}
	s.findings[f.ID] = &f
	s.order = append(s.order, f.ID)
	s.c.findings.Add(1)
}

func describeSecret(m secret.Match, t *target.Target, loc finding.Location, unallocated bool) string {
	what := strings.ReplaceAll(m.Category, "-", " ")
	if what == "" {
		what = "secret"
	}
	if unallocated {
		return fmt.Sprintf("A %s (%s) lies in unallocated space of %s at byte %d: data left behind by a deleted file.",
			what, m.Title, place(t, finding.Location{Volume: loc.Volume}), loc.Offset)
	}
	return fmt.Sprintf("A %s (%s) is stored in %s%s.", what, m.Title, place(t, loc), deletedNote(loc))
}

func place(t *target.Target, loc finding.Location) string {
	var b strings.Builder
	b.WriteString(t.Spec)
	if loc.Volume != "" {
		b.WriteString(" volume " + loc.Volume)
	}
	if loc.Path != "" {
		b.WriteString(" file " + loc.Path)
	}
	if loc.Line > 0 {
		fmt.Fprintf(&b, " line %d", loc.Line)
	}
	return b.String()
}

func deletedNote(loc finding.Location) string {
	if loc.Deleted {
		return " (a deleted file whose content is still on the disk)"
	}
	return ""
}

// remediation says what to do about a secret by its kind.
func remediation(category string) string {
	switch category {
	case "private-key":
		return "Treat the key as compromised: replace it (new key pair, new certificate) wherever it is trusted, revoke the old one, and rebuild the image without it. Snapshots made from this disk carry the key too."
	case "password", "connection-string":
		return "Change the password at its service, move it to a secret manager, and rebuild the image without it. Snapshots made from this disk carry it too."
	default:
		return "Revoke or rotate the credential at its issuer now, check its use in the issuer's logs, and rebuild the image without it (a secret manager or instance role instead of a file). Snapshots made from this disk carry it too."
	}
}
