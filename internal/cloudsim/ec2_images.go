package cloudsim

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// AMIs: DescribeImages, DescribeImageAttribute, ModifyImageAttribute, ResetImageAttribute.

var imageFilters = []string{"architecture", "block-device-mapping.snapshot-id", "block-device-mapping.encrypted",
	"block-device-mapping.volume-size", "block-device-mapping.device-name", "creation-date", "deprecation-time",
	"description", "image-id", "image-type", "is-public", "name", "owner-alias", "owner-id", "root-device-type",
	"state", "tag-key", "virtualization-type", "source-image-id"}

func imgPublic(im *Image) bool {
	return im.LaunchPermissions != nil && slices.Contains(im.LaunchPermissions.Groups, "all")
}

// imgExplicit reports whether the account may launch the image through its user id or its
// organisation / OU.
func (a *AWS) imgExplicit(im *Image, acct string) bool {
	p := im.LaunchPermissions
	if p == nil {
		return false
	}
	if slices.Contains(p.UserIDs, acct) {
		return true
	}
	for _, o := range p.OrganizationARNs {
		if a.org.inScope(acct, o) {
			return true
		}
	}
	for _, o := range p.OUARNs {
		if a.org.inScope(acct, o) {
			return true
		}
	}
	return false
}

func (a *AWS) canLaunch(owner string, im *Image, acct string) bool {
	if owner == acct {
		return true
	}
	if im.Disabled { // a disabled AMI is private to its owner
		return false
	}
	return imgPublic(im) || a.imgExplicit(im, acct)
}

func ec2DescribeImages(c *call) {
	f := c.form
	owners := qList(f, "Owner")
	execBy := qList(f, "ExecutableBy")
	ids := qList(f, "ImageId")
	filters := qFilters(f, "Filter", "Value")
	if !c.checkFilters(filters, imageFilters...) {
		return
	}
	limit, ok := c.maxResults(1, 1000)
	if !ok {
		return
	}
	if len(ids) > 0 && limit > 0 {
		c.invalid("InvalidParameterCombination", "The parameter imagesSet cannot be used with the parameter maxResults")
		return
	}
	start, ok := c.nextToken()
	if !ok {
		return
	}
	inclDeprecated, inclDisabled := boolParam(f, "IncludeDeprecated"), boolParam(f, "IncludeDisabled")
	me := c.p.account
	now := c.a.opt.Now()
	for i, o := range owners {
		if o == "self" {
			owners[i] = me
		}
	}
	wantID := map[string]bool{}
	for _, id := range ids {
		wantID[id] = true
	}
	match := func(owner string, im *Image) bool {
		if !c.a.canLaunch(owner, im, me) {
			return false
		}
		if len(wantID) > 0 && !wantID[im.ID] {
			return false
		}
		if im.Disabled && !inclDisabled {
			return false
		}
		// Deprecated AMIs: always shown to their owner and when asked for by id.
		if !im.DeprecationTime.IsZero() && im.DeprecationTime.Before(now) && owner != me && !inclDeprecated && len(wantID) == 0 {
			return false
		}
		if len(owners) > 0 && !slices.Contains(owners, owner) && (im.OwnerAlias == "" || !slices.Contains(owners, im.OwnerAlias)) {
			return false
		}
		if len(execBy) > 0 {
			hit := false
			for _, e := range execBy {
				switch e {
				case "all":
					hit = hit || imgPublic(im)
				case "self", me:
					hit = hit || (owner != me && c.a.imgExplicit(im, me))
				default:
					// Another account: only AMIs shared with that account id itself.
					hit = hit || (im.LaunchPermissions != nil && slices.Contains(im.LaunchPermissions.UserIDs, e))
				}
			}
			if !hit {
				return false
			}
		}
		for _, fl := range filters {
			if !c.imageFilter(fl, owner, im) {
				return false
			}
		}
		return true
	}

	x := c.ec2Begin()
	x.open("imagesSet")
	found := map[string]bool{}
	n, pos, next := 0, 0, -1
scan:
	for _, acct := range c.a.order {
		reg := acct.regions[c.region]
		if reg == nil {
			continue
		}
		cnt := len(reg.r.Images)
		if (len(owners) == 1 && owners[0] == me && acct.id != me) || pos+cnt <= start {
			pos += cnt
			continue
		}
		for i := range reg.r.Images {
			p := pos + i
			if p < start {
				continue
			}
			im := &reg.r.Images[i]
			if !match(acct.id, im) {
				continue
			}
			if limit > 0 && n == limit {
				next = p
				break scan
			}
			c.writeImage(x, reg, im)
			found[im.ID] = true
			n++
		}
		pos += cnt
	}
	x.end("imagesSet")
	for _, id := range ids {
		if !found[id] {
			x.release()
			if !strings.HasPrefix(id, "ami-") {
				c.invalid("InvalidAMIID.Malformed", "Invalid id: \"%s\" (expecting \"ami-...\")", id)
				return
			}
			c.invalid("InvalidAMIID.NotFound", "The image id '[%s]' does not exist", id)
			return
		}
	}
	if next >= 0 {
		x.str("nextToken", pageToken(c.action, next))
	}
	c.ec2End(x)
}

