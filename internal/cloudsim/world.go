package cloudsim

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"
)

// account is an estate account with its lookups.
type account struct {
	id      string
	est     *Account
	enabled map[string]bool
	regions map[string]*region
	roles   map[string]*Role
}

// region indexes an account's resources in one region. The indexes hold positions in the
// estate's slices, which never grow or shrink while the simulator runs.
type region struct {
	name     string
	owner    string
	r        *Region
	snaps    map[string]int32
	images   map[string]int32
	vols     map[string]int32
	db       map[string]int32
	cluster  map[string]int32
	redshift map[string]int32
	keys     map[string]*KMSKey // by id, ARN, alias name and alias ARN
}

// principal is an authenticated caller: an IAM user's access key or an assumed-role session.
type principal struct {
	account string
	arn     string
	userID  string
	roleARN string // sessions: the role's ARN
	token   string // sessions: the session token the request must carry
	expires time.Time
}

// region returns the account's region, nil when it is not enabled.
func (a *account) region(name string) *region { return a.regions[name] }

// index builds the lookups and derived defaults from the estate.
func (a *AWS) index() error {
	a.accounts = map[string]*account{}
	a.keys = map[string]*principal{}
	for _, ea := range a.est.Accounts {
		acct := &account{id: ea.ID, est: ea, enabled: map[string]bool{}, regions: map[string]*region{}, roles: map[string]*Role{}}
		if len(ea.EnabledRegions) > 0 {
			for _, r := range ea.EnabledRegions {
				if !knownRegion(r) {
					return fmt.Errorf("estate: account %s: unknown enabled region %q", ea.ID, r)
				}
				acct.enabled[r] = true
			}
		} else {
			for _, r := range defaultRegions {
				acct.enabled[r] = true
			}
			for r := range ea.Regions {
				acct.enabled[r] = true
			}
		}
		for i := range ea.Roles {
			acct.roles[ea.Roles[i].Name] = &ea.Roles[i]
		}
		for _, k := range ea.AccessKeys {
			user := k.User
			if user == "" {
				user = "snapwatch"
			}
			a.keys[k.ID] = &principal{account: ea.ID, arn: "arn:aws:iam::" + ea.ID + ":user/" + user, userID: "AIDA" + shortHash(ea.ID+user, 16)}
		}
		for name, r := range ea.Regions {
			if r == nil {
				r = &Region{}
				ea.Regions[name] = r
			}
			reg, err := indexRegion(ea.ID, name, r)
			if err != nil {
				return err
			}
			acct.regions[name] = reg
			// A snapshot of a disk image is as big as the image, rounded up to GiB, unless the
			// estate says otherwise; a missing image is an estate error, found now.
			for i := range r.Snapshots {
				s := &r.Snapshots[i]
				if s.Content == "" {
					continue
				}
				st, err := os.Stat(a.contentPath(s))
				if err != nil {
					return fmt.Errorf("estate: snapshot %s: %w", s.ID, err)
				}
				if s.VolumeSize == 0 {
					s.VolumeSize = int32(max(1, (st.Size()+gib-1)/gib))
				}
			}
		}
		// Enabled regions without resources still answer (empty lists, default guards, the
		// aws/ebs key), and a guard changed there must show in the estate: give them a Region.
		for name := range acct.enabled {
			if acct.regions[name] == nil {
				if ea.Regions == nil {
					ea.Regions = map[string]*Region{}
				}
				ea.Regions[name] = &Region{}
				reg, _ := indexRegion(ea.ID, name, ea.Regions[name])
				acct.regions[name] = reg
			}
		}
		a.accounts[ea.ID] = acct
		a.order = append(a.order, acct)
	}
	a.org = newOrgView(a.est.Organization)
	return nil
}

func indexRegion(owner, name string, r *Region) (*region, error) {
	reg := &region{name: name, owner: owner, r: r,
		snaps: make(map[string]int32, len(r.Snapshots)), images: make(map[string]int32, len(r.Images)),
		vols: map[string]int32{}, db: map[string]int32{}, cluster: map[string]int32{}, redshift: map[string]int32{},
		keys: map[string]*KMSKey{}}
	for i := range r.Snapshots {
		s := &r.Snapshots[i]
		reg.snaps[s.ID] = int32(i)
		if s.Public {
			s.Permissions = addPerm(s.Permissions, "all")
			s.Public = false
		}
	}
	for i := range r.Images {
		im := &r.Images[i]
		reg.images[im.ID] = int32(i)
		if im.Public {
			im.LaunchPermissions = addPerm(im.LaunchPermissions, "all")
			im.Public = false
		}
	}
	for i := range r.Volumes {
		reg.vols[r.Volumes[i].ID] = int32(i)
	}
	for i := range r.DBSnapshots {
		reg.db[r.DBSnapshots[i].ID] = int32(i)
	}
	for i := range r.DBClusterSnaps {
		reg.cluster[r.DBClusterSnaps[i].ID] = int32(i)
	}
	for i := range r.RedshiftSnapshots {
		reg.redshift[r.RedshiftSnapshots[i].ID] = int32(i)
	}
	// Every region has the AWS managed key for EBS, which encrypted snapshots use by default.
	hasEBS := false
	for i := range r.KMSKeys {
		if r.KMSKeys[i].Alias == "alias/aws/ebs" {
			hasEBS = true
		}
	}
	if !hasEBS {
		r.KMSKeys = append(r.KMSKeys, KMSKey{ID: uuidFrom(owner + name + "aws/ebs"), Alias: "alias/aws/ebs", AWSManaged: true,
			Description: "Default key that protects my EBS volumes when no other key is defined"})
	}
	for i := range r.KMSKeys {
		k := &r.KMSKeys[i]
		if k.ID == "" {
			return nil, fmt.Errorf("estate: account %s region %s: KMS key without id", owner, name)
		}
		arn := keyARN(owner, name, k.ID)
		reg.keys[k.ID] = k
		reg.keys[arn] = k
		if k.Alias != "" {
			reg.keys[k.Alias] = k
			reg.keys["arn:aws:kms:"+name+":"+owner+":"+k.Alias] = k
		}
	}
	return reg, nil
}

