package aws

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/snapwatch/snapwatch/internal/inventory"
)

// Options say what Collect reads and how hard it may push. The zero value audits the caller's
// account in every region enabled for it, with the default credential chain.
type Options struct {
	Regions      []string       // nil: every region enabled for each account (ec2:DescribeRegions)
	Accounts     []string       // nil: all ACTIVE org accounts when OrgRole set, else the caller's account
	OrgRole      string         // role name assumed in each member account (arn:aws:iam::ACCT:role/NAME); the caller's own account is read with the caller's credentials
	Profile      string         // shared-config profile ("" = default chain)
	EndpointURL  string         // custom base endpoint for every service (S3 path-style); used by tests/demo with internal/cloudsim
	Concurrency  int            // upper bound of calls in flight per account+region and service (default 8), adaptive (AIMD) below it
	PublicSearch bool           // attacker's view: list public snapshots/AMIs of each region owned by the org's accounts (RestorableByUserIds=all / ExecutableUsers=all with owner filter)
	Include      []string       // optional resource families to collect: "ebs","ami","rds","redshift","rbin","exports","dlm","guards" (nil = all)
	Progress     func(Progress) // optional, called as scopes finish
	HTTPClient   *http.Client   // optional
}

// Progress reports one finished account+region scope.
type Progress struct {
	Account, Region string
	Done, Total     int
}

// Stats are what an audit cost. Calls counts HTTP attempts (what AWS bills against the API
// rate limits), so a retried call counts once per attempt; Retries is the attempts beyond the
// first; Throttled the attempts AWS answered with a throttling error.
type Stats struct {
	Calls         int
	CallsByAction map[string]int // "ec2:DescribeSnapshots" → attempts
	Throttled     int
	Retries       int
	Accounts      int // accounts audited (attempted)
	Regions       int // distinct regions audited
	Duration      time.Duration
}

// Families Include accepts.
const (
	FamilyEBS      = "ebs"
	FamilyAMI      = "ami"
	FamilyRDS      = "rds" // RDS, Aurora, DocumentDB and Neptune snapshots: one API
	FamilyRedshift = "redshift"
	FamilyRbin     = "rbin"
	FamilyExports  = "exports"
	FamilyDLM      = "dlm"
	FamilyGuards   = "guards"
)

var allFamilies = []string{FamilyEBS, FamilyAMI, FamilyRDS, FamilyRedshift, FamilyRbin, FamilyExports, FamilyDLM, FamilyGuards}

// families resolves Include into a set, refusing names it does not know so that a typo in a
// config file does not silently skip a family.
func families(include []string) (map[string]bool, error) {
	m := map[string]bool{}
	if len(include) == 0 {
		for _, f := range allFamilies {
			m[f] = true
		}
		return m, nil
	}
	for _, f := range include {
		f = strings.ToLower(strings.TrimSpace(f))
		known := false
		for _, k := range allFamilies {
			known = known || k == f
		}
		if !known {
			return nil, fmt.Errorf("aws: unknown resource family %q (want one of %s)", f, strings.Join(allFamilies, ", "))
		}
		m[f] = true
	}
	return m, nil
}

// PartialError is the error Collect returns when some scopes could not be read. The inventory
// returned with it is complete except for those scopes.
type PartialError struct {
	Errors []inventory.ScopeError
}

func (e *PartialError) Error() string {
	const show = 3
	var b strings.Builder
	fmt.Fprintf(&b, "aws: %d scope(s) could not be read", len(e.Errors))
	for i, se := range e.Errors {
		if i == show {
			fmt.Fprintf(&b, "; and %d more", len(e.Errors)-show)
			break
		}
		b.WriteString("; ")
		b.WriteString(se.Error())
	}
	return b.String()
}
