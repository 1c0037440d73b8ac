package posture

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/snapwatch/snapwatch/internal/finding"
	"github.com/snapwatch/snapwatch/internal/inventory"
)

// describe names a record with the facts a reader needs to find it and judge it:
// `EBS snapshot snap-1 ("db backup", from vol-1, 8 GiB, created 2024-01-02) in 111111111111/us-east-1`.
func describe(c *inventory.Common, s *subject) string {
	var b strings.Builder
	b.Grow(len(s.noun) + len(c.ID) + len(c.Name) + len(c.Lineage.SourceVolume) + len(c.Account) + len(c.Region) + 48)
	b.WriteString(s.noun)
	b.WriteByte(' ')
	b.WriteString(c.ID)
	sep := " ("
	fact := func(parts ...string) {
		b.WriteString(sep)
		for _, p := range parts {
			b.WriteString(p)
		}
		sep = ", "
	}
	if c.Name != "" && c.Name != c.ID {
		fact(strconv.Quote(c.Name))
	}
	if c.Lineage.SourceVolume != "" {
		fact("from ", c.Lineage.SourceVolume)
	}
	if c.SizeGiB > 0 {
		fact(strconv.FormatInt(c.SizeGiB, 10), " GiB")
	}
	if !c.Created.IsZero() {
		var day [10]byte
		fact("created ", string(c.Created.UTC().AppendFormat(day[:0], "2006-01-02")))
	}
	if sep == ", " {
		b.WriteByte(')')
	}
	b.WriteString(" in ")
	b.WriteString(owner(c))
	if c.Region != "" {
		b.WriteByte('/')
		b.WriteString(c.Region)
	}
	return b.String()
}

// recordEvidence is what every record finding carries.
func (r *run) recordEvidence(c *inventory.Common, s *subject) finding.Evidence {
	ev := finding.Evidence{"encrypted": c.Encryption.Encrypted}
	if c.Encryption.KeyID != "" {
		ev["key_id"] = c.Encryption.KeyID
	}
	if c.Encryption.KeyKind != "" {
		ev["key_kind"] = string(c.Encryption.KeyKind)
	}
	if c.Encryption.GranteesKnown {
		ev["key_grantees"] = granteeList(c.Encryption.KeyGrantees)
	}
	if s.kind == inventory.KindRDSClusterSnapshot || s.kind == inventory.KindRDSSnapshot {
		ev["service"] = serviceOf(s)
	}
	if c.Name != "" {
		ev["name"] = c.Name
	}
	if !r.b.Known() {
		ev["trust_boundary"] = "owner-only"
	}
	return ev
}

func serviceOf(s *subject) string {
	switch s.engine {
	case "docdb":
		return "documentdb"
	case "neptune":
		return "neptune"
	}
	return "rds"
}

// granteeList is a sorted, de-duplicated "kind:value" list.
func granteeList(gs []inventory.Grant) []string {
	out := make([]string, 0, len(gs))
	for _, g := range gs {
		out = append(out, string(g.Kind)+":"+g.Value)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func granteeText(g inventory.Grant) string {
	switch g.Kind {
	case inventory.GrantPublic:
		return "everyone (" + cond(g.Value != "", g.Value, "all") + ")"
	case inventory.GrantAuthUsers:
		return "anyone signed in to the cloud (" + cond(g.Value != "", g.Value, "allAuthenticatedUsers") + ")"
	case inventory.GrantSASLink:
		return "whoever holds its live SAS export link"
	case inventory.GrantNetworkPublic:
		return "the public network"
	case inventory.GrantMember:
		return g.Value
	case inventory.GrantAccount:
		if strings.EqualFold(g.Value, "all") {
			return "everyone (all)"
		}
	}
	return string(g.Kind) + " " + g.Value
}

// sharedText says how a record is public: "public (restore attribute: all)".
func sharedText(gs []inventory.Grant, s *subject) string {
	vals := make([]string, 0, len(gs))
	for _, g := range gs {
		vals = append(vals, fieldText(s, g)+": "+cond(g.Value != "", g.Value, string(g.Kind)))
	}
	slices.Sort(vals)
	return "public (" + strings.Join(slices.Compact(vals), "; ") + ")"
}

// reachText says who can reach a public record.
func reachText(gs []inventory.Grant) string {
	parts := make([]string, 0, len(gs))
	for _, g := range gs {
		switch g.Kind {
		case inventory.GrantAuthUsers:
			parts = append(parts, "anyone signed in to the cloud can use it")
		case inventory.GrantSASLink:
			parts = append(parts, "anyone holding the export link can download it")
		case inventory.GrantMember:
			parts = append(parts, cond(strings.EqualFold(g.Value, "allAuthenticatedUsers"),
				"anyone signed in to the cloud can use it", "anyone can use it"))
		default:
			parts = append(parts, "anyone can find and copy it")
		}
	}
	slices.Sort(parts)
	return strings.Join(slices.Compact(parts), "; ")
}

func fieldText(s *subject, g inventory.Grant) string {
	switch g.Via {
	case inventory.ViaProjectPolicy:
		return "project IAM policy (a role reaching every resource in the project)"
	case inventory.ViaGallerySharing:
		return "gallery sharingProfile"
	case inventory.ViaPolicy:
		return "resource IAM policy"
	case inventory.ViaDiskState:
		return "diskState"
	case inventory.ViaNetworkPolicy:
		return "networkAccessPolicy"
	}
	if g.Kind == inventory.GrantSASLink {
		return "diskState"
	}
	return s.field
}

func managedText(managedBy string) string {
	if managedBy == inventory.ManagedByDeclarativePolicy {
		return " (set by an organisation declarative policy)"
	}
	return ""
}

func bpaText(state string) string {
	switch state {
	case inventory.BPABlockNewSharing:
		return ", which stops new public sharing but leaves snapshots that are already public public."
	case inventory.BPAUnblocked:
		return ", so nothing stops public sharing."
	}
	return "."
}

func (r *run) boundaryText() string {
	if r.b.Known() {
		return ""
	}
	return " (no trust boundary is configured and no organisation was read: only the audited accounts count as internal)"
}

func lastPath(v string) string {
	if i := strings.LastIndexByte(v, '/'); i >= 0 {
		return v[i+1:]
	}
	return v
}

func cond(ok bool, a, b string) string {
	if ok {
		return a
	}
	return b
}

func upper(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }
