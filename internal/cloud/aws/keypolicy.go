package aws

import (
	"encoding/json"
	"fmt"
	"path"
	"strings"

	"github.com/snapwatch/snapwatch/internal/inventory"
)

// policyGrantees reads a KMS key policy and returns the principals an Allow statement lets
// decrypt with the key, or create a grant that does (which amounts to the same). The reading
// is deliberately generous: Deny statements and conditions other than the ones that name who
// may call are ignored, so a policy is never read as tighter than it is; an over-generous
// reading only raises a share's severity.
//
//   - A principal "*" (or {"AWS":"*"}) scoped by aws:PrincipalOrgID becomes an org grant, by
//     aws:PrincipalOrgPaths an OU grant, by kms:CallerAccount / aws:PrincipalAccount account
//     grants; unscoped, it is public.
//   - Account ids and ARNs become account grants (posture reduces an ARN to its account).
//   - Service principals are AWS acting for the account and are skipped.
func policyGrantees(doc string) ([]inventory.Grant, error) {
	var p struct {
		Statement json.RawMessage
	}
	if err := json.Unmarshal([]byte(doc), &p); err != nil {
		return nil, fmt.Errorf("key policy: %w", err)
	}
	var stmts []policyStatement
	if err := oneOrMany(p.Statement, &stmts); err != nil {
		return nil, fmt.Errorf("key policy statements: %w", err)
	}
	var out []inventory.Grant
	add := func(k inventory.GrantKind, v string) {
		v = strings.TrimSpace(v)
		if v == "" {
			return // AWS refuses such a policy; an empty name grants no one
		}
		g := inventory.Grant{Kind: k, Value: v, Via: inventory.ViaKeyPolicy}
		for _, x := range out {
			if x == g {
				return
			}
		}
		out = append(out, g)
	}
	for _, st := range stmts {
		if !strings.EqualFold(st.Effect, "Allow") || !st.allowsDecrypt() {
			continue
		}
		for _, pr := range st.principals() {
			if pr != "*" {
				add(inventory.GrantAccount, pr)
				continue
			}
			scoped := false
			for op, conds := range st.Condition {
				if strings.Contains(strings.ToLower(op), "not") {
					continue // StringNotEquals and kin exclude, they do not scope
				}
				for key, raw := range conds {
					var vals []string
					if oneOrMany(raw, &vals) != nil {
						continue
					}
					switch strings.ToLower(key) {
					case "aws:principalorgid":
						for _, v := range vals {
							add(inventory.GrantOrg, v)
						}
						scoped = true
					case "aws:principalorgpaths":
						for _, v := range vals {
							add(inventory.GrantOU, strings.TrimSuffix(strings.TrimSuffix(v, "*"), "/"))
						}
						scoped = true
					case "kms:calleraccount", "aws:principalaccount":
						for _, v := range vals {
							add(inventory.GrantAccount, v)
						}
						scoped = true
					}
				}
			}
			if !scoped {
				add(inventory.GrantPublic, "*")
			}
		}
	}
	return out, nil
}

type policyStatement struct {
	Effect    string
	Principal json.RawMessage
	Action    json.RawMessage
	Condition map[string]map[string]json.RawMessage
}

// decryptActions are the actions that let a recipient use a shared snapshot's data.
var decryptActions = []string{"kms:decrypt", "kms:creategrant", "kms:reencryptfrom"}

func (st *policyStatement) allowsDecrypt() bool {
	var acts []string
	if oneOrMany(st.Action, &acts) != nil {
		return false
	}
	for _, a := range acts {
		pat := strings.ToLower(a)
		for _, want := range decryptActions {
			if ok, _ := path.Match(pat, want); ok || pat == "*" {
				return true
			}
		}
	}
	return false
}

// principals returns the AWS principals of a statement: "*" or account ids / ARNs.
func (st *policyStatement) principals() []string {
	var star string
	if json.Unmarshal(st.Principal, &star) == nil {
		if star == "*" {
			return []string{"*"}
		}
		return nil
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(st.Principal, &m) != nil {
		return nil
	}
	var out []string
	for k, raw := range m {
		if !strings.EqualFold(k, "AWS") {
			continue // Service, Federated: not another account
		}
		var vs []string
		if oneOrMany(raw, &vs) == nil {
			out = append(out, vs...)
		}
	}
	return out
}

// oneOrMany decodes a JSON value that IAM allows as one item or a list.
func oneOrMany[T any](raw json.RawMessage, out *[]T) error {
	if len(raw) == 0 {
		return nil
	}
	if err := json.Unmarshal(raw, out); err == nil {
		return nil
	}
	var one T
	if err := json.Unmarshal(raw, &one); err != nil {
		return err
	}
	*out = []T{one}
	return nil
}
