package cloudsim

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// GenSpec describes a large synthetic estate for benchmarks: counts are totals spread evenly
// over every account and region.
type GenSpec struct {
	Accounts          int      // default 5; the first is the organisation's management account
	Regions           []string // default the 17 default regions; they are the accounts' enabled regions
	Snapshots         int      // EBS snapshots
	Images            int      // AMIs, each backed by one of its region's snapshots
	DBSnapshots       int      // RDS DB snapshots (mysql, postgres)
	ClusterSnapshots  int      // RDS cluster snapshots (aurora-mysql, docdb, neptune in turn)
	RedshiftSnapshots int
	// Fractions of snapshots, AMIs and RDS snapshots that are public, shared with another account
	// (alternately a member of the organisation and the outside account 999999999999), and
	// unencrypted. Public resources are always unencrypted, as AWS requires.
	PublicFraction, SharedFraction, UnencryptedFraction float64
	Seed                                                uint64
	// Newest is the latest creation time; resources spread over the year before. Default
	// 2025-01-01.
	Newest time.Time
}

// Credentials of a generated estate: the management account's user, and the role every account
// has that the management account may assume.
const (
	GeneratedAccessKey = "AKIAGENERATEDMGMT001"
	GeneratedSecret    = "generated-secret"
	GeneratedRole      = "OrganizationAccountAccessRole"
	// OutsideAccount is the account outside the organisation that generated shares go to.
	OutsideAccount = "999999999999"
)

