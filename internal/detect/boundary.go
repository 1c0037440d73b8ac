package detect

import (
	"strings"

	"github.com/snapwatch/snapwatch/internal/event"
)

// BoundaryConfig names everything that counts as "us": a share to any of these is internal. It is
// read from the config file; every list is optional. An empty BoundaryConfig is an unknown
// boundary (see Boundary.Known).
type BoundaryConfig struct {
	AWSAccounts []string `json:"aws_accounts,omitempty" toml:"aws_accounts"` // 12-digit account ids
	// AWSOrganizations are org ids ("o-abc123") or org ARNs; an OU or org grant inside one of
	// them is internal.
	AWSOrganizations []string `json:"aws_organizations,omitempty" toml:"aws_organizations"`
	AWSOUs           []string `json:"aws_ous,omitempty" toml:"aws_ous"` // OU ids or ARNs

	AzureTenants       []string `json:"azure_tenants,omitempty" toml:"azure_tenants"`
	AzureSubscriptions []string `json:"azure_subscriptions,omitempty" toml:"azure_subscriptions"`

	GCPOrganizations []string `json:"gcp_organizations,omitempty" toml:"gcp_organizations"`
	GCPProjects      []string `json:"gcp_projects,omitempty" toml:"gcp_projects"` // ids or numbers
	// GCPDomains are the organisation's identity domains: "user:a@example.com",
	// "group:g@example.com" and "domain:example.com" members of them are internal.
	GCPDomains []string `json:"gcp_domains,omitempty" toml:"gcp_domains"`

	// TrustedAccounts are outside parties the organisation has approved (DR accounts, scanners,
	// partners): AWS account ids, Azure tenants or subscriptions, GCP projects.
	TrustedAccounts []string `json:"trusted_accounts,omitempty" toml:"trusted_accounts"`
	// TrustedMembers are exact principals: GCP members ("serviceAccount:x@p.iam.gserviceaccount.com"),
	// AWS principal ARNs.
	TrustedMembers []string `json:"trusted_members,omitempty" toml:"trusted_members"`
}

// Class is where a grantee stands relative to the boundary.
type Class int

const (
	Internal      Class = iota // inside the organisation or explicitly trusted
	External                   // a named party outside the boundary
	Public                     // everyone
	Authenticated              // anyone holding an account with the cloud (GCP allAuthenticatedUsers)
)

var classNames = [...]string{"internal", "external", "public", "authenticated"}

func (c Class) String() string {
	if c < Internal || c > Authenticated {
		return "unknown"
	}
	return classNames[c]
}

func parseClass(s string) (Class, bool) {
	for i, n := range classNames {
		if strings.EqualFold(s, n) {
			return Class(i), true
		}
	}
	return 0, false
}

// Boundary classifies grantees. The zero Boundary is unknown: only the record's own account is
// internal, and findings say so.
type Boundary struct {
	known   bool
	ids     map[string]bool // accounts, subscriptions, tenants, projects, trusted ids (lower case)
	orgs    map[string]bool // AWS org ids "o-…" and GCP organization ids
	ous     map[string]bool // AWS OU ids "ou-…"
	domains map[string]bool // GCP identity domains
	members map[string]bool // exact trusted principals (lower case)
}

// NewBoundary builds a Boundary from config. Values are compared case-insensitively, and ARNs are
// reduced to the id they name so that "o-abc" and "arn:aws:organizations::1:organization/o-abc"
// are the same organisation.
func NewBoundary(c BoundaryConfig) *Boundary {
	b := &Boundary{ids: map[string]bool{}, orgs: map[string]bool{}, ous: map[string]bool{},
		domains: map[string]bool{}, members: map[string]bool{}}
	add := func(m map[string]bool, vs []string, norm func(string) string) {
		for _, v := range vs {
			if v = norm(strings.TrimSpace(v)); v != "" {
				m[v] = true
				b.known = true
			}
		}
	}
	lower := strings.ToLower
	add(b.ids, c.AWSAccounts, lower)
	add(b.ids, c.AzureTenants, lower)
	add(b.ids, c.AzureSubscriptions, lower)
	add(b.ids, c.GCPProjects, lower)
	add(b.ids, c.TrustedAccounts, lower)
	add(b.orgs, c.AWSOrganizations, orgID)
	add(b.orgs, c.GCPOrganizations, gcpOrgID)
	add(b.ous, c.AWSOUs, ouID)
	add(b.domains, c.GCPDomains, lower)
	add(b.members, c.TrustedMembers, lower)
	return b
}

// Known reports whether the boundary was configured. When it was not, only the account a record
// belongs to counts as internal.
func (b *Boundary) Known() bool { return b != nil && b.known }

