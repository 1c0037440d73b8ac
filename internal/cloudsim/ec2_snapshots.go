package cloudsim

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// EBS snapshots: DescribeSnapshots, DescribeSnapshotAttribute, ModifySnapshotAttribute,
// ResetSnapshotAttribute.

var snapshotFilters = []string{"description", "encrypted", "owner-alias", "owner-id", "progress", "snapshot-id",
	"start-time", "status", "storage-tier", "tag-key", "volume-id", "volume-size", "kms-key-id"}

// snapPublic and snapSharedWith read createVolumePermission.
func snapPublic(s *Snapshot) bool {
	return s.Permissions != nil && slices.Contains(s.Permissions.Groups, "all")
}

func snapSharedWith(s *Snapshot, acct string) bool {
	return s.Permissions != nil && slices.Contains(s.Permissions.UserIDs, acct)
}

// canRestore is EC2's visibility rule: the owner, everyone when public, and the accounts in
// createVolumePermission.
func canRestore(owner string, s *Snapshot, acct string) bool {
	return owner == acct || snapPublic(s) || snapSharedWith(s, acct)
}

func ec2DescribeSnapshots(c *call) {
	f := c.form
	owners := qList(f, "Owner")
	restorable := qList(f, "RestorableBy")
	ids := qList(f, "SnapshotId")
	filters := qFilters(f, "Filter", "Value")
	if !c.checkFilters(filters, snapshotFilters...) {
		return
	}
	limit, ok := c.maxResults(5, 1000)
	if !ok {
		return
	}
	if len(ids) > 0 && limit > 0 {
		c.invalid("InvalidParameterCombination", "The parameter snapshotIdSet cannot be used with the parameter maxResults")
		return
	}
	start, ok := c.nextToken()
	if !ok {
		return
	}
	me := c.p.account
	for i, o := range owners {
		if o == "self" {
			owners[i] = me
		}
	}
	wantID := map[string]bool{}
	for _, id := range ids {
		wantID[id] = true
	}
	match := func(owner string, s *Snapshot) bool {
		if !canRestore(owner, s, me) {
			return false
		}
		if len(wantID) > 0 && !wantID[s.ID] {
			return false
		}
		if len(owners) > 0 && !slices.Contains(owners, owner) && (s.OwnerAlias == "" || !slices.Contains(owners, s.OwnerAlias)) {
			return false
		}
		if len(restorable) > 0 {
			hit := false
			for _, rb := range restorable {
				switch rb {
				case "all":
					hit = hit || snapPublic(s)
				case "self":
					hit = hit || owner == me || snapSharedWith(s, me)
				default:
					hit = hit || snapSharedWith(s, rb)
				}
			}
			if !hit {
				return false
			}
		}
		for _, fl := range filters {
			if !c.snapshotFilter(fl, owner, s) {
				return false
			}
		}
		return true
	}

	x := c.ec2Begin()
	x.open("snapshotSet")
	found := map[string]bool{}
	n, pos, next := 0, 0, -1
scan:
	for _, acct := range c.a.order {
		reg := acct.regions[c.region]
		if reg == nil {
			continue
		}
		// With only the caller as owner, other accounts cannot match: skip them whole.
		if len(owners) == 1 && owners[0] == me && acct.id != me {
			pos += len(reg.r.Snapshots)
			continue
		}
		if pos+len(reg.r.Snapshots) <= start {
			pos += len(reg.r.Snapshots)
			continue
		}
		for i := range reg.r.Snapshots {
			p := pos + i
			if p < start {
				continue
			}
			s := &reg.r.Snapshots[i]
			if !match(acct.id, s) {
				continue
			}
			if limit > 0 && n == limit {
				next = p
				break scan
			}
			c.writeSnapshot(x, reg, s)
			found[s.ID] = true
			n++
		}
		pos += len(reg.r.Snapshots)
	}
	x.end("snapshotSet")
	for _, id := range ids {
		if !found[id] {
			x.release()
			if !strings.HasPrefix(id, "snap-") {
				c.invalid("InvalidSnapshotID.Malformed", "Invalid id: \"%s\" (expecting \"snap-...\")", id)
				return
			}
			c.invalid("InvalidSnapshot.NotFound", "The snapshot '%s' does not exist.", id)
			return
		}
	}
	if next >= 0 {
		x.str("nextToken", pageToken(c.action, next))
	}
	c.ec2End(x)
}

