package aws

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dlm"
	dlmtypes "github.com/aws/aws-sdk-go-v2/service/dlm/types"

	"github.com/snapwatch/snapwatch/internal/inventory"
)

// readDLM reads the lifecycle policies that share the snapshots they create. The listing
// gives summaries only, so each policy costs one GetLifecyclePolicy; accounts have a handful.
func (s *scope) readDLM(ctx context.Context) {
	cli := dlm.NewFromConfig(s.cfg)
	list, err := cli.GetLifecyclePolicies(ctx, &dlm.GetLifecyclePoliciesInput{})
	if err != nil {
		s.fail("dlm:GetLifecyclePolicies", err)
		return
	}
	out := make([]inventory.SharePolicy, len(list.Policies))
	keep := make([]bool, len(list.Policies))
	var fails failures
	s.each(ctx, len(list.Policies), func(i int) {
		sum := list.Policies[i]
		p, err := cli.GetLifecyclePolicy(ctx, &dlm.GetLifecyclePolicyInput{PolicyId: sum.PolicyId})
		if err != nil {
			if !notFound(err) {
				fails.add(err)
			}
			return
		}
		out[i], keep[i] = s.sharePolicy(p.Policy)
	})
	fails.report(s, "dlm:GetLifecyclePolicy", len(list.Policies), "lifecycle policies")
	s.mu.Lock()
	for i := range out {
		if keep[i] {
			s.inv.SharePolicies = append(s.inv.SharePolicies, out[i])
		}
	}
	s.mu.Unlock()
}

// sharePolicy turns a policy's ShareRules into targets; a policy that shares nothing is not
// recorded.
func (s *scope) sharePolicy(p *dlmtypes.LifecyclePolicy) (inventory.SharePolicy, bool) {
	if p == nil || p.PolicyDetails == nil {
		return inventory.SharePolicy{}, false
	}
	sp := inventory.SharePolicy{Provider: inventory.AWS, Account: s.account, Region: s.region, ID: aws.ToString(p.PolicyId),
		ARN: aws.ToString(p.PolicyArn), Name: aws.ToString(p.Description), Kind: "dlm-policy",
		Enabled: p.State == dlmtypes.GettablePolicyStateValuesEnabled}
	for i, sch := range p.PolicyDetails.Schedules {
		for j, r := range sch.ShareRules {
			for _, a := range r.TargetAccounts {
				sp.Targets = append(sp.Targets, inventory.Grant{Kind: inventory.GrantAccount, Value: a, Via: inventory.ViaPolicy})
			}
			if len(r.TargetAccounts) > 0 && sp.Rule == "" {
				sp.Rule = fmt.Sprintf("Schedules[%d].ShareRules[%d]", i, j)
			}
		}
	}
	return sp, len(sp.Targets) > 0
}
