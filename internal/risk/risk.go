// Package risk joins exposure with content: a snapshot shared with a stranger is a finding, a
// snapshot shared with a stranger that holds a cloud key is an incident. Grade raises an
// exposure finding's severity by what the content scan found on the disks it exposes and links
// the two ways, so that reports show the exposure with its evidence and each content finding
// with the exposure that makes it reachable.
package risk

import (
	"slices"
	"strings"

	"github.com/snapwatch/snapwatch/internal/finding"
)

// family returns the exposure family of a posture rule id ("aws-ami-public" → "public"), or "".
// Latent public is tested first: its id also ends in "-public".
func family(rule string) string {
	for _, f := range []string{"latent-public", "public", "shared-external", "exposed-via-ami", "recycle-bin-shared"} {
		if strings.HasSuffix(rule, "-"+f) {
			return f
		}
	}
	return ""
}

// reachable reports whether an exposure family lets an outsider read the disk today. A
// latent-public snapshot is one setting away, not reachable: content raises it to high, not to
// critical.
func reachable(fam string) bool { return fam != "" && fam != "latent-public" }

// Exposing reports whether a finding says a snapshot or image can be (or is one setting away
// from being) read by an outsider: the findings whose content is worth scanning.
func Exposing(f *finding.Finding) bool {
	return f.Kind == finding.KindExposure && f.Status != finding.StatusSuppressed && family(f.Rule) != ""
}

// Grave reports whether a content finding alone turns a reachable exposure into an incident:
// a cloud credential or a private key, at high severity or above. Whether the key is still live
// is not checked: that would call the provider with a found secret, which snapwatch never does.
func Grave(c *finding.Finding) bool {
	if c.Severity < finding.High {
		return false
	}
	for _, t := range c.Tags {
		switch t {
		case "cloud-credential", "cloud-credentials", "private-key":
			return true
		}
	}
	return c.Rule == "file/ssh-private-key"
}

// Grade raises exp by content, the content findings of every disk exp exposes (for an AMI, all
// its backing snapshots), and links them: exp.Related gets their ids and each content finding's
// Related gets exp's id. A reachable exposure with a grave content finding becomes critical;
// otherwise the exposure rises to the worst content severity, at most high. Severity never goes
// down. Grade records what it did in exp's evidence ("content").
func Grade(exp *finding.Finding, content []*finding.Finding) {
	if len(content) == 0 {
		return
	}
	worst, grave := finding.Info, 0
	rules := map[string]int{}
	for _, c := range content {
		worst = max(worst, c.Severity)
		if Grave(c) {
			grave++
		}
		rules[c.Rule]++
		if !slices.Contains(c.Related, exp.ID) {
			c.Related = append(c.Related, exp.ID)
		}
		if !slices.Contains(exp.Related, c.ID) {
			exp.Related = append(exp.Related, c.ID)
		}
	}
	before := exp.Severity
	raised := min(worst, finding.High)
	if grave > 0 && reachable(family(exp.Rule)) {
		raised = finding.Critical
	}
	// A share whose key the recipient may not use exposes ciphertext only: what the disk holds
	// is linked and told, but does not raise it (posture says "key_access": "inert").
	inert := exp.Evidence["key_access"] == "inert"
	if !inert {
		exp.Severity = max(exp.Severity, raised)
	}
	if exp.Evidence == nil {
		exp.Evidence = finding.Evidence{}
	}
	names := make([]string, 0, len(rules))
	for r := range rules {
		names = append(names, r)
	}
	slices.Sort(names)
	exp.Evidence["content"] = map[string]any{
		"findings":      len(content),
		"worst":         worst.String(),
		"grave":         grave,
		"rules":         names,
		"severity_from": before.String(),
		"raised":        exp.Severity > before,
	}
	if inert {
		exp.Evidence["content"].(map[string]any)["not_raised"] = "the recipient cannot decrypt with the snapshot's key"
	}
	if exp.Severity > before {
		exp.Tags = appendOnce(exp.Tags, "content-raised")
	}
}

func appendOnce(xs []string, s string) []string {
	if slices.Contains(xs, s) {
		return xs
	}
	return append(xs, s)
}
