package inventory

import "strings"

// Trust names everything that counts as "us", as configured. Collectors add what they discover
// (Org, Inventory.Accounts); NewBoundary joins the two. Every list is optional; ids and ARNs are
// compared case-insensitively and ARNs are reduced to the id they name, so "o-abc" and
// "arn:aws:organizations::111111111111:organization/o-abc" are the same organisation.
//
// Config file mapping (internal/config.Trust): aws_accounts, azure_subscriptions, gcp_projects →
// Accounts; aws_organizations, gcp_organizations → Orgs; aws_ous → OUs; azure_tenants →
// Tenants; gcp_domains → Domains; trusted_accounts → TrustedAccounts; trusted_members →
// TrustedMembers.
type Trust struct {
	Orgs     []string `json:"orgs,omitempty"`     // our organisations: AWS "o-…" or ARN, GCP "organizations/N" or N
	Accounts []string `json:"accounts,omitempty"` // our AWS accounts, Azure subscriptions, GCP projects (ids and numbers)
	OUs      []string `json:"ous,omitempty"`      // our AWS OUs ("ou-…" or ARN), when the org itself is not ours
	Tenants  []string `json:"tenants,omitempty"`  // our Azure AD tenants
	Domains  []string `json:"domains,omitempty"`  // our identity domains (GCP user:/group:/domain: members)

	// Approved outsiders: DR and forensics accounts, partners, scanners.
	TrustedAccounts []string `json:"trusted_accounts,omitempty"`
	TrustedOrgs     []string `json:"trusted_orgs,omitempty"`
	TrustedOUs      []string `json:"trusted_ous,omitempty"`
	TrustedTenants  []string `json:"trusted_tenants,omitempty"`
	TrustedProjects []string `json:"trusted_projects,omitempty"`
	TrustedDomains  []string `json:"trusted_domains,omitempty"`
	TrustedMembers  []string `json:"trusted_members,omitempty"` // exact GCP members or principal ARNs
}

// Org is an organisation a collector discovered (AWS Organizations DescribeOrganization and
// ListAccounts, GCP organization and its projects). Everything in it is internal.
type Org struct {
	Provider          string   `json:"provider"`
	ID                string   `json:"id"` // "o-abc123", "organizations/123"
	ARN               string   `json:"arn,omitempty"`
	ManagementAccount string   `json:"management_account,omitempty"`
	Accounts          []string `json:"accounts,omitempty"`
	OUs               []string `json:"ous,omitempty"`
}

// Class is where a grantee stands relative to the boundary.
type Class int8

const (
	Internal Class = iota // us, or an approved outsider
	External              // a named party outside the boundary
	Public                // everyone (or everyone with an account, or whoever holds a link)
)

func (c Class) String() string {
	switch c {
	case Internal:
		return "internal"
	case External:
		return "external"
	case Public:
		return "public"
	}
	return "unknown"
}

var emptyBoundary Boundary // a nil *Boundary classifies like this: only the owner is internal

type set map[string]struct{}

func (s set) has(v string) bool { _, ok := s[strings.ToLower(v)]; return ok && v != "" }

// Boundary is a Trust compiled for lookups: Classify runs once per grant of every record.
type Boundary struct {
	known   bool
	ids     set // accounts, subscriptions, projects, tenants
	orgs    set
	ous     set
	domains set
	members set
}

// NewBoundary joins configured trust, discovered organisations and the accounts the collectors
// audited (we hold credentials to them, so they are ours). The boundary is Known when either
// trust or orgs say anything; audited accounts alone leave it unknown, and findings say so.
func NewBoundary(t Trust, orgs []Org, audited []string) *Boundary {
	b := &Boundary{ids: set{}, orgs: set{}, ous: set{}, domains: set{}, members: set{}}
	add := func(s set, norm func(string) string, known bool, vs ...[]string) {
		for _, l := range vs {
			for _, v := range l {
				if v = norm(strings.TrimSpace(v)); v != "" {
					s[v] = struct{}{}
					b.known = b.known || known
				}
			}
		}
	}
	lower := strings.ToLower
	add(b.ids, accountID, true, t.Accounts, t.TrustedAccounts, t.TrustedProjects)
	add(b.ids, lower, true, t.Tenants, t.TrustedTenants)
	add(b.orgs, orgID, true, t.Orgs, t.TrustedOrgs)
	add(b.ous, lastSegment, true, t.OUs, t.TrustedOUs)
	add(b.domains, lower, true, t.Domains, t.TrustedDomains)
	add(b.members, lower, true, t.TrustedMembers)
	for _, o := range orgs {
		add(b.orgs, orgID, true, []string{o.ID, o.ARN})
		add(b.ids, accountID, true, o.Accounts, []string{o.ManagementAccount})
		add(b.ous, lastSegment, true, o.OUs)
	}
	add(b.ids, accountID, false, audited)
	return b
}

