// Package trust is the product's one trust boundary: who is inside the organisation, who is an
// approved outsider, and who is everyone. `snapwatch audit` (internal/posture, over inventory
// records) and `snapwatch detect` (internal/detect, over audit-log events) both classify every
// grantee with it, so a [trust] configuration gives the same verdict on the same grantee in both.
//
// It depends on nothing of ours: grantees are a kind and a value, spelled as internal/inventory
// and internal/event spell them, so both packages (and anything later) can import it without a
// cycle and without converting their records.
package trust

import "strings"

// Config names everything that counts as "us". Every list is optional. Ids and ARNs are compared
// case-insensitively, and ARNs and resource paths are reduced to the id they name, so "o-abc" and
// "arn:aws:organizations::111111111111:organization/o-abc" are the same organisation and
// "123456789012" and "arn:aws:iam::123456789012:root" the same account.
//
// Lists are provider-neutral on purpose: an AWS account id, an Azure subscription GUID and a GCP
// project id cannot be mistaken for each other, and a grantee is judged the same way whichever
// list named it. internal/cli maps the config file's [trust] section onto it.
type Config struct {
	Orgs     []string `json:"orgs,omitempty"`     // our organisations: AWS "o-…" or ARN, GCP "organizations/N" or N
	Accounts []string `json:"accounts,omitempty"` // our AWS accounts, Azure subscriptions, GCP projects (ids and numbers)
	OUs      []string `json:"ous,omitempty"`      // our AWS OUs ("ou-…" or ARN), when the org itself is not ours
	Tenants  []string `json:"tenants,omitempty"`  // our Azure AD tenants
	Domains  []string `json:"domains,omitempty"`  // our identity domains (GCP user:/group:/domain: members)

	// Approved outsiders: DR and forensics accounts, partners, scanners. They classify as
	// Internal; they are kept apart from ours only so that a report can say which is which.
	TrustedAccounts []string `json:"trusted_accounts,omitempty"`
	TrustedOrgs     []string `json:"trusted_orgs,omitempty"`
	TrustedOUs      []string `json:"trusted_ous,omitempty"`
	TrustedTenants  []string `json:"trusted_tenants,omitempty"`
	TrustedProjects []string `json:"trusted_projects,omitempty"`
	TrustedDomains  []string `json:"trusted_domains,omitempty"`
	TrustedMembers  []string `json:"trusted_members,omitempty"` // exact GCP members or principal ARNs
}

// Grantee kinds. They are the values internal/inventory (GrantKind) and internal/event (Grant.Kind)
// write; the two spell "anyone with an account" differently, and both spellings are accepted.
const (
	KindAccount       = "account"             // an AWS account id or ARN (RDS writes public as "all")
	KindOrg           = "org"                 // an AWS organization id or ARN, a GCP organization
	KindOU            = "ou"                  // an AWS organizational unit id or ARN
	KindTenant        = "tenant"              // an Azure AD tenant
	KindSubscription  = "subscription"        // an Azure subscription
	KindMember        = "member"              // a GCP IAM member: user:, group:, serviceAccount:, domain:, allUsers
	KindPrincipal     = "principal"           // an AWS service principal, a principal ARN, an Azure AD object id
	KindPublic        = "public"              // everyone
	KindAuthUsers     = "authenticated-users" // anyone with an account with the cloud (inventory's spelling)
	KindAuthenticated = "authenticated"       // the same, as internal/event spells it
	KindSASLink       = "sas-link"            // a live Azure export URL: whoever holds it
	KindNetworkPublic = "network-public"      // an Azure disk exportable over the public network
)

// Class is where a grantee stands relative to the boundary.
type Class int8

const (
	Internal      Class = iota // inside the organisation, or an approved outsider
	External                   // a named party outside the boundary
	Public                     // everyone (AWS "all", GCP allUsers, a SAS link, a public network export)
	Authenticated              // anyone holding an account with the cloud (GCP allAuthenticatedUsers)
)

