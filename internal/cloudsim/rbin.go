package cloudsim

import (
	"net/http"
	"strings"
)

// Recycle Bin (restJson1): POST /list-rules and GET /rules/{id}. The retention rules say how
// long a deleted snapshot or AMI stays restorable, and so how long a "deleted" leak lingers.
func init() {
	register(&service{
		name: "rbin", proto: protoRESTJSON,
		route: func(r *http.Request) (string, map[string]string) {
			p := strings.Trim(r.URL.Path, "/")
			switch {
			case r.Method == http.MethodPost && p == "list-rules":
				return "ListRules", nil
			case r.Method == http.MethodGet && strings.HasPrefix(p, "rules/") && !strings.Contains(p[6:], "/"):
				return "GetRule", map[string]string{"Identifier": p[6:]}
			}
			return "", nil
		},
		actions:   map[string]handler{"ListRules": rbinListRules, "GetRule": rbinGetRule},
		throttle:  errSpec{http.StatusTooManyRequests, "ThrottlingException"},
		internal:  errSpec{http.StatusInternalServerError, "InternalServerException"},
		denied:    errSpec{http.StatusForbidden, "AccessDeniedException"},
		authFail:  errSpec{http.StatusForbidden, "UnrecognizedClientException"},
		notFoundA: "UnknownOperationException",
	})
}

func (c *call) rbinRule(r *RecycleBinRule) map[string]any {
	m := map[string]any{"Identifier": r.ID, "Description": r.Description,
		"RetentionPeriod": map[string]any{"RetentionPeriodValue": r.RetentionDays, "RetentionPeriodUnit": "DAYS"},
		"RuleArn":         "arn:aws:rbin:" + c.region + ":" + c.reg.owner + ":rule/" + r.ID}
	if r.Locked {
		m["LockState"] = "locked"
	} else {
		m["LockState"] = "unlocked"
	}
	return m
}

func rbinListRules(c *call) {
	var in struct {
		ResourceType string
		MaxResults   int
		NextToken    string
		LockState    string
	}
	if !c.decodeJSON(&in) {
		return
	}
	if in.ResourceType != "EBS_SNAPSHOT" && in.ResourceType != "EC2_IMAGE" {
		c.reason = "INVALID_VALUE"
		c.fail(http.StatusBadRequest, "ValidationException", "ResourceType must be EBS_SNAPSHOT or EC2_IMAGE")
		return
	}
	var sel []*RecycleBinRule
	for i := range c.reg.r.RecycleBinRules {
		r := &c.reg.r.RecycleBinRules[i]
		if r.ResourceType == in.ResourceType && (in.LockState == "" || (in.LockState == "locked") == r.Locked) {
			sel = append(sel, r)
		}
	}
	start, end, next, ok := c.jsonPage(len(sel), in.NextToken, in.MaxResults, 1000, 1000, "ValidationException")
	if !ok {
		return
	}
	rules := []map[string]any{}
	for _, r := range sel[start:end] {
		rules = append(rules, c.rbinRule(r))
	}
	c.sendJSON(withNext(map[string]any{"Rules": rules}, "NextToken", next))
}

func rbinGetRule(c *call) {
	id := c.params["Identifier"]
	for i := range c.reg.r.RecycleBinRules {
		r := &c.reg.r.RecycleBinRules[i]
		if r.ID == id {
			m := c.rbinRule(r)
			m["ResourceType"] = r.ResourceType
			m["Status"] = "available"
			c.sendJSON(m)
			return
		}
	}
	c.reason = "RULE_NOT_FOUND"
	c.fail(http.StatusNotFound, "ResourceNotFoundException", "Rule "+id+" was not found")
}
