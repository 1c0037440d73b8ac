package cloudsim

import (
	"net/http"
	"slices"
	"strings"
	"time"
)

// Data Lifecycle Manager (restJson1): GET /policies lists summaries, GET /policies/{id} returns
// one policy with its schedules, whose ShareRules share every snapshot made with other accounts.
func init() {
	register(&service{
		name: "dlm", proto: protoRESTJSON,
		route: func(r *http.Request) (string, map[string]string) {
			if r.Method != http.MethodGet {
				return "", nil
			}
			p := strings.Trim(r.URL.Path, "/")
			if p == "policies" {
				return "GetLifecyclePolicies", nil
			}
			if id, ok := strings.CutPrefix(p, "policies/"); ok && id != "" && !strings.Contains(id, "/") {
				return "GetLifecyclePolicy", map[string]string{"PolicyId": id}
			}
			return "", nil
		},
		actions:   map[string]handler{"GetLifecyclePolicies": dlmGetPolicies, "GetLifecyclePolicy": dlmGetPolicy},
		throttle:  errSpec{http.StatusTooManyRequests, "LimitExceededException"},
		internal:  errSpec{http.StatusInternalServerError, "InternalServerException"},
		denied:    errSpec{http.StatusForbidden, "AccessDeniedException"},
		authFail:  errSpec{http.StatusForbidden, "UnrecognizedClientException"},
		notFoundA: "UnknownOperationException",
	})
}

func dlmState(p *DLMPolicy) string { return orDefault(p.State, "ENABLED") }
func dlmType(p *DLMPolicy) string  { return orDefault(p.PolicyType, "EBS_SNAPSHOT_MANAGEMENT") }

func dlmGetPolicies(c *call) {
	q := c.form
	ids, state, types, targetTags := q["policyIds"], q.Get("state"), q["resourceTypes"], q["targetTags"]
	out := []map[string]any{}
	for i := range c.reg.r.DLMPolicies {
		p := &c.reg.r.DLMPolicies[i]
		if (len(ids) > 0 && !slices.Contains(ids, p.ID)) || (state != "" && state != dlmState(p)) {
			continue
		}
		if len(types) > 0 && !slices.Contains(types, "VOLUME") {
			continue
		}
		if len(targetTags) > 0 {
			hit := false
			for _, t := range p.TargetTags {
				hit = hit || slices.Contains(targetTags, t.Key+"="+t.Value)
			}
			if !hit {
				continue
			}
		}
		out = append(out, map[string]any{"PolicyId": p.ID, "Description": p.Description, "State": dlmState(p),
			"PolicyType": dlmType(p), "DefaultPolicy": false, "Tags": map[string]string{}})
	}
	c.sendJSON(map[string]any{"Policies": out})
}

func dlmGetPolicy(c *call) {
	id := c.params["PolicyId"]
	var p *DLMPolicy
	for i := range c.reg.r.DLMPolicies {
		if c.reg.r.DLMPolicies[i].ID == id {
			p = &c.reg.r.DLMPolicies[i]
		}
	}
	if p == nil {
		c.fail(http.StatusNotFound, "ResourceNotFoundException", "Lifecycle policy with ID "+id+" was not found.")
		return
	}
	created := p.Created
	if created.IsZero() {
		created = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	tags := []map[string]string{}
	for _, t := range p.TargetTags {
		tags = append(tags, map[string]string{"Key": t.Key, "Value": t.Value})
	}
	scheds := []map[string]any{}
	for _, s := range p.Schedules {
		iv, keep := s.IntervalHours, s.RetainCount
		if iv == 0 {
			iv = 24
		}
		if keep == 0 {
			keep = 7
		}
		m := map[string]any{"Name": s.Name, "CopyTags": false,
			"CreateRule": map[string]any{"Interval": iv, "IntervalUnit": "HOURS", "Times": []string{"03:00"}},
			"RetainRule": map[string]any{"Count": keep}}
		if len(s.ShareWith) > 0 {
			rule := map[string]any{"TargetAccounts": s.ShareWith}
			if s.UnshareInterval > 0 {
				rule["UnshareInterval"] = s.UnshareInterval
				rule["UnshareIntervalUnit"] = orDefault(s.UnshareIntervalUnit, "DAYS")
			}
			m["ShareRules"] = []any{rule}
		}
		scheds = append(scheds, m)
	}
	iso := created.UTC().Format(time.RFC3339)
	c.sendJSON(map[string]any{"Policy": map[string]any{
		"PolicyId": p.ID, "Description": p.Description, "State": dlmState(p), "StatusMessage": "ENABLED",
		"ExecutionRoleArn": "arn:aws:iam::" + c.reg.owner + ":role/AWSDataLifecycleManagerDefaultRole",
		"DateCreated":      iso, "DateModified": iso, "DefaultPolicy": false,
		"PolicyArn": "arn:aws:dlm:" + c.region + ":" + c.reg.owner + ":policy/" + p.ID,
		"Tags":      map[string]string{},
		"PolicyDetails": map[string]any{"PolicyType": dlmType(p), "ResourceTypes": []string{"VOLUME"},
			"TargetTags": tags, "Schedules": scheds},
	}})
}