// Classify places one grantee of a record relative to the boundary. own is the record's own
// account (and the resource owner, when known): always internal, configured or not.
func (b *Boundary) Classify(g event.Grant, own ...string) Class {
	v := strings.TrimSpace(g.Value)
	switch g.Kind {
	case event.GrantPublic:
		return Public
	case event.GrantAuthUsers:
		return Authenticated
	case event.GrantOrg:
		if b.Known() && (b.orgs[orgID(v)] || b.orgs[gcpOrgID(v)]) {
			return Internal
		}
		return External
	case event.GrantOU:
		// An OU lives inside an organisation: internal if we own the OU or the org around it.
		if b.Known() && (b.ous[ouID(v)] || b.orgs[orgOfOU(v)]) {
			return Internal
		}
		return External
	case event.GrantMember:
		return b.classifyMember(v, own)
	}
	// Accounts, tenants, subscriptions and kinds this version does not know.
	if strings.EqualFold(v, "all") {
		return Public // RDS spells public as the value "all" among account ids
	}
	if acct := arnAccount(v); acct != "" {
		if b.isOwn(acct, own) || b.trustedMember(v) {
			return Internal
		}
		return External
	}
	if strings.HasSuffix(strings.ToLower(v), ".amazonaws.com") {
		return Internal // an AWS service principal acting for the account (KMS grants)
	}
	if b.isOwn(v, own) {
		return Internal
	}
	return External
}

// ClassifyAccount places an account, subscription, tenant or project id (or an ARN holding one).
func (b *Boundary) ClassifyAccount(v string, own ...string) Class {
	return b.Classify(event.Grant{Kind: event.GrantAccount, Value: v}, own...)
}

func (b *Boundary) isOwn(id string, own []string) bool {
	if id == "" {
		return false
	}
	for _, o := range own {
		if o != "" && strings.EqualFold(o, id) {
			return true
		}
	}
	return b.Known() && b.ids[strings.ToLower(id)]
}

func (b *Boundary) trustedMember(v string) bool {
	return b.Known() && b.members[strings.ToLower(v)]
}

// classifyMember reads a GCP IAM member: "user:", "group:", "serviceAccount:", "domain:",
// "projectOwner:p", "deleted:user:…?uid=…", "principal://…", and the two public spellings.
func (b *Boundary) classifyMember(v string, own []string) Class {
	switch strings.ToLower(v) {
	case "allusers":
		return Public
	case "allauthenticatedusers":
		return Authenticated
	}
	if b.trustedMember(v) {
		return Internal
	}
	kind, rest, _ := strings.Cut(v, ":")
	if strings.EqualFold(kind, "deleted") {
		kind, rest, _ = strings.Cut(rest, ":")
		rest, _, _ = strings.Cut(rest, "?")
	}
	switch strings.ToLower(kind) {
	case "user", "group":
		if b.domainTrusted(domainOf(rest)) {
			return Internal
		}
	case "domain":
		if b.domainTrusted(rest) {
			return Internal
		}
	case "serviceaccount":
		// name@PROJECT.iam.gserviceaccount.com belongs to PROJECT; Google-managed agents
		// (service-NUMBER@…, NUMBER-compute@developer…) name the project number.
		d := domainOf(rest)
		if p, ok := strings.CutSuffix(d, ".iam.gserviceaccount.com"); ok && b.isOwn(p, own) {
			return Internal
		}
		local, _, _ := strings.Cut(rest, "@")
		local = strings.TrimPrefix(local, "service-")
		local, _, _ = strings.Cut(local, "-compute")
		if b.isOwn(local, own) || b.domainTrusted(d) {
			return Internal
		}
	case "projectowner", "projecteditor", "projectviewer":
		if b.isOwn(rest, own) {
			return Internal
		}
	}
	return External
}

func (b *Boundary) domainTrusted(d string) bool {
	d = strings.ToLower(d)
	if !b.Known() || d == "" {
		return false
	}
	for {
		if b.domains[d] {
			return true
		}
		// A subdomain of a trusted domain is trusted too.
		_, parent, ok := strings.Cut(d, ".")
		if !ok || !strings.Contains(parent, ".") {
			return false
		}
		d = parent
	}
}

func domainOf(email string) string {
	_, d, _ := strings.Cut(email, "@")
	return d
}

// orgID reduces "arn:aws:organizations::111:organization/o-abc" to "o-abc".
func orgID(v string) string {
	v = strings.ToLower(v)
	if i := strings.LastIndex(v, "/"); i >= 0 {
		v = v[i+1:]
	}
	return v
}

// gcpOrgID reduces "organizations/123" to "123".
func gcpOrgID(v string) string {
	return strings.TrimPrefix(strings.ToLower(v), "organizations/")
}

// ouID reduces "arn:aws:organizations::111:ou/o-abc/ou-xyz" to "ou-xyz".
func ouID(v string) string { return orgID(v) }

// orgOfOU returns the org id inside an OU ARN ("…:ou/o-abc/ou-xyz" → "o-abc"), or "".
func orgOfOU(v string) string {
	v = strings.ToLower(v)
	_, path, ok := strings.Cut(v, ":ou/")
	if !ok {
		return ""
	}
	org, _, _ := strings.Cut(path, "/")
	return org
}

// arnAccount returns the account field of an ARN ("arn:aws:iam::123456789012:role/x"), or "".
func arnAccount(v string) string {
	if !strings.HasPrefix(v, "arn:") {
		return ""
	}
	parts := strings.SplitN(v, ":", 6)
	if len(parts) < 6 {
		return ""
	}
	return parts[4]
}