func addPerm(p *Permissions, group string) *Permissions {
	return applyPerm(p, permChange{add: true, group: group})
}

func keyARN(account, region, id string) string {
	return "arn:aws:kms:" + region + ":" + account + ":key/" + id
}

// Authentication failures, in AWS's words (the service picks the error code).
const (
	msgNoToken      = "Request is missing Authentication Token"
	msgBadToken     = "The security token included in the request is invalid."
	msgExpiredToken = "The security token included in the request is expired"
)

// authenticate finds the caller from the access key and, for sessions, the session token; a
// non-empty message says why the caller is refused. Signatures are not verified: the SDK's
// signer is not what the tests are about.
func (a *AWS) authenticate(r *http.Request, keyID string) (*principal, string) {
	if keyID == "" {
		return nil, msgNoToken
	}
	a.kmu.RLock()
	p := a.keys[keyID]
	a.kmu.RUnlock()
	if p == nil {
		return nil, msgBadToken
	}
	if p.token != "" {
		tok := r.Header.Get("X-Amz-Security-Token")
		if tok == "" {
			tok = r.URL.Query().Get("X-Amz-Security-Token")
		}
		if tok != p.token {
			return p, msgBadToken
		}
		if a.opt.Now().After(p.expires) {
			return p, msgExpiredToken
		}
	}
	return p, ""
}

// orgView answers membership questions: which org and OUs an account belongs to.
type orgView struct {
	o       *Organization
	arn     string
	rootID  string
	rootARN string
	parent  map[string]string   // account or OU id → parent id
	path    map[string][]string // account id → ancestor ids, root first
	units   map[string]*Unit
	member  map[string]bool
}

func newOrgView(o *Organization) *orgView {
	if o == nil {
		return nil
	}
	v := &orgView{o: o, parent: map[string]string{}, path: map[string][]string{}, units: map[string]*Unit{}, member: map[string]bool{}}
	v.arn = "arn:aws:organizations::" + o.ManagementAccount + ":organization/" + o.ID
	v.rootID = o.RootID
	if v.rootID == "" {
		v.rootID = "r-" + shortHash(o.ID, 4)
	}
	v.rootARN = "arn:aws:organizations::" + o.ManagementAccount + ":root/" + o.ID + "/" + v.rootID
	place := func(ids []string, parent string, anc []string) {
		for _, id := range ids {
			v.parent[id] = parent
			v.path[id] = anc
			v.member[id] = true
		}
	}
	root := []string{v.rootID}
	place(o.Accounts, v.rootID, root)
	var walk func(us []*Unit, parent string, anc []string)
	walk = func(us []*Unit, parent string, anc []string) {
		for _, u := range us {
			if u.ID == "" {
				u.ID = "ou-" + v.rootID[2:] + "-" + shortHash(u.Name+parent, 8)
			}
			v.units[u.ID] = u
			v.parent[u.ID] = parent
			a2 := append(slices.Clip(anc), u.ID)
			place(u.Accounts, u.ID, a2)
			walk(u.Units, u.ID, a2)
		}
	}
	walk(o.Units, v.rootID, root)
	if !v.member[o.ManagementAccount] {
		place([]string{o.ManagementAccount}, v.rootID, root)
	}
	return v
}

func (v *orgView) ouARN(id string) string {
	return "arn:aws:organizations::" + v.o.ManagementAccount + ":ou/" + v.o.ID + "/" + id
}

// inScope reports whether an account is in the organisation or OU named by an ARN, as AMI
// launch permissions mean it (an OU includes its descendants).
func (v *orgView) inScope(account, arn string) bool {
	if v == nil || !v.member[account] {
		return false
	}
	if arn == v.arn {
		return true
	}
	for _, id := range v.path[account] {
		if id != v.rootID && v.ouARN(id) == arn {
			return true
		}
	}
	return false
}

func shortHash(s string, n int) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])[:n]
}

func uuidFrom(s string) string {
	h := hex.EncodeToString(func() []byte { x := sha256.Sum256([]byte(s)); return x[:] }())
	return h[0:8] + "-" + h[8:12] + "-4" + h[13:16] + "-8" + h[17:20] + "-" + h[20:32]
}

// lookupKey finds a KMS key by id, ARN or alias in any account (an ARN names its account and
// region; a bare id or alias is the owner's).
func (a *AWS) lookupKey(owner, regionName, ref string) (*KMSKey, string, string) {
	acct, reg := owner, regionName
	if strings.HasPrefix(ref, "arn:aws:kms:") {
		parts := strings.SplitN(ref, ":", 6)
		if len(parts) == 6 {
			reg, acct = parts[3], parts[4]
		}
	}
	if ac := a.accounts[acct]; ac != nil {
		if r := ac.regions[reg]; r != nil {
			if k := r.keys[ref]; k != nil {
				return k, acct, reg
			}
		}
	}
	return nil, "", ""
}