func (c *call) snapshotFilter(f filter, owner string, s *Snapshot) bool {
	if m, ok := tagFilter(f, s.Tags); ok {
		return m
	}
	switch f.name {
	case "description":
		return anyMatch(f, s.Description)
	case "encrypted":
		return anyMatch(f, fmtBool(s.Encrypted))
	case "owner-alias":
		return anyMatch(f, s.OwnerAlias)
	case "owner-id":
		return anyMatch(f, owner)
	case "progress":
		return anyMatch(f, "100%")
	case "snapshot-id":
		return anyMatch(f, s.ID)
	case "start-time":
		return anyMatch(f, ec2Time(s.StartTime))
	case "status":
		return anyMatch(f, snapState(s))
	case "storage-tier":
		return anyMatch(f, "standard")
	case "volume-id":
		return anyMatch(f, s.VolumeID)
	case "volume-size":
		return anyMatch(f, strconv.Itoa(int(snapSize(s))))
	case "kms-key-id":
		return anyMatch(f, c.a.keyRefARN(owner, c.region, s.Encrypted, s.KMSKey))
	}
	return false
}

func snapState(s *Snapshot) string {
	if s.State == "" {
		return "completed"
	}
	return s.State
}

func snapSize(s *Snapshot) int32 {
	if s.VolumeSize == 0 {
		return 8
	}
	return s.VolumeSize
}

// keyRefARN renders a resource's KMS key as the ARN AWS reports: the named key resolved, or the
// region's aws/ebs key for an encrypted resource that names none.
func (a *AWS) keyRefARN(owner, region string, encrypted bool, ref string) string {
	if !encrypted {
		return ""
	}
	if ref == "" {
		ref = "alias/aws/ebs"
	}
	if k, acct, reg := a.lookupKey(owner, region, ref); k != nil {
		return keyARN(acct, reg, k.ID)
	}
	return ref
}

func (c *call) writeSnapshot(x *xw, reg *region, s *Snapshot) {
	x.open("item")
	x.strAlways("snapshotId", s.ID)
	vol := s.VolumeID
	if vol == "" {
		vol = "vol-ffffffff" // what AWS shows for copied snapshots
	}
	x.strAlways("volumeId", vol)
	x.strAlways("status", snapState(s))
	x.tm("startTime", s.StartTime)
	x.raw("progress", "100%")
	x.strAlways("ownerId", reg.owner)
	x.num("volumeSize", int64(snapSize(s)))
	x.str("description", s.Description)
	x.boolean("encrypted", s.Encrypted)
	x.str("kmsKeyId", c.a.keyRefARN(reg.owner, reg.name, s.Encrypted, s.KMSKey))
	x.str("ownerAlias", s.OwnerAlias)
	x.raw("storageTier", "standard")
	writeTags(x, "tagSet", s.Tags)
	x.end("item")
}

// findSnapshot finds a snapshot of this region in any account.
func (c *call) findSnapshot(id string) (*region, *Snapshot) {
	for _, acct := range c.a.order {
		if reg := acct.regions[c.region]; reg != nil {
			if i, ok := reg.snaps[id]; ok {
				return reg, &reg.r.Snapshots[i]
			}
		}
	}
	return nil, nil
}

// ownSnapshot finds a snapshot the caller owns, answering the error AWS gives otherwise.
func (c *call) ownSnapshot(id string) (*region, *Snapshot) {
	if id == "" {
		c.invalid("MissingParameter", "The request must contain the parameter snapshotId")
		return nil, nil
	}
	reg, s := c.findSnapshot(id)
	if s == nil || !canRestore(reg.owner, s, c.p.account) {
		c.invalid("InvalidSnapshot.NotFound", "The snapshot '%s' does not exist.", id)
		return nil, nil
	}
	if reg.owner != c.p.account {
		c.fail(http.StatusForbidden, "UnauthorizedOperation", "You are not authorized to perform this operation on snapshot "+id+".")
		return nil, nil
	}
	return reg, s
}

func ec2DescribeSnapshotAttribute(c *call) {
	attr := c.form.Get("Attribute")
	if attr != "createVolumePermission" && attr != "productCodes" {
		c.invalid("InvalidParameterValue", "Value (%s) for parameter attribute is invalid. Unknown attribute.", attr)
		return
	}
	id := c.form.Get("SnapshotId")
	var perms *Permissions
	if b := c.binnedSnapshot(id); b != nil {
		perms = b.Permissions
	} else {
		_, s := c.ownSnapshot(id)
		if s == nil {
			return
		}
		perms = s.Permissions
	}
	x := c.ec2Begin()
	x.strAlways("snapshotId", id)
	if attr == "createVolumePermission" {
		x.open("createVolumePermission")
		if p := perms; p != nil {
			for _, g := range p.Groups {
				x.open("item").strAlways("group", g).end("item")
			}
			for _, u := range p.UserIDs {
				x.open("item").strAlways("userId", u).end("item")
			}
		}
		x.end("createVolumePermission")
	} else {
		x.open("productCodes").end("productCodes")
	}
	c.ec2End(x)
}

// permChange is one add or remove of a permission entry.
type permChange struct {
	add                    bool
	group, user, org, unit string
}

