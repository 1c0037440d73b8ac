package aws

import (
	"context"
	"errors"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"

	"github.com/snapwatch/snapwatch/internal/inventory"
)

// keyIndex knows which of a region's keys are AWS managed. One ListAliases per region tells:
// the alias/aws/* aliases point at the AWS managed keys, and snapshots report their key by
// key ARN, not alias. This decides two things for every record: its KeyKind, and whether AWS
// would let it be shared at all (it refuses snapshots, AMIs and RDS snapshots encrypted with
// an AWS managed key), which is what lets the collector skip most attribute calls.
//
// The listings of the first phase run beside loadKeys and already intern key ARNs (and ask for
// kinds, which they ask again once the keys are read), so every field is behind mu.
type keyIndex struct {
	mu         sync.Mutex
	read       bool            // ListAliases completed
	awsManaged map[string]bool // key ids (uuid) behind alias/aws/*
	strs       map[string]string
}

func (s *scope) loadKeys(ctx context.Context) {
	if !(s.has(FamilyEBS) || s.has(FamilyAMI) || s.has(FamilyRDS) || s.has(FamilyRedshift) || s.has(FamilyGuards)) {
		return
	}
	cli := kms.NewFromConfig(s.cfg)
	p := kms.NewListAliasesPaginator(cli, &kms.ListAliasesInput{Limit: aws.Int32(100)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			s.fail("kms:ListAliases", err)
			return
		}
		for _, a := range page.Aliases {
			if strings.HasPrefix(aws.ToString(a.AliasName), "alias/aws/") && a.TargetKeyId != nil {
				s.keys.mu.Lock()
				if s.keys.awsManaged == nil {
					s.keys.awsManaged = map[string]bool{}
				}
				s.keys.awsManaged[aws.ToString(a.TargetKeyId)] = true
				s.keys.mu.Unlock()
			}
		}
	}
	s.keys.mu.Lock()
	s.keys.read = true
	s.keys.mu.Unlock()
}