func (c *call) imageFilter(f filter, owner string, im *Image) bool {
	if m, ok := tagFilter(f, im.Tags); ok {
		return m
	}
	switch f.name {
	case "architecture":
		return anyMatch(f, "x86_64")
	case "creation-date":
		return anyMatch(f, ec2Time(im.CreationDate))
	case "deprecation-time":
		return anyMatch(f, ec2Time(im.DeprecationTime))
	case "description":
		return anyMatch(f, im.Description)
	case "image-id":
		return anyMatch(f, im.ID)
	case "image-type":
		return anyMatch(f, "machine")
	case "is-public":
		return anyMatch(f, fmtBool(imgPublic(im)))
	case "name":
		return anyMatch(f, im.Name)
	case "owner-alias":
		return anyMatch(f, im.OwnerAlias)
	case "owner-id":
		return anyMatch(f, owner)
	case "root-device-type":
		return anyMatch(f, "ebs")
	case "state":
		return anyMatch(f, imgState(im))
	case "virtualization-type":
		return anyMatch(f, "hvm")
	case "source-image-id":
		return anyMatch(f, im.SourceImageID)
	}
	for i, bd := range im.BlockDevices {
		var v string
		switch f.name {
		case "block-device-mapping.snapshot-id":
			v = bd.SnapshotID
		case "block-device-mapping.encrypted":
			v = fmtBool(c.bdEncrypted(owner, bd))
		case "block-device-mapping.volume-size":
			v = strconv.Itoa(int(c.bdSize(owner, bd)))
		case "block-device-mapping.device-name":
			v = deviceName(im, i)
		}
		if anyMatch(f, v) {
			return true
		}
	}
	return false
}

func imgState(im *Image) string {
	if im.Disabled {
		return "disabled"
	}
	return "available"
}

func rootDevice(im *Image) string { return orDefault(im.RootDevice, "/dev/xvda") }

func deviceName(im *Image, i int) string {
	if d := im.BlockDevices[i].Device; d != "" {
		return d
	}
	if i == 0 {
		return rootDevice(im)
	}
	return "/dev/sd" + string(rune('a'+i+4)) // sdf, sdg, ...
}

// bdSnapshot finds the snapshot behind a block device mapping in the image owner's region.
func (c *call) bdSnapshot(owner string, bd BlockDevice) *Snapshot {
	if acct := c.a.accounts[owner]; acct != nil {
		if reg := acct.regions[c.region]; reg != nil {
			if i, ok := reg.snaps[bd.SnapshotID]; ok {
				return &reg.r.Snapshots[i]
			}
		}
	}
	return nil
}

func (c *call) bdEncrypted(owner string, bd BlockDevice) bool {
	if s := c.bdSnapshot(owner, bd); s != nil {
		return s.Encrypted
	}
	return bd.Encrypted
}

func (c *call) bdSize(owner string, bd BlockDevice) int32 {
	if bd.VolumeSize > 0 {
		return bd.VolumeSize
	}
	if s := c.bdSnapshot(owner, bd); s != nil {
		return snapSize(s)
	}
	return 8
}

func (c *call) writeBlockDevices(x *xw, name, owner string, im *Image) {
	x.open(name)
	for i, bd := range im.BlockDevices {
		x.open("item").strAlways("deviceName", deviceName(im, i)).open("ebs")
		x.str("snapshotId", bd.SnapshotID)
		x.num("volumeSize", int64(c.bdSize(owner, bd)))
		x.raw("deleteOnTermination", "true")
		x.raw("volumeType", "gp3")
		x.boolean("encrypted", c.bdEncrypted(owner, bd))
		x.end("ebs").end("item")
	}
	x.end(name)
}

func (c *call) writeImage(x *xw, reg *region, im *Image) {
	x.open("item")
	x.strAlways("imageId", im.ID)
	x.strAlways("imageLocation", orDefault(im.OwnerAlias, reg.owner)+"/"+im.Name)
	x.strAlways("imageState", imgState(im))
	x.strAlways("imageOwnerId", reg.owner)
	x.str("creationDate", ec2Time(im.CreationDate))
	x.boolean("isPublic", imgPublic(im))
	x.raw("architecture", "x86_64")
	x.raw("imageType", "machine")
	x.str("name", im.Name)
	x.str("description", im.Description)
	x.raw("rootDeviceType", "ebs")
	x.strAlways("rootDeviceName", rootDevice(im))
	c.writeBlockDevices(x, "blockDeviceMapping", reg.owner, im)
	x.raw("virtualizationType", "hvm")
	x.raw("hypervisor", "xen")
	x.raw("platformDetails", "Linux/UNIX")
	x.raw("usageOperation", "RunInstances")
	x.raw("enaSupport", "true")
	x.raw("bootMode", "uefi-preferred")
	writeTags(x, "tagSet", im.Tags)
	x.str("deprecationTime", ec2Time(im.DeprecationTime))
	x.str("imageOwnerAlias", im.OwnerAlias)
	x.str("sourceImageId", im.SourceImageID)
	x.end("item")
}