var classNames = [...]string{"internal", "external", "public", "authenticated"}

func (c Class) String() string {
	if c < Internal || c > Authenticated {
		return "unknown"
	}
	return classNames[c]
}

// Everyone reports whether the class reaches people nobody named: Public or Authenticated.
// A posture check grades both as public; a detection rule may tell them apart.
func (c Class) Everyone() bool { return c == Public || c == Authenticated }

// ParseClass reads a class name ("internal", "external", "public", "authenticated"), in any case.
func ParseClass(s string) (Class, bool) {
	for i, n := range classNames {
		if strings.EqualFold(s, n) {
			return Class(i), true
		}
	}
	return 0, false
}

type set map[string]struct{}

// has expects v normalized (lower case) already.
func (s set) has(v string) bool {
	if v == "" {
		return false
	}
	_, ok := s[v]
	return ok
}

var unknown Boundary // a nil *Boundary classifies like this: only the owner is internal

// Boundary is a Config compiled for lookups: Classify runs once per grant of every record and
// every event.
type Boundary struct {
	known   bool
	ids     set // accounts, subscriptions, projects, tenants (ours and trusted)
	orgs    set // AWS "o-…" and GCP organization numbers
	ous     set // AWS "ou-…"
	domains set // identity domains
	members set // exact principals, lower case
}

// New compiles c. audited are accounts the caller holds credentials for (the audit's accounts):
// they are ours, so they are internal, but they alone do not make the boundary Known, because
// nobody said what else is ours.
func New(c Config, audited ...string) *Boundary {
	b := &Boundary{ids: set{}, orgs: set{}, ous: set{}, domains: set{}, members: set{}}
	add := func(s set, norm func(string) string, known bool, lists ...[]string) {
		for _, l := range lists {
			for _, v := range l {
				if v = norm(strings.TrimSpace(v)); v != "" {
					s[v] = struct{}{}
					b.known = b.known || known
				}
			}
		}
	}
	lower := strings.ToLower
	add(b.ids, AccountID, true, c.Accounts, c.TrustedAccounts, c.TrustedProjects)
	add(b.ids, AccountID, true, c.Tenants, c.TrustedTenants)
	add(b.orgs, OrgID, true, c.Orgs, c.TrustedOrgs)
	add(b.ous, OUID, true, c.OUs, c.TrustedOUs)
	add(b.domains, lower, true, c.Domains, c.TrustedDomains)
	add(b.members, lower, true, c.TrustedMembers)
	add(b.ids, AccountID, false, audited)
	return b
}

// Known reports whether anything was configured (or discovered and folded into the Config).
// When it was not, only the record's own account (and audited accounts) count as internal, and
// findings say so.
func (b *Boundary) Known() bool { return b != nil && b.known }

// Classify places one grantee of a record. own are the record's own account and the resource
// owner, when known: always internal, configured or not.
func (b *Boundary) Classify(kind, value string, own ...string) Class {
	if b == nil {
		b = &unknown
	}
	v := strings.TrimSpace(value)
	switch kind {
	case KindPublic, KindSASLink, KindNetworkPublic:
		return Public
	case KindAuthUsers, KindAuthenticated:
		return Authenticated
	case KindOrg:
		// Only our (or a trusted) organisation is inside; any other org is a share with every
		// account in it.
		return b.internalIf(b.orgs.has(OrgID(v)))
	case KindOU:
		// An OU lives inside an organisation: internal if the OU or its organisation is ours.
		return b.internalIf(b.ous.has(OUID(v)) || b.orgs.has(OrgOfOU(v)))
	case KindMember:
		return b.member(v, own)
	}
	// Accounts, tenants, subscriptions, principals, and kinds this version does not know.
	lv := strings.ToLower(v)
	switch lv {
	case "all", "*":
		return Public // RDS writes public as "all" among account ids; a key policy as "*"
	case "amazon-redshift-support":
		return Internal // Redshift's own support access, granted by AWS, not a customer
	}
	if b.members.has(lv) {
		return Internal // an exact trusted principal ARN
	}
	// An ARN is judged by its account before anything else: a role may be named
	// "x.amazonaws.com", and that does not make it a service principal.
	if acct := ARNAccount(v); acct != "" {
		return b.internalIf(b.own(strings.ToLower(acct), own))
	}
	if strings.HasSuffix(lv, ".amazonaws.com") {
		return Internal // an AWS service principal acting for the account (KMS grants)
	}
	if kind == KindPrincipal && isGUID(lv) {
		// An Azure AD object id given a role: where it lives needs a directory lookup we do
		// not make, and every role assignment in the tenant would otherwise be a leak.
		return Internal
	}
	return b.internalIf(b.own(AccountID(v), own))
}

