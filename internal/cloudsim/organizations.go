package cloudsim

import (
	"net/http"
	"time"
)

// AWS Organizations (awsJson1.1, target AWSOrganizationsV20161128): the organisation, its
// accounts and the OU tree. Any member may describe the organisation; the listings are for the
// management account and delegated administrators only.
func init() {
	register(&service{
		name: "organizations", proto: protoJSON, target: "AWSOrganizationsV20161128", global: true,
		actions: map[string]handler{
			"DescribeOrganization":             orgDescribe,
			"ListAccounts":                     orgListAccounts,
			"ListRoots":                        orgListRoots,
			"ListOrganizationalUnitsForParent": orgListOUs,
			"ListAccountsForParent":            orgListAccountsForParent,
			"ListParents":                      orgListParents,
		},
		throttle:  errSpec{http.StatusBadRequest, "TooManyRequestsException"},
		internal:  errSpec{http.StatusInternalServerError, "ServiceException"},
		denied:    errSpec{http.StatusBadRequest, "AccessDeniedException"},
		authFail:  errSpec{http.StatusBadRequest, "UnrecognizedClientException"},
		notFoundA: "UnknownOperationException",
	})
}

type orgAccount struct {
	ID              string `json:"Id"`
	Arn             string
	Email           string
	Name            string
	Status          string
	State           string
	JoinedMethod    string
	JoinedTimestamp *epoch
}

type orgUnit struct {
	ID   string `json:"Id"`
	Arn  string
	Name string
}