// GenerateEstate builds the estate a spec describes. It stays lean: ids are the only
// per-resource strings, the few permission sets are shared between resources (the simulator
// copies on write), and times and sizes are plain values, so 100k snapshots cost about 30 MB.
func GenerateEstate(spec GenSpec) *Estate {
	if spec.Accounts <= 0 {
		spec.Accounts = 5
	}
	if len(spec.Regions) == 0 {
		spec.Regions = DefaultRegions()
	}
	if spec.Newest.IsZero() {
		spec.Newest = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	rng := rand.New(rand.NewPCG(spec.Seed, 0x5eed))
	ids := make([]string, spec.Accounts)
	for i := range ids {
		ids[i] = fmt.Sprintf("%012d", 100000000001+i)
	}
	mgmt := ids[0]
	e := &Estate{Organization: &Organization{ID: "o-gen0000001", ManagementAccount: mgmt, Accounts: []string{mgmt},
		Units: []*Unit{{ID: "ou-gen0-workload", Name: "Workloads", Accounts: ids[1:]}}}}

	public := &Permissions{Groups: []string{"all"}}
	shares := []*Permissions{{UserIDs: []string{OutsideAccount}}}
	if spec.Accounts > 1 {
		shares = append(shares, &Permissions{UserIDs: []string{ids[1]}})
	}
	cells := spec.Accounts * len(spec.Regions)
	spread := func(total, cell int) int { // even split; the first cells take the remainder
		n := total / cells
		if cell < total%cells {
			n++
		}
		return n
	}
	// kind decides a resource's exposure: 0 private, 1 public, 2 shared; and whether encrypted.
	kind := func() (int, bool) {
		x := rng.Float64()
		switch {
		case x < spec.PublicFraction:
			return 1, false
		case x < spec.PublicFraction+spec.SharedFraction:
			return 2, rng.Float64() >= spec.UnencryptedFraction
		}
		return 0, rng.Float64() >= spec.UnencryptedFraction
	}
	age := func() time.Time { return spec.Newest.Add(-time.Duration(rng.Int64N(365*24)) * time.Hour) }
	var snapN, imgN, dbN, shareN int
	nextShare := func() *Permissions { shareN++; return shares[shareN%len(shares)] }
	engines := []string{"aurora-mysql", "docdb", "neptune"}

	for ai, id := range ids {
		acct := &Account{ID: id, Name: fmt.Sprintf("account-%d", ai), EnabledRegions: spec.Regions,
			Regions: map[string]*Region{}, Roles: []Role{{Name: GeneratedRole, Trust: []string{mgmt}}}}
		if ai == 0 {
			acct.Name = "management"
			acct.AccessKeys = []AccessKey{{ID: GeneratedAccessKey, Secret: GeneratedSecret, User: "auditor"}}
		}
		for ri, rname := range spec.Regions {
			cell := ai*len(spec.Regions) + ri
			r := &Region{}
			switch ri % 4 { // a mix of guard states
			case 0:
				r.Guards = Guards{SnapshotBPA: "block-all-sharing", ImageBPA: "block-new-sharing", EncryptionByDefault: true}
			case 1:
				r.Guards = Guards{SnapshotBPA: "block-new-sharing"}
			}
			r.Snapshots = make([]Snapshot, spread(spec.Snapshots, cell))
			for i := range r.Snapshots {
				snapN++
				s := &r.Snapshots[i]
				s.ID = fmt.Sprintf("snap-%017x", snapN)
				s.VolumeID = fmt.Sprintf("vol-%017x", snapN)
				s.VolumeSize = int32(8 << (snapN % 4))
				s.StartTime = age()
				k, enc := kind()
				s.Encrypted = enc
				switch k {
				case 1:
					s.Permissions = public
				case 2:
					s.Permissions = nextShare()
				}
			}
			r.Images = make([]Image, spread(spec.Images, cell))
			for i := range r.Images {
				imgN++
				im := &r.Images[i]
				im.ID = fmt.Sprintf("ami-%017x", imgN)
				im.Name = im.ID
				im.CreationDate = age()
				if len(r.Snapshots) > 0 {
					im.BlockDevices = []BlockDevice{{SnapshotID: r.Snapshots[i%len(r.Snapshots)].ID}}
				}
				switch k, _ := kind(); k {
				case 1:
					im.LaunchPermissions = public
				case 2:
					im.LaunchPermissions = nextShare()
				}
			}
			r.DBSnapshots = make([]DBSnapshot, spread(spec.DBSnapshots, cell))
			for i := range r.DBSnapshots {
				dbN++
				r.DBSnapshots[i] = genDB(fmt.Sprintf("db-snap-%06d", dbN), []string{"mysql", "postgres"}[dbN%2], age(), kind, nextShare)
			}
			r.DBClusterSnaps = make([]DBSnapshot, spread(spec.ClusterSnapshots, cell))
			for i := range r.DBClusterSnaps {
				dbN++
				r.DBClusterSnaps[i] = genDB(fmt.Sprintf("cluster-snap-%06d", dbN), engines[dbN%3], age(), kind, nextShare)
			}
			// The databases the snapshots were taken of: every instance and cluster exists but
			// the Neptune clusters', whose snapshots are orphaned.
			if len(r.DBSnapshots) > 0 {
				r.DBInstances = []DBInstance{{ID: "db-mysql", Engine: "mysql"}, {ID: "db-postgres", Engine: "postgres"}}
			}
			if len(r.DBClusterSnaps) > 0 {
				r.DBClusters = []DBCluster{{ID: "db-aurora-mysql", Engine: "aurora-mysql"}, {ID: "db-docdb", Engine: "docdb"}}
			}
			if spread(spec.RedshiftSnapshots, cell) > 0 {
				r.RedshiftClusters = []RedshiftCluster{{ID: "warehouse"}}
			}
			r.RedshiftSnapshots = make([]RedshiftSnapshot, spread(spec.RedshiftSnapshots, cell))
			for i := range r.RedshiftSnapshots {
				dbN++
				rs := &r.RedshiftSnapshots[i]
				rs.ID, rs.ClusterID, rs.Created = fmt.Sprintf("rs-snap-%06d", dbN), "warehouse", age()
				if k, enc := kind(); k != 0 {
					rs.RestoreAccess = nextShare().UserIDs
					rs.Encrypted = enc
				}
			}
			acct.Regions[rname] = r
		}
		e.Accounts = append(e.Accounts, acct)
	}
	return e
}

func genDB(id, engine string, created time.Time, kind func() (int, bool), share func() *Permissions) DBSnapshot {
	s := DBSnapshot{ID: id, SourceID: "db-" + engine, Engine: engine, Created: created}
	k, enc := kind()
	s.Encrypted = enc
	switch k {
	case 1:
		s.Restore = []string{"all"}
	case 2:
		s.Restore = share().UserIDs
	}
	return s
}
