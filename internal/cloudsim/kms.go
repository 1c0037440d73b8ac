package cloudsim

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"time"
)

// KMS (awsJson1.1, target TrentService): DescribeKey, GetKeyPolicy, ListGrants, ListAliases —
// what "can the recipient of a share decrypt it" needs. The simulator also uses a key's policy
// and grants itself, to refuse EBS direct reads of encrypted snapshots by accounts the key does
// not admit.
func init() {
	register(&service{
		name: "kms", proto: protoJSON, target: "TrentService",
		actions: map[string]handler{
			"DescribeKey":  kmsDescribeKey,
			"GetKeyPolicy": kmsGetKeyPolicy,
			"ListGrants":   kmsListGrants,
			"ListAliases":  kmsListAliases,
		},
		throttle:  errSpec{http.StatusBadRequest, "ThrottlingException"},
		internal:  errSpec{http.StatusInternalServerError, "KMSInternalException"},
		denied:    errSpec{http.StatusBadRequest, "AccessDeniedException"},
		authFail:  errSpec{http.StatusBadRequest, "UnrecognizedClientException"},
		notFoundA: "UnknownOperationException",
	})
}

var keyCreated = time.Date(2021, 6, 1, 0, 0, 0, 0, time.UTC)

type kmsReq struct {
	KeyID            string `json:"KeyId"`
	PolicyName       string
	Limit            int
	Marker           string
	GrantID          string `json:"GrantId"`
	GranteePrincipal string
}

// kmsKey resolves the request's key; cross-account use needs the key to admit the caller.
func (c *call) kmsKey(ref string, allowAlias bool) (*KMSKey, string, string, bool) {
	if ref == "" {
		c.fail(http.StatusBadRequest, "ValidationException", "1 validation error detected: Value null at 'keyId' failed to satisfy constraint: Member must not be null")
		return nil, "", "", false
	}
	if !allowAlias && (strings.HasPrefix(ref, "alias/") || strings.Contains(ref, ":alias/")) {
		c.fail(http.StatusBadRequest, "NotFoundException", "Invalid keyId "+ref)
		return nil, "", "", false
	}
	k, owner, reg := c.a.lookupKey(c.p.account, c.region, ref)
	if k == nil {
		c.fail(http.StatusBadRequest, "NotFoundException", "Key '"+ref+"' does not exist")
		return nil, "", "", false
	}
	if owner != c.p.account && !c.a.kmsAdmits(k, owner, reg, c.p.account, "kms:DescribeKey") {
		c.fail(http.StatusBadRequest, "AccessDeniedException", "User: "+c.p.arn+" is not authorized to perform: kms:"+c.action+" on resource: "+keyARN(owner, reg, k.ID))
		return nil, "", "", false
	}
	return k, owner, reg, true
}

func kmsDescribeKey(c *call) {
	var in kmsReq
	if !c.decodeJSON(&in) {
		return
	}
	k, owner, reg, ok := c.kmsKey(in.KeyID, true)
	if !ok {
		return
	}
	manager, state := "CUSTOMER", "Enabled"
	if k.AWSManaged {
		manager = "AWS"
	}
	if k.Disabled {
		state = "Disabled"
	}
	created := k.Created
	if created.IsZero() {
		created = keyCreated
	}
	c.sendJSON(map[string]any{"KeyMetadata": map[string]any{
		"AWSAccountId": owner, "KeyId": k.ID, "Arn": keyARN(owner, reg, k.ID), "CreationDate": epoch(created),
		"Enabled": !k.Disabled, "Description": k.Description, "KeyUsage": "ENCRYPT_DECRYPT", "KeyState": state,
		"Origin": "AWS_KMS", "KeyManager": manager, "CustomerMasterKeySpec": "SYMMETRIC_DEFAULT", "KeySpec": "SYMMETRIC_DEFAULT",
		"EncryptionAlgorithms": []string{"SYMMETRIC_DEFAULT"}, "MultiRegion": false,
	}})
}