// ownImage finds an AMI the caller owns.
func (c *call) ownImage(id string) (*region, *Image) {
	if id == "" {
		c.invalid("MissingParameter", "The request must contain the parameter imageId")
		return nil, nil
	}
	for _, acct := range c.a.order {
		reg := acct.regions[c.region]
		if reg == nil {
			continue
		}
		if i, ok := reg.images[id]; ok {
			im := &reg.r.Images[i]
			if !c.a.canLaunch(reg.owner, im, c.p.account) {
				break
			}
			if reg.owner != c.p.account {
				c.fail(http.StatusForbidden, "AuthFailure", "Not authorized for image:"+id)
				return nil, nil
			}
			return reg, im
		}
	}
	if !strings.HasPrefix(id, "ami-") {
		c.invalid("InvalidAMIID.Malformed", "Invalid id: \"%s\" (expecting \"ami-...\")", id)
		return nil, nil
	}
	c.invalid("InvalidAMIID.NotFound", "The image id '[%s]' does not exist", id)
	return nil, nil
}

func ec2DescribeImageAttribute(c *call) {
	attr := c.form.Get("Attribute")
	if b := c.binnedImage(c.form.Get("ImageId")); b != nil && attr == "launchPermission" {
		x := c.ec2Begin()
		x.strAlways("imageId", b.ID)
		writeLaunchPermissions(x, b.LaunchPermissions)
		c.ec2End(x)
		return
	}
	reg, im := c.ownImage(c.form.Get("ImageId"))
	if im == nil {
		return
	}
	switch attr {
	case "launchPermission", "description", "blockDeviceMapping", "productCodes", "kernel", "ramdisk",
		"sriovNetSupport", "bootMode", "tpmSupport", "uefiData", "lastLaunchedTime", "imdsSupport", "deregistrationProtection":
	default:
		c.invalid("InvalidParameterValue", "Value (%s) for parameter attribute is invalid. Unknown attribute.", attr)
		return
	}
	x := c.ec2Begin()
	x.strAlways("imageId", im.ID)
	switch attr {
	case "launchPermission":
		writeLaunchPermissions(x, im.LaunchPermissions)
	case "description":
		x.open("description").str("value", im.Description).end("description")
	case "blockDeviceMapping":
		c.writeBlockDevices(x, "blockDeviceMapping", reg.owner, im)
	case "bootMode":
		x.open("bootMode").raw("value", "uefi-preferred").end("bootMode")
	default:
		x.open(attr).end(attr)
	}
	c.ec2End(x)
}

func ec2ModifyImageAttribute(c *call) {
	reg, im := c.ownImage(c.form.Get("ImageId"))
	if im == nil {
		return
	}
	if d := c.form.Get("Description.Value"); d != "" {
		im.Description = d
	}
	changes := permChanges(c, "LaunchPermission")
	if a := c.form.Get("Attribute"); a != "" && a != "launchPermission" && a != "description" {
		c.invalid("InvalidParameterValue", "Value (%s) for parameter attribute is invalid.", a)
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
		if ch.add && ch.group == "all" {
			if g := reg.r.Guards.ImageBPA; g != "" && g != "unblocked" {
				c.invalid("OperationNotPermitted", "Public sharing of AMIs is blocked by block public access for AMIs (%s).", g)
				return
			}
			if im.Disabled {
				c.invalid("OperationNotPermitted", "A disabled AMI cannot be shared.")
				return
			}
		}
	}
	for _, ch := range changes {
		im.LaunchPermissions = applyPerm(im.LaunchPermissions, ch)
	}
	ec2Return(c)
}

func ec2ResetImageAttribute(c *call) {
	if a := c.form.Get("Attribute"); a != "launchPermission" {
		c.invalid("InvalidParameterValue", "Value (%s) for parameter attribute is invalid.", a)
		return
	}
	_, im := c.ownImage(c.form.Get("ImageId"))
	if im == nil {
		return
	}
	im.LaunchPermissions = nil
	ec2Return(c)
}

func writeLaunchPermissions(x *xw, p *Permissions) {
	x.open("launchPermission")
	if p != nil {
		for _, g := range p.Groups {
			x.open("item").strAlways("group", g).end("item")
		}
		for _, u := range p.UserIDs {
			x.open("item").strAlways("userId", u).end("item")
		}
		for _, o := range p.OrganizationARNs {
			x.open("item").strAlways("organizationArn", o).end("item")
		}
		for _, o := range p.OUARNs {
			x.open("item").strAlways("organizationalUnitArn", o).end("item")
		}
	}
	x.end("launchPermission")
}

// binnedImage finds an AMI of the caller's Recycle Bin in this region.
func (c *call) binnedImage(id string) *RecycledImage {
	if c.reg == nil {
		return nil
	}
	for i := range c.reg.r.RecycleBin.Images {
		if b := &c.reg.r.RecycleBin.Images[i]; b.ID == id {
			return b
		}
	}
	return nil
}
