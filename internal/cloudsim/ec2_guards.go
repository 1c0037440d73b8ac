package cloudsim

import "net/http"

// Region guards: snapshot and AMI Block Public Access, EBS encryption by default and its key.

func ec2GetSnapshotBPA(c *call) {
	g := &c.reg.r.Guards
	x := c.ec2Begin()
	x.strAlways("state", orDefault(g.SnapshotBPA, "unblocked"))
	x.strAlways("managedBy", orDefault(g.SnapshotBPAManagedBy, "account"))
	c.ec2End(x)
}

// declarative refuses changing a guard an Organizations declarative policy manages: the account
// cannot override it.
func declarative(c *call, managedBy string) bool {
	if managedBy == "declarative-policy" {
		c.fail(http.StatusForbidden, "UnauthorizedOperation", "This setting is managed by a declarative policy of your organization and cannot be changed from this account.")
		return true
	}
	return false
}

func ec2EnableSnapshotBPA(c *call) {
	st := c.form.Get("State")
	if st != "block-all-sharing" && st != "block-new-sharing" {
		c.invalid("InvalidParameterValue", "Value (%s) for parameter State is invalid. Valid values: block-all-sharing, block-new-sharing", st)
		return
	}
	g := &c.reg.r.Guards
	if declarative(c, g.SnapshotBPAManagedBy) {
		return
	}
	g.SnapshotBPA = st
	x := c.ec2Begin()
	x.strAlways("state", st)
	c.ec2End(x)
}

func ec2DisableSnapshotBPA(c *call) {
	g := &c.reg.r.Guards
	if declarative(c, g.SnapshotBPAManagedBy) {
		return
	}
	g.SnapshotBPA = "unblocked"
	x := c.ec2Begin()
	x.strAlways("state", "unblocked")
	c.ec2End(x)
}

func ec2GetImageBPA(c *call) {
	g := &c.reg.r.Guards
	x := c.ec2Begin()
	x.strAlways("imageBlockPublicAccessState", orDefault(g.ImageBPA, "unblocked"))
	x.strAlways("managedBy", orDefault(g.ImageBPAManagedBy, "account"))
	c.ec2End(x)
}

func ec2EnableImageBPA(c *call) {
	st := c.form.Get("ImageBlockPublicAccessState")
	if st != "block-new-sharing" {
		c.invalid("InvalidParameterValue", "Value (%s) for parameter ImageBlockPublicAccessState is invalid. Valid values: block-new-sharing", st)
		return
	}
	g := &c.reg.r.Guards
	if declarative(c, g.ImageBPAManagedBy) {
		return
	}
	g.ImageBPA = st
	x := c.ec2Begin()
	x.strAlways("imageBlockPublicAccessState", st)
	c.ec2End(x)
}

func ec2DisableImageBPA(c *call) {
	g := &c.reg.r.Guards
	if declarative(c, g.ImageBPAManagedBy) {
		return
	}
	g.ImageBPA = "unblocked"
	x := c.ec2Begin()
	x.strAlways("imageBlockPublicAccessState", "unblocked")
	c.ec2End(x)
}

func ec2GetEbsEncryptionByDefault(c *call) {
	x := c.ec2Begin()
	x.boolean("ebsEncryptionByDefault", c.reg.r.Guards.EncryptionByDefault)
	x.raw("sseType", "sse-ebs")
	c.ec2End(x)
}

func ec2EnableEbsEncryptionByDefault(c *call) {
	c.reg.r.Guards.EncryptionByDefault = true
	x := c.ec2Begin()
	x.boolean("ebsEncryptionByDefault", true)
	c.ec2End(x)
}

func ec2GetEbsDefaultKmsKeyID(c *call) {
	x := c.ec2Begin()
	ref := c.reg.r.Guards.DefaultKMSKey
	if ref == "" {
		x.strAlways("kmsKeyId", "alias/aws/ebs") // what AWS answers while no key was chosen
	} else {
		x.strAlways("kmsKeyId", c.a.keyRefARN(c.reg.owner, c.region, true, ref))
	}
	c.ec2End(x)
}

func ec2ModifyEbsDefaultKmsKeyID(c *call) {
	ref := c.form.Get("KmsKeyId")
	k, _, _ := c.a.lookupKey(c.reg.owner, c.region, ref)
	if k == nil {
		c.invalid("InvalidParameterValue", "Value (%s) for parameter KmsKeyId is invalid. The key does not exist.", ref)
		return
	}
	c.reg.r.Guards.DefaultKMSKey = ref
	x := c.ec2Begin()
	x.strAlways("kmsKeyId", c.a.keyRefARN(c.reg.owner, c.region, true, ref))
	c.ec2End(x)
}
