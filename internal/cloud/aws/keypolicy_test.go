package aws

import (
	"slices"
	"testing"

	"github.com/snapwatch/snapwatch/internal/inventory"
)

func TestPolicyGrantees(t *testing.T) {
	g := func(k inventory.GrantKind, v string) inventory.Grant {
		return inventory.Grant{Kind: k, Value: v, Via: inventory.ViaKeyPolicy}
	}
	cases := []struct {
		name, doc string
		want      []inventory.Grant
	}{
		{"default policy: the owner only",
			`{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"kms:*","Resource":"*"}]}`,
			[]inventory.Grant{g(inventory.GrantAccount, "arn:aws:iam::111111111111:root")}},
		{"one statement object, list of principals, DescribeKey alone does not count",
			`{"Statement":{"Effect":"Allow","Principal":{"AWS":["999999999999","arn:aws:iam::888888888888:role/x"]},"Action":["kms:Decrypt"]}}`,
			[]inventory.Grant{g(inventory.GrantAccount, "999999999999"), g(inventory.GrantAccount, "arn:aws:iam::888888888888:role/x")}},
		{"describe only", `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"999999999999"},"Action":"kms:DescribeKey"}]}`, nil},
		{"star scoped to an org",
			`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"kms:CreateGrant","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abc"}}}]}`,
			[]inventory.Grant{g(inventory.GrantOrg, "o-abc")}},
		{"star scoped to OU paths",
			`{"Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"kms:Re*","Condition":{"ForAnyValue:StringLike":{"aws:PrincipalOrgPaths":["o-abc/r-1/ou-xyz/*"]}}}]}`,
			[]inventory.Grant{g(inventory.GrantOU, "o-abc/r-1/ou-xyz")}},
		{"star scoped to the caller account (the aws/ebs policy)",
			`{"Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":["kms:Decrypt"],"Condition":{"StringEquals":{"kms:ViaService":"ec2.us-east-1.amazonaws.com","kms:CallerAccount":"111111111111"}}}]}`,
			[]inventory.Grant{g(inventory.GrantAccount, "111111111111")}},
		{"unscoped star is public",
			`{"Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"kms:*","Condition":{"StringEquals":{"kms:ViaService":"ec2.us-east-1.amazonaws.com"}}}]}`,
			[]inventory.Grant{g(inventory.GrantPublic, "*")}},
		{"deny and service principals ignored",
			`{"Statement":[{"Effect":"Deny","Principal":{"AWS":"999999999999"},"Action":"kms:*"},{"Effect":"Allow","Principal":{"Service":"logs.amazonaws.com"},"Action":"kms:Decrypt"}]}`,
			nil},
	}
	for _, c := range cases {
		got, err := policyGrantees(c.doc)
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("%s: got %+v %v, want %+v", c.name, got, err, c.want)
		}
	}
	if _, err := policyGrantees("not json"); err == nil {
		t.Error("bad policy accepted")
	}
}