func kmsGetKeyPolicy(c *call) {
	var in kmsReq
	if !c.decodeJSON(&in) {
		return
	}
	k, owner, reg, ok := c.kmsKey(in.KeyID, false)
	if !ok {
		return
	}
	if owner != c.p.account { // GetKeyPolicy does not work across accounts
		c.fail(http.StatusBadRequest, "AccessDeniedException", "User: "+c.p.arn+" is not authorized to perform: kms:GetKeyPolicy on resource: "+keyARN(owner, reg, k.ID))
		return
	}
	name := in.PolicyName
	if name == "" {
		name = "default"
	}
	if name != "default" {
		c.fail(http.StatusBadRequest, "NotFoundException", "No such policy exists")
		return
	}
	c.sendJSON(map[string]any{"Policy": keyPolicy(k, owner, reg), "PolicyName": name})
}

// keyPolicy is the key's policy document: the estate's, or the default AWS writes for a new
// customer key, or the policy of an AWS managed EBS key (usable only through EC2 by the account).
func keyPolicy(k *KMSKey, owner, reg string) string {
	if k.Policy != "" {
		return k.Policy
	}
	if k.AWSManaged {
		return `{"Version":"2012-10-17","Id":"auto-ebs-2","Statement":[{"Sid":"Allow access through EBS for all principals in the account that are authorized to use EBS","Effect":"Allow","Principal":{"AWS":"*"},"Action":["kms:Encrypt","kms:Decrypt","kms:ReEncrypt*","kms:GenerateDataKey*","kms:CreateGrant","kms:DescribeKey"],"Resource":"*","Condition":{"StringEquals":{"kms:ViaService":"ec2.` + reg + `.amazonaws.com","kms:CallerAccount":"` + owner + `"}}},{"Sid":"Allow direct access to key metadata to the account","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + owner + `:root"},"Action":["kms:Describe*","kms:Get*","kms:List*","kms:RevokeGrant"],"Resource":"*"}]}`
	}
	return `{"Version":"2012-10-17","Id":"key-default-1","Statement":[{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + owner + `:root"},"Action":"kms:*","Resource":"*"}]}`
}

func kmsListGrants(c *call) {
	var in kmsReq
	if !c.decodeJSON(&in) {
		return
	}
	k, owner, reg, ok := c.kmsKey(in.KeyID, false)
	if !ok {
		return
	}
	var sel []int
	for i, g := range k.Grants {
		if (in.GrantID == "" || grantID(k, i) == in.GrantID) && (in.GranteePrincipal == "" || g.Grantee == in.GranteePrincipal) {
			sel = append(sel, i)
		}
	}
	start, end, next, ok := c.jsonPage(len(sel), in.Marker, in.Limit, 50, 100, "InvalidMarkerException")
	if !ok {
		return
	}
	out := make([]map[string]any, 0, end-start)
	for _, i := range sel[start:end] {
		g := k.Grants[i]
		e := map[string]any{"KeyId": keyARN(owner, reg, k.ID), "GrantId": grantID(k, i), "GranteePrincipal": g.Grantee,
			"IssuingAccount": "arn:aws:iam::" + owner + ":root", "Operations": g.Operations, "CreationDate": epoch(keyCreated)}
		if g.Name != "" {
			e["Name"] = g.Name
		}
		if g.Retiring != "" {
			e["RetiringPrincipal"] = g.Retiring
		}
		out = append(out, e)
	}
	c.sendJSON(withNext(map[string]any{"Grants": out, "Truncated": next != nil}, "NextMarker", next))
}

func grantID(k *KMSKey, i int) string {
	if id := k.Grants[i].ID; id != "" {
		return id
	}
	return shortHash(k.ID+string(rune(i)), 64)
}