// ClassifyAccount places an account, subscription, tenant or project id, or an ARN holding one.
func (b *Boundary) ClassifyAccount(v string, own ...string) Class {
	return b.Classify(KindAccount, v, own...)
}

func (b *Boundary) internalIf(ok bool) Class {
	if ok {
		return Internal
	}
	return External
}

// own reports whether id (normalized) is one of own or inside the boundary's ids.
func (b *Boundary) own(id string, own []string) bool {
	if id == "" {
		return false
	}
	for _, o := range own {
		if o != "" && (strings.EqualFold(o, id) || AccountID(o) == id) {
			return true
		}
	}
	return b.ids.has(id)
}

// member reads a GCP IAM member: "user:", "group:", "serviceAccount:", "domain:",
// "projectOwner:p", "deleted:user:…?uid=…", "principal://…", and the two public spellings.
func (b *Boundary) member(v string, own []string) Class {
	lv := strings.ToLower(v)
	switch lv {
	case "allusers":
		return Public
	case "allauthenticatedusers":
		return Authenticated
	}
	if b.members.has(lv) {
		return Internal
	}
	kind, rest, _ := strings.Cut(lv, ":")
	if kind == "deleted" {
		// A deleted principal keeps its binding (and could be undeleted): judge what it was.
		kind, rest, _ = strings.Cut(rest, ":")
		rest, _, _ = strings.Cut(rest, "?")
	}
	switch kind {
	case "user", "group":
		return b.internalIf(b.domainOK(domainOf(rest)))
	case "domain":
		return b.internalIf(b.domainOK(rest))
	case "serviceaccount":
		return b.internalIf(b.serviceAccountOurs(rest, own))
	case "projectowner", "projecteditor", "projectviewer":
		return b.internalIf(b.own(rest, own))
	}
	return External
}

// serviceAccountOurs places a service account by the project it belongs to.
//
//   - name@PROJECT.iam.gserviceaccount.com belongs to PROJECT, whatever its name: anyone may call
//     an account in their own project "service-<our project number>" or "<our project id>".
//   - Google-managed service agents name our project by number in a project Google owns:
//     service-NUMBER@gcp-sa-*.iam.gserviceaccount.com and a few legacy agent projects
//     (googleAgentProjects), NUMBER-compute@developer.gserviceaccount.com,
//     NUMBER@cloudservices.gserviceaccount.com, NUMBER@cloudbuild.gserviceaccount.com; and
//     App Engine's PROJECT@appspot.gserviceaccount.com names it by id. No customer can create
//     accounts in those domains, so there the local part is trustworthy.
func (b *Boundary) serviceAccountOurs(email string, own []string) bool {
	local, d, _ := strings.Cut(email, "@")
	if p, ok := strings.CutSuffix(d, ".iam.gserviceaccount.com"); ok {
		if n, agent := strings.CutPrefix(local, "service-"); agent && isDigits(n) &&
			(strings.HasPrefix(p, "gcp-sa-") || googleAgentProjects[p]) {
			return b.own(n, own)
		}
		return b.own(p, own) || b.domainOK(d)
	}
	switch d {
	case "appspot.gserviceaccount.com":
		return b.own(local, own)
	case "developer.gserviceaccount.com", "cloudservices.gserviceaccount.com", "cloudbuild.gserviceaccount.com":
		n := strings.TrimSuffix(local, "-compute")
		return isDigits(n) && b.own(n, own)
	}
	return b.domainOK(d)
}