// Known reports whether an organisation or trust list was given. When it was not, only the
// record's own account and the audited accounts count as internal.
func (b *Boundary) Known() bool { return b != nil && b.known }

// Classify places one grantee of a record owned by owner. The owner is always internal.
func (b *Boundary) Classify(g Grant, owner string) Class {
	if b == nil {
		b = &emptyBoundary
	}
	v := strings.TrimSpace(g.Value)
	switch g.Kind {
	case GrantPublic, GrantAuthUsers, GrantSASLink, GrantNetworkPublic:
		return Public
	case GrantOrg:
		return b.internalIf(b.orgs.has(orgID(v)))
	case GrantOU:
		// An OU lives inside an organisation: internal if the OU or its organisation is ours.
		return b.internalIf(b.ous.has(lastSegment(v)) || b.orgs.has(orgOfOU(v)))
	case GrantMember:
		return b.member(v, owner)
	}
	// Accounts, tenants, subscriptions, and kinds this version does not know.
	switch lv := strings.ToLower(v); {
	case lv == "all" || lv == "*":
		return Public // RDS writes public as "all" among account ids; a key policy as "*"
	case lv == "amazon-redshift-support":
		return Internal // Redshift's own support access, granted by AWS, not a customer
	case strings.HasSuffix(lv, ".amazonaws.com"):
		return Internal // an AWS service principal acting for the account (KMS grants)
	}
	if b.members.has(v) {
		return Internal
	}
	return b.internalIf(b.own(accountID(v), owner))
}

func (b *Boundary) internalIf(ok bool) Class {
	if ok {
		return Internal
	}
	return External
}

func (b *Boundary) own(id, owner string) bool {
	if id == "" {
		return false
	}
	if strings.EqualFold(id, owner) {
		return true
	}
	return b.ids.has(id)
}

// member reads a GCP IAM member: "user:", "group:", "serviceAccount:", "domain:",
// "projectOwner:p", "deleted:user:…?uid=…", and the two public spellings.
func (b *Boundary) member(v, owner string) Class {
	switch strings.ToLower(v) {
	case "allusers", "allauthenticatedusers":
		return Public
	}
	if b.members.has(v) {
		return Internal
	}
	kind, rest, _ := strings.Cut(v, ":")
	if strings.EqualFold(kind, "deleted") {
		kind, rest, _ = strings.Cut(rest, ":")
		rest, _, _ = strings.Cut(rest, "?")
	}
	switch strings.ToLower(kind) {
	case "user", "group":
		return b.internalIf(b.domainOK(domainOf(rest)))
	case "domain":
		return b.internalIf(b.domainOK(rest))
	case "serviceaccount":
		// name@PROJECT.iam.gserviceaccount.com belongs to PROJECT; Google-managed agents
		// (service-NUMBER@…, NUMBER-compute@developer…) name the project number.
		d := domainOf(rest)
		if p, ok := strings.CutSuffix(strings.ToLower(d), ".iam.gserviceaccount.com"); ok && b.own(p, owner) {
			return Internal
		}
		local, _, _ := strings.Cut(rest, "@")
		local = strings.TrimPrefix(local, "service-")
		local, _, _ = strings.Cut(local, "-compute")
		return b.internalIf(b.own(local, owner) || b.domainOK(d))
	case "projectowner", "projecteditor", "projectviewer":
		return b.internalIf(b.own(rest, owner))
	}
	return External
}

// domainOK reports whether d or a parent domain of it is ours or trusted.
func (b *Boundary) domainOK(d string) bool {
	if d == "" {
		return false
	}
	d = strings.ToLower(d)
	for {
		if b.domains.has(d) {
			return true
		}
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

// accountID reduces an ARN ("arn:aws:iam::123456789012:root") to its account field; other
// values are returned lower-cased.
func accountID(v string) string {
	if strings.HasPrefix(v, "arn:") {
		if parts := strings.SplitN(v, ":", 6); len(parts) == 6 && parts[4] != "" {
			return parts[4]
		}
	}
	return strings.ToLower(v)
}

// orgID reduces "arn:aws:organizations::111:organization/o-abc" to "o-abc" and GCP
// "organizations/123" to "123".
func orgID(v string) string { return lastSegment(v) }

// lastSegment returns what follows the last "/", lower-cased.
func lastSegment(v string) string {
	v = strings.ToLower(v)
	if i := strings.LastIndexByte(v, '/'); i >= 0 {
		v = v[i+1:]
	}
	return v
}

// orgOfOU returns the org id inside an OU ARN ("…:ou/o-abc/ou-xyz" → "o-abc"), or "".
func orgOfOU(v string) string {
	_, path, ok := strings.Cut(strings.ToLower(v), ":ou/")
	if !ok {
		return ""
	}
	org, _, _ := strings.Cut(path, "/")
	return org
}