// intern returns one copy of a key ARN for every record that uses it.
func (k *keyIndex) intern(v string) string {
	if v == "" {
		return ""
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if x, ok := k.strs[v]; ok {
		return x
	}
	if k.strs == nil {
		k.strs = map[string]string{}
	}
	k.strs[v] = v
	return v
}

// kind classifies a key reference (ARN, id or alias): "" when it cannot be told.
func (k *keyIndex) kind(ref string) inventory.KeyKind {
	k.mu.Lock()
	defer k.mu.Unlock()
	switch {
	case ref == "":
		return ""
	case strings.HasPrefix(ref, "alias/aws/") || strings.Contains(ref, ":alias/aws/"):
		return inventory.KeyProviderManaged
	case k.awsManaged[keyID(ref)]:
		return inventory.KeyProviderManaged
	case !k.read:
		return ""
	}
	return inventory.KeyCustomerManaged
}

// encryption builds a record's Encryption from what the listing said.
func (k *keyIndex) encryption(encrypted bool, ref string) inventory.Encryption {
	if !encrypted {
		return inventory.Encryption{KeyKind: inventory.KeyNone}
	}
	return inventory.Encryption{Encrypted: true, KeyID: k.intern(ref), KeyKind: k.kind(ref)}
}

// shareable reports whether AWS lets a record with this encryption be shared: not when an AWS
// managed key encrypts it. Unknown kinds count as shareable, so that not knowing costs calls,
// never findings.
func shareable(e inventory.Encryption) bool {
	return !e.Encrypted || e.KeyKind != inventory.KeyProviderManaged
}

// keyID returns the uuid of a key ARN ("…:key/uuid"), or the reference itself.
func keyID(ref string) string {
	if i := strings.LastIndex(ref, ":key/"); i >= 0 {
		return ref[i+5:]
	}
	return strings.TrimPrefix(ref, "key/")
}

// keyAccess is what the key policy and grants of one key say.
type keyAccess struct {
	grantees []inventory.Grant
	known    bool
	managed  bool // DescribeKey says AWS manages it
}

// analyseKeys reads the policy and grants of every customer-managed key that encrypts
// something shared (or something backing a shared AMI), and writes who may decrypt into the
// records. Keys of unshared records are not read: their grantees cannot matter.
func (s *scope) analyseKeys(ctx context.Context) {
	want := map[string]bool{}
	need := func(e *inventory.Encryption) {
		if e.Encrypted && e.KeyID != "" && e.KeyKind != inventory.KeyProviderManaged {
			want[e.KeyID] = true
		}
	}
	sharedBacking := map[string]bool{}
	for i := range s.images {
		img := &s.images[i]
		if len(img.Grants) == 0 {
			continue
		}
		need(&img.Encryption)
		for _, b := range img.Backing {
			sharedBacking[b.SnapshotID] = true
			if b.KeyID != "" {
				need(&inventory.Encryption{Encrypted: b.Encrypted, KeyID: b.KeyID, KeyKind: s.keys.kind(b.KeyID)})
			}
		}
	}
	for i := range s.snaps {
		if len(s.snaps[i].Grants) > 0 || sharedBacking[s.snaps[i].ID] {
			need(&s.snaps[i].Encryption)
		}
	}
	for i := range s.dbs {
		if len(s.dbs[i].Grants) > 0 {
			need(&s.dbs[i].Encryption)
		}
	}
	if len(want) == 0 {
		return
	}
	ids := make([]string, 0, len(want))
	for id := range want {
		ids = append(ids, id)
	}
	cli := kms.NewFromConfig(s.cfg)
	got := make([]keyAccess, len(ids))
	var fails failures
	s.each(ctx, len(ids), func(i int) {
		ka, err := readKey(ctx, cli, ids[i])
		if err != nil {
			fails.add(err)
		}
		got[i] = ka
	})
	fails.report(s, "kms:GetKeyPolicy", len(ids), "keys of shared resources")
	byKey := map[string]*keyAccess{}
	for i, id := range ids {
		byKey[id] = &got[i]
	}
	apply := func(e *inventory.Encryption) {
		ka := byKey[e.KeyID]
		if ka == nil || !e.Encrypted {
			return
		}
		if ka.managed {
			e.KeyKind = inventory.KeyProviderManaged
		} else if e.KeyKind == "" && ka.known {
			e.KeyKind = inventory.KeyCustomerManaged
		}
		e.KeyGrantees, e.GranteesKnown = ka.grantees, ka.known
	}
	for i := range s.snaps {
		apply(&s.snaps[i].Encryption)
	}
	for i := range s.dbs {
		apply(&s.dbs[i].Encryption)
	}
	for i := range s.images {
		apply(&s.images[i].Encryption)
	}
}

// readKey reads one key. A key of another account (cross-account CMK) usually refuses
// GetKeyPolicy to us; that leaves its grantees unknown, graded as readable by posture, and
// is not a failure of the scope.
func readKey(ctx context.Context, cli *kms.Client, id string) (keyAccess, error) {
	var ka keyAccess
	d, err := cli.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(id)})
	if err != nil {
		return ka, quiet(err)
	}
	if d.KeyMetadata != nil && d.KeyMetadata.KeyManager == kmstypes.KeyManagerTypeAws {
		ka.managed = true
		return ka, nil
	}
	pol, err := cli.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: aws.String(id), PolicyName: aws.String("default")})
	if err != nil {
		return ka, quiet(err)
	}
	grantees, err := policyGrantees(aws.ToString(pol.Policy))
	if err != nil {
		return ka, err
	}
	p := kms.NewListGrantsPaginator(cli, &kms.ListGrantsInput{KeyId: aws.String(id), Limit: aws.Int32(100)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return ka, quiet(err)
		}
		for _, g := range page.Grants {
			if grantDecrypts(g.Operations) && g.GranteePrincipal != nil {
				grantees = append(grantees, inventory.Grant{Kind: inventory.GrantAccount, Value: aws.ToString(g.GranteePrincipal), Via: inventory.ViaKeyGrant})
			}
		}
	}
	ka.grantees, ka.known = grantees, true
	return ka, nil
}

// quiet drops the refusals expected for keys of other accounts.
func quiet(err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "AccessDeniedException", "NotFoundException":
			return nil
		}
	}
	return err
}

func grantDecrypts(ops []kmstypes.GrantOperation) bool {
	for _, o := range ops {
		switch o {
		case kmstypes.GrantOperationDecrypt, kmstypes.GrantOperationCreateGrant, kmstypes.GrantOperationReEncryptFrom:
			return true
		}
	}
	return false
}