// permChanges reads both spellings EC2 accepts: the structured "PREFIX.Add.N.Group" lists and
// the flat "OperationType" + "UserId.N"/"UserGroup.N" form.
func permChanges(c *call, prefix string) []permChange {
	var out []permChange
	for _, op := range []string{"Add", "Remove"} {
		for _, it := range qItems(c.form, prefix+"."+op) {
			out = append(out, permChange{add: op == "Add", group: it.Get("Group"), user: it.Get("UserId"),
				org: it.Get("OrganizationArn"), unit: it.Get("OrganizationalUnitArn")})
		}
	}
	if opType := c.form.Get("OperationType"); opType != "" {
		add := opType == "add"
		for _, g := range qList(c.form, "UserGroup") {
			out = append(out, permChange{add: add, group: g})
		}
		for _, u := range qList(c.form, "UserId") {
			out = append(out, permChange{add: add, user: u})
		}
		for _, o := range qList(c.form, "OrganizationArn") {
			out = append(out, permChange{add: add, org: o})
		}
		for _, o := range qList(c.form, "OrganizationalUnitArn") {
			out = append(out, permChange{add: add, unit: o})
		}
	}
	return out
}

// applyPerm returns a changed copy: generated estates share one Permissions value among many
// resources, so it is never changed in place.
func applyPerm(old *Permissions, ch permChange) *Permissions {
	p := &Permissions{}
	if old != nil {
		p.Groups = slices.Clone(old.Groups)
		p.UserIDs = slices.Clone(old.UserIDs)
		p.OrganizationARNs = slices.Clone(old.OrganizationARNs)
		p.OUARNs = slices.Clone(old.OUARNs)
	}
	upd := func(list []string, v string) []string {
		if v == "" {
			return list
		}
		if ch.add {
			if !slices.Contains(list, v) {
				list = append(list, v)
			}
			return list
		}
		return slices.DeleteFunc(list, func(s string) bool { return s == v })
	}
	p.Groups = upd(p.Groups, ch.group)
	p.UserIDs = upd(p.UserIDs, ch.user)
	p.OrganizationARNs = upd(p.OrganizationARNs, ch.org)
	p.OUARNs = upd(p.OUARNs, ch.unit)
	return p
}

func ec2ModifySnapshotAttribute(c *call) {
	if a := c.form.Get("Attribute"); a != "" && a != "createVolumePermission" {
		c.invalid("InvalidParameterValue", "Value (%s) for parameter attribute is invalid.", a)
		return
	}
	reg, s := c.ownSnapshot(c.form.Get("SnapshotId"))
	if s == nil {
		return
	}
	changes := permChanges(c, "CreateVolumePermission")
	if len(changes) == 0 {
		c.invalid("MissingParameter", "No permission to add or remove was given")
		return
	}
	for _, ch := range changes {
		if ch.group != "" && ch.group != "all" {
			c.invalid("InvalidParameterValue", "Value (%s) for parameter group is invalid. Supported values: all", ch.group)
			return
		}
		if ch.user != "" && !isAccountID(ch.user) {
			c.invalid("InvalidParameterValue", "Value (%s) for parameter userId is invalid.", ch.user)
			return
		}
		if !ch.add {
			continue
		}
		if ch.group == "all" && s.Encrypted {
			c.invalid("InvalidParameterValue", "Encrypted snapshots cannot be shared publicly.")
			return
		}
		if ch.group == "all" && reg.r.Guards.SnapshotBPA != "" && reg.r.Guards.SnapshotBPA != "unblocked" {
			c.invalid("OperationNotPermitted", "Public sharing of snapshots is blocked by block public access for snapshots (%s).", reg.r.Guards.SnapshotBPA)
			return
		}
		if ch.user != "" && s.Encrypted {
			if k, _, _ := c.a.lookupKey(reg.owner, reg.name, orDefault(s.KMSKey, "alias/aws/ebs")); k != nil && k.AWSManaged {
				c.invalid("InvalidParameterValue", "Snapshots encrypted with the AWS Managed CMK can't be shared. Specify another snapshot.")
				return
			}
		}
	}
	for _, ch := range changes {
		s.Permissions = applyPerm(s.Permissions, ch)
	}
	ec2Return(c)
}

func ec2ResetSnapshotAttribute(c *call) {
	if a := c.form.Get("Attribute"); a != "createVolumePermission" {
		c.invalid("InvalidParameterValue", "Value (%s) for parameter attribute is invalid.", a)
		return
	}
	_, s := c.ownSnapshot(c.form.Get("SnapshotId"))
	if s == nil {
		return
	}
	s.Permissions = nil
	ec2Return(c)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// binnedSnapshot finds a snapshot of the caller's Recycle Bin in this region: its owner may
// still read its permissions, which a restore brings back.
func (c *call) binnedSnapshot(id string) *RecycledSnapshot {
	if c.reg == nil {
		return nil
	}
	for i := range c.reg.r.RecycleBin.Snapshots {
		if b := &c.reg.r.RecycleBin.Snapshots[i]; b.ID == id {
			return b
		}
	}
	return nil
}