// orgMember checks the caller is in the organisation; admin also requires the management
// account or a delegated administrator.
func (c *call) orgMember(admin bool) *orgView {
	v := c.a.org
	if v == nil || !v.member[c.p.account] {
		c.fail(http.StatusBadRequest, "AWSOrganizationsNotInUseException", "Your account is not a member of an organization.")
		return nil
	}
	if admin && c.p.account != v.o.ManagementAccount && !contains(v.o.DelegatedAdmins, c.p.account) {
		c.fail(http.StatusBadRequest, "AccessDeniedException", "You don't have permissions to access this resource.")
		return nil
	}
	return v
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

var orgJoined = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

func (c *call) orgAccount(v *orgView, id string) orgAccount {
	a := orgAccount{ID: id, Arn: "arn:aws:organizations::" + v.o.ManagementAccount + ":account/" + v.o.ID + "/" + id,
		Status: "ACTIVE", State: "ACTIVE", JoinedMethod: "INVITED", JoinedTimestamp: epochPtr(orgJoined), Email: id + "@example.com"}
	if id == v.o.ManagementAccount {
		a.JoinedMethod = "CREATED"
	}
	if acct := c.a.accounts[id]; acct != nil {
		a.Name = acct.est.Name
		if acct.est.Email != "" {
			a.Email = acct.est.Email
		}
	}
	if a.Name == "" {
		a.Name = id
	}
	return a
}

// memberIDs lists the members in estate order (the order ListAccounts pages through).
func (c *call) memberIDs(v *orgView, parent string) []string {
	var out []string
	for _, acct := range c.a.order {
		if v.member[acct.id] && (parent == "" || v.parent[acct.id] == parent) {
			out = append(out, acct.id)
		}
	}
	return out
}

type orgPageReq struct {
	NextToken  string
	MaxResults int
	ParentID   string `json:"ParentId"`
	ChildID    string `json:"ChildId"`
}

// jsonPage pages n items for awsJson services; max caps MaxResults.
func (c *call) jsonPage(n int, token string, limit, def, hi int, badToken string) (start, end int, next *string, ok bool) {
	start, ok = parsePageToken(c.action, token)
	if !ok {
		c.fail(http.StatusBadRequest, badToken, "The specified pagination token is not valid.")
		return
	}
	if limit <= 0 {
		limit = def
	}
	limit = min(limit, hi)
	start = min(start, n)
	end = min(n, start+limit)
	if end < n {
		t := pageToken(c.action, end)
		next = &t
	}
	return start, end, next, true
}

// withNext adds the next-page token when there is one: absent, not null, as AWS writes it.
func withNext(m map[string]any, key string, next *string) map[string]any {
	if next != nil {
		m[key] = *next
	}
	return m
}

func orgDescribe(c *call) {
	v := c.orgMember(false)
	if v == nil {
		return
	}
	email := v.o.ManagementAccount + "@example.com"
	if m := c.a.accounts[v.o.ManagementAccount]; m != nil && m.est.Email != "" {
		email = m.est.Email
	}
	c.sendJSON(map[string]any{"Organization": map[string]any{
		"Id": v.o.ID, "Arn": v.arn, "FeatureSet": "ALL",
		"MasterAccountArn":   "arn:aws:organizations::" + v.o.ManagementAccount + ":account/" + v.o.ID + "/" + v.o.ManagementAccount,
		"MasterAccountId":    v.o.ManagementAccount,
		"MasterAccountEmail": email,
		"AvailablePolicyTypes": []map[string]string{{"Type": "SERVICE_CONTROL_POLICY", "Status": "ENABLED"},
			{"Type": "DECLARATIVE_POLICY_EC2", "Status": "ENABLED"}},
	}})
}

func orgListAccounts(c *call) {
	c.orgAccounts("")
}

func orgListAccountsForParent(c *call) {
	c.orgAccounts("parent")
}

func (c *call) orgAccounts(mode string) {
	v := c.orgMember(true)
	if v == nil {
		return
	}
	var in orgPageReq
	if !c.decodeJSON(&in) {
		return
	}
	parent := ""
	if mode == "parent" {
		if in.ParentID != v.rootID && v.units[in.ParentID] == nil {
			c.fail(http.StatusBadRequest, "ParentNotFoundException", "We can't find a root or OU with the ParentId that you specified.")
			return
		}
		parent = in.ParentID
	}
	ids := c.memberIDs(v, parent)
	start, end, next, ok := c.jsonPage(len(ids), in.NextToken, in.MaxResults, 20, 20, "InvalidInputException")
	if !ok {
		return
	}
	out := make([]orgAccount, 0, end-start)
	for _, id := range ids[start:end] {
		out = append(out, c.orgAccount(v, id))
	}
	c.sendJSON(withNext(map[string]any{"Accounts": out}, "NextToken", next))
}

func orgListRoots(c *call) {
	v := c.orgMember(true)
	if v == nil {
		return
	}
	c.sendJSON(map[string]any{"Roots": []map[string]any{{"Id": v.rootID, "Arn": v.rootARN, "Name": "Root",
		"PolicyTypes": []map[string]string{{"Type": "SERVICE_CONTROL_POLICY", "Status": "ENABLED"}}}}})
}

func orgListOUs(c *call) {
	v := c.orgMember(true)
	if v == nil {
		return
	}
	var in orgPageReq
	if !c.decodeJSON(&in) {
		return
	}
	var children []*Unit
	switch {
	case in.ParentID == v.rootID:
		children = v.o.Units
	case v.units[in.ParentID] != nil:
		children = v.units[in.ParentID].Units
	default:
		c.fail(http.StatusBadRequest, "ParentNotFoundException", "We can't find a root or OU with the ParentId that you specified.")
		return
	}
	start, end, next, ok := c.jsonPage(len(children), in.NextToken, in.MaxResults, 20, 20, "InvalidInputException")
	if !ok {
		return
	}
	out := make([]orgUnit, 0, end-start)
	for _, u := range children[start:end] {
		out = append(out, orgUnit{ID: u.ID, Arn: v.ouARN(u.ID), Name: u.Name})
	}
	c.sendJSON(withNext(map[string]any{"OrganizationalUnits": out}, "NextToken", next))
}

func orgListParents(c *call) {
	v := c.orgMember(true)
	if v == nil {
		return
	}
	var in orgPageReq
	if !c.decodeJSON(&in) {
		return
	}
	p, ok := v.parent[in.ChildID]
	if !ok {
		c.fail(http.StatusBadRequest, "ChildNotFoundException", "We can't find an organizational unit (OU) or AWS account with the ChildId that you specified.")
		return
	}
	typ := "ORGANIZATIONAL_UNIT"
	if p == v.rootID {
		typ = "ROOT"
	}
	c.sendJSON(map[string]any{"Parents": []map[string]string{{"Id": p, "Type": typ}}})
}