func kmsListAliases(c *call) {
	var in kmsReq
	if !c.decodeJSON(&in) {
		return
	}
	reg := c.reg
	var target *KMSKey
	if in.KeyID != "" {
		k, _, _, ok := c.kmsKey(in.KeyID, false)
		if !ok {
			return
		}
		target = k
	}
	type alias struct {
		name string
		k    *KMSKey
	}
	var all []alias
	for i := range reg.r.KMSKeys {
		k := &reg.r.KMSKeys[i]
		if k.Alias != "" && (target == nil || target == k) {
			all = append(all, alias{k.Alias, k})
		}
	}
	start, end, next, ok := c.jsonPage(len(all), in.Marker, in.Limit, 50, 100, "InvalidMarkerException")
	if !ok {
		return
	}
	out := make([]map[string]any, 0, end-start)
	for _, al := range all[start:end] {
		out = append(out, map[string]any{"AliasName": al.name, "AliasArn": "arn:aws:kms:" + reg.name + ":" + reg.owner + ":" + al.name,
			"TargetKeyId": al.k.ID, "CreationDate": epoch(keyCreated), "LastUpdatedDate": epoch(keyCreated)})
	}
	c.sendJSON(withNext(map[string]any{"Aliases": out, "Truncated": next != nil}, "NextMarker", next))
}

// policyDoc is the part of a key policy the simulator evaluates.
type policyDoc struct {
	Statement []struct {
		Effect    string
		Principal json.RawMessage
		Action    json.RawMessage
		Condition map[string]map[string]json.RawMessage
	}
}

var policyCache sync.Map // policy text → *policyDoc

// kmsAdmits reports whether the key lets another account use it for the action: a grant to a
// principal of that account, or an Allow statement naming it (or "*") for the action, whose
// kms:CallerAccount condition, if any, includes it. AWS managed keys never admit other accounts.
// Deny statements and other conditions are not evaluated: the simulator needs the common cases,
// the audit's own evaluator is what tests exercise.
func (a *AWS) kmsAdmits(k *KMSKey, owner, reg, acct, action string) bool {
	if acct == owner {
		return !k.Disabled
	}
	if k.AWSManaged || k.Disabled {
		return false
	}
	op := strings.TrimPrefix(action, "kms:")
	for _, g := range k.Grants {
		if (g.Grantee == acct || strings.Contains(g.Grantee, ":"+acct+":")) && (contains(g.Operations, op) || op == "DescribeKey") {
			return true
		}
	}
	text := keyPolicy(k, owner, reg)
	var doc *policyDoc
	if v, ok := policyCache.Load(text); ok {
		doc = v.(*policyDoc)
	} else {
		doc = &policyDoc{}
		if json.Unmarshal([]byte(text), doc) != nil {
			return false
		}
		policyCache.Store(text, doc)
	}
	for _, st := range doc.Statement {
		if st.Effect != "Allow" || !principalNames(st.Principal, acct) || !actionCovers(st.Action, action) {
			continue
		}
		if cond, ok := st.Condition["StringEquals"]; ok {
			if ca, ok := cond["kms:CallerAccount"]; ok && !jsonStrings(ca, func(s string) bool { return s == acct }) {
				continue
			}
		}
		return true
	}
	return false
}

func principalNames(raw json.RawMessage, acct string) bool {
	match := func(s string) bool {
		return s == "*" || s == acct || s == "arn:aws:iam::"+acct+":root" || strings.HasPrefix(s, "arn:aws:iam::"+acct+":")
	}
	if jsonStrings(raw, match) {
		return true
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) == nil {
		return jsonStrings(m["AWS"], match)
	}
	return false
}

func actionCovers(raw json.RawMessage, action string) bool {
	return jsonStrings(raw, func(s string) bool {
		if s == "*" || s == "kms:*" || s == action {
			return true
		}
		if p, ok := strings.CutSuffix(s, "*"); ok {
			return strings.HasPrefix(action, p)
		}
		return false
	})
}

// jsonStrings applies f to a JSON string or each string of an array.
func jsonStrings(raw json.RawMessage, f func(string) bool) bool {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return f(one)
	}
	var many []string
	if json.Unmarshal(raw, &many) == nil {
		for _, s := range many {
			if f(s) {
				return true
			}
		}
	}
	return false
}
