package posture

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/snapwatch/snapwatch/internal/inventory"
)

var estateRegions = []string{"us-east-1", "us-east-2", "us-west-1", "us-west-2", "eu-west-1", "eu-west-2", "eu-west-3",
	"eu-central-1", "eu-north-1", "ap-south-1", "ap-northeast-1", "ap-northeast-2", "ap-southeast-1", "ap-southeast-2",
	"ca-central-1", "sa-east-1", "af-south-1"}

// estate builds a mixed AWS estate of 5 accounts × 17 regions: nSnap EBS and RDS snapshots and
// nImg AMIs with one or two backing snapshots each, with the mix of exposures a real estate has
// (a few public, more shared, many old), every guard state, exports and DLM policies. Strings
// are built once per distinct value, as a collector that interns them would.
func estate(nSnap, nImg int, seed uint64) *inventory.Inventory {
	r := rand.New(rand.NewPCG(seed, 42))
	accounts := []string{acct, sibling, "333333333333", "444444444444", "555555555555"}
	inv := &inventory.Inventory{Accounts: accounts,
		Orgs: []inventory.Org{{Provider: inventory.AWS, ID: "o-ours", ARN: ourOrg, Accounts: accounts}}}
	externals := []inventory.Grant{outside, {Kind: inventory.GrantAccount, Value: "888888888888", Via: inventory.ViaAttribute},
		{Kind: inventory.GrantOrg, Value: theirOrg, Via: inventory.ViaAttribute}}
	keys := []inventory.Encryption{plain, providerKey(), cmkEnc(nil, false), cmkEnc(nil, true),
		cmkEnc([]inventory.Grant{{Kind: inventory.GrantAccount, Value: outsider, Via: inventory.ViaKeyGrant}}, true)}
	pick := func(n int) bool { return r.IntN(1000) < n } // per mille
	grantsFor := func() []inventory.Grant {
		var gs []inventory.Grant
		if pick(10) {
			gs = append(gs, everyone)
		}
		if pick(20) {
			gs = append(gs, externals[r.IntN(len(externals))])
		}
		if pick(50) {
			gs = append(gs, inside)
		}
		return gs
	}
	base := now.AddDate(-3, 0, 0)
	for i := range nSnap {
		a, reg := accounts[i%len(accounts)], estateRegions[(i/len(accounts))%len(estateRegions)]
		s := inventory.Snapshot{Common: inventory.Common{Provider: inventory.AWS, Account: a, Region: reg,
			Kind: inventory.KindEBSSnapshot, ID: fmt.Sprintf("snap-%017x", i), State: "completed", SizeGiB: 8 << r.IntN(6),
			Created: base.Add(time.Duration(r.Int64N(int64(3 * 365 * 24 * time.Hour)))), Encryption: keys[r.IntN(len(keys))],
			Grants: grantsFor()}}
		s.Lineage.SourceVolume = fmt.Sprintf("vol-%017x", i)
		s.Lineage.SourceExists = []inventory.Tri{inventory.Yes, inventory.No, inventory.Unknown}[r.IntN(3)]
		if i%20 == 0 {
			s.Kind, s.ID, s.Engine = inventory.KindRDSSnapshot, fmt.Sprintf("rds-%d", i), "postgres"
		}
		if i%97 == 0 {
			s.Kind, s.ID, s.Engine = inventory.KindRDSClusterSnapshot, fmt.Sprintf("cluster-%d", i), []string{"neptune", "docdb", "aurora-mysql"}[i%3]
		}
		s.RecycleBin = s.Kind == inventory.KindEBSSnapshot && pick(5) // only EBS snapshots and AMIs have a Recycle Bin
		if pick(10) {
			s.Owner = outsider
		}
		inv.Snapshots = append(inv.Snapshots, s)
	}
	for i := range nImg {
		j := r.IntN(max(nSnap, 1))
		s := &inv.Snapshots[j]
		img := inventory.Image{Common: inventory.Common{Provider: inventory.AWS, Account: s.Account, Region: s.Region,
			Kind: inventory.KindAMI, ID: fmt.Sprintf("ami-%017x", i), Name: fmt.Sprintf("build-%d", i), State: "available",
			Created: s.Created, Encryption: s.Encryption, Grants: grantsFor()}}
		img.Backing = []inventory.Backing{{SnapshotID: s.ID, Device: "/dev/xvda", Encrypted: s.Encryption.Encrypted, Exists: inventory.Yes}}
		if i%2 == 0 {
			img.Backing = append(img.Backing, inventory.Backing{SnapshotID: fmt.Sprintf("snap-gone-%d", i), Device: "/dev/xvdb",
				Exists: []inventory.Tri{inventory.Yes, inventory.No}[r.IntN(2)]})
		}
		if pick(20) {
			img.Owner = outsider
		}
		img.RecycleBin = pick(5)
		inv.Images = append(inv.Images, img)
	}
	states := []string{inventory.BPABlockAllSharing, inventory.BPABlockNewSharing, inventory.BPAUnblocked}
	for _, a := range accounts {
		for _, reg := range estateRegions {
			g := func(k inventory.GuardKind, st, by string) inventory.Guard {
				return inventory.Guard{Provider: inventory.AWS, Account: a, Region: reg, Kind: k, State: st, ManagedBy: by}
			}
			by := []string{inventory.ManagedByAccount, inventory.ManagedByDeclarativePolicy}[r.IntN(2)]
			inv.Guards = append(inv.Guards, g(inventory.GuardSnapshotBPA, states[r.IntN(3)], by),
				g(inventory.GuardImageBPA, states[1+r.IntN(2)], by),
				g(inventory.GuardEncryptionByDefault, []string{inventory.StateEnabled, inventory.StateDisabled}[r.IntN(2)], ""))
			inv.Exports = append(inv.Exports, inventory.ExportTask{Provider: inventory.AWS, Account: a, Region: reg,
				ID: "store-" + a + reg, Kind: inventory.ExportStoreImage, Source: "ami-x", Bucket: "bkt", BucketAccount: accounts[r.IntN(2)],
				State: []string{"Completed", "Failed"}[r.IntN(2)]})
			inv.SharePolicies = append(inv.SharePolicies, inventory.SharePolicy{Provider: inventory.AWS, Account: a, Region: reg,
				ID: "policy-" + a + reg, Kind: "dlm-policy", Enabled: true, Targets: []inventory.Grant{externals[r.IntN(2)], inside}})
		}
	}
	return inv
}

// shuffled returns a copy of inv with every record list, and every record's grants, in another order.
func shuffled(inv *inventory.Inventory, seed uint64) *inventory.Inventory {
	r := rand.New(rand.NewPCG(seed, 7))
	out := *inv
	out.Snapshots = shuffle(r, inv.Snapshots)
	out.Images = shuffle(r, inv.Images)
	out.Guards = shuffle(r, inv.Guards)
	out.Exports = shuffle(r, inv.Exports)
	out.SharePolicies = shuffle(r, inv.SharePolicies)
	out.Accounts = shuffle(r, inv.Accounts)
	for i := range out.Snapshots {
		out.Snapshots[i].Grants = shuffle(r, out.Snapshots[i].Grants)
	}
	for i := range out.Images {
		out.Images[i].Grants = shuffle(r, out.Images[i].Grants)
		out.Images[i].Backing = shuffle(r, out.Images[i].Backing)
	}
	return &out
}

func shuffle[T any](r *rand.Rand, xs []T) []T {
	ys := append([]T(nil), xs...)
	r.Shuffle(len(ys), func(i, j int) { ys[i], ys[j] = ys[j], ys[i] })
	return ys
}
