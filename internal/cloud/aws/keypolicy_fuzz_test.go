package aws

import (
	"testing"

	"github.com/snapwatch/snapwatch/internal/inventory"
)

// Key policies come from the accounts being audited, which an attacker may control: any
// document must give grants or an error, never a panic, and every grant must name someone.
func FuzzPolicyGrantees(f *testing.F) {
	for _, s := range []string{
		`{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"kms:*","Resource":"*"}]}`,
		`{"Statement":{"Effect":"Allow","Principal":{"AWS":["999999999999"]},"Action":["kms:Decrypt"]}}`,
		`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"kms:CreateGrant","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abc"}}}]}`,
		`{"Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"kms:Re*","Condition":{"ForAnyValue:StringLike":{"aws:PrincipalOrgPaths":["o-abc/r-1/ou-xyz/*"]}}}]}`,
		`{"Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"kms:Decrypt"}]}`,
		`{"Statement":null}`, `[]`, `{`, ``,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		grants, err := policyGrantees(doc)
		if err != nil {
			return
		}
		for _, g := range grants {
			if g.Value == "" && g.Kind != inventory.GrantPublic {
				t.Fatalf("grant without a grantee: %+v from %q", g, doc)
			}
		}
	})
}