// googleAgentProjects are Google-owned projects holding legacy per-project service agents
// (service-NUMBER@PROJECT.iam.gserviceaccount.com); newer agents live in gcp-sa-* projects.
var googleAgentProjects = map[string]bool{
	"compute-system": true, "container-engine-robot": true, "containerregistry": true,
	"cloud-ml.google.com": true, "dataflow-service-producer-prod": true, "serverless-robot-prod": true,
	"gs-project-accounts": true, "cloud-redis": true, "cloudcomposer-accounts": true,
	"cloud-tpu": true, "cloud-filer": true, "genomics-api": true,
}

// domainOK reports whether d or a parent domain of it is ours or trusted.
func (b *Boundary) domainOK(d string) bool {
	d = strings.ToLower(d)
	for d != "" {
		if b.domains.has(d) {
			return true
		}
		_, parent, ok := strings.Cut(d, ".")
		if !ok || !strings.Contains(parent, ".") {
			return false // never climb to a bare TLD
		}
		d = parent
	}
	return false
}

func domainOf(email string) string {
	_, d, _ := strings.Cut(email, "@")
	return d
}

// AccountID reduces a value naming an account to its id, lower-cased: an ARN
// ("arn:aws:iam::123456789012:root") to its account field, an Azure "/subscriptions/GUID" and a
// GCP "projects/ID" path to the id, an Azure "/tenants/GUID" to the tenant. Other values are
// returned lower-cased.
func AccountID(v string) string {
	if a := ARNAccount(v); a != "" {
		return strings.ToLower(a)
	}
	lv := strings.ToLower(strings.TrimSpace(v))
	for _, p := range [...]string{"/subscriptions/", "/tenants/", "projects/"} {
		if rest, ok := strings.CutPrefix(lv, p); ok {
			id, _, _ := strings.Cut(rest, "/")
			return id
		}
	}
	return lv
}

// ARNAccount returns the account field of an ARN ("arn:aws:iam::123456789012:role/x"), or "".
func ARNAccount(v string) string {
	if len(v) < 4 || !strings.EqualFold(v[:4], "arn:") {
		return ""
	}
	parts := strings.SplitN(v, ":", 6)
	if len(parts) < 6 {
		return ""
	}
	return parts[4]
}

// OrgID reduces "arn:aws:organizations::111:organization/o-abc" to "o-abc" and GCP
// "organizations/123" to "123", lower-cased.
func OrgID(v string) string { return lastSegment(v) }

// OUID reduces "arn:aws:organizations::111:ou/o-abc/ou-xyz" to "ou-xyz", lower-cased.
func OUID(v string) string { return lastSegment(v) }

// OrgOfOU returns the org id inside an OU ARN ("…:ou/o-abc/ou-xyz" → "o-abc"), or "".
func OrgOfOU(v string) string {
	_, path, ok := strings.Cut(strings.ToLower(v), ":ou/")
	if !ok {
		return ""
	}
	org, _, _ := strings.Cut(path, "/")
	return org
}

// lastSegment returns what follows the last "/", lower-cased.
func lastSegment(v string) string {
	v = strings.ToLower(strings.TrimSpace(v))
	if i := strings.LastIndexByte(v, '/'); i >= 0 {
		v = v[i+1:]
	}
	return v
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isGUID reports whether s is 8-4-4-4-12 hex digits (an Azure AD object id).
func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}
