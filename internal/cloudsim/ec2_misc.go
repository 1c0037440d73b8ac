package cloudsim

import (
	"slices"
	"strconv"
)

// DescribeRegions, DescribeVolumes, DescribeInstances and DescribeLaunchTemplateVersions: what an
// audit needs to find enabled regions and to tell orphaned snapshots from used ones.

func ec2DescribeRegions(c *call) {
	all := boolParam(c.form, "AllRegions")
	names := qList(c.form, "RegionName")
	filters := qFilters(c.form, "Filter", "Value")
	if !c.checkFilters(filters, "region-name", "opt-in-status", "endpoint") {
		return
	}
	x := c.ec2Begin()
	x.open("regionInfo")
	for _, r := range allRegions() {
		status := "opt-in-not-required"
		switch {
		case regionOptIn[r] && c.acct.enabled[r]:
			status = "opted-in"
		case !c.acct.enabled[r]:
			status = "not-opted-in"
		}
		if (!all && !c.acct.enabled[r]) || (len(names) > 0 && !slices.Contains(names, r)) {
			continue
		}
		endpoint := "ec2." + r + ".amazonaws.com"
		ok := true
		for _, f := range filters {
			switch f.name {
			case "region-name":
				ok = ok && anyMatch(f, r)
			case "opt-in-status":
				ok = ok && anyMatch(f, status)
			case "endpoint":
				ok = ok && anyMatch(f, endpoint)
			}
		}
		if !ok {
			continue
		}
		x.open("item").strAlways("regionName", r).strAlways("regionEndpoint", endpoint).strAlways("optInStatus", status).end("item")
	}
	x.end("regionInfo")
	c.ec2End(x)
}

// attachments maps the region's volume ids to the instance using them and the device name.
func attachments(r *Region) map[string][2]string {
	m := map[string][2]string{}
	for _, in := range r.Instances {
		for i, v := range in.Volumes {
			m[v] = [2]string{in.ID, instanceDevice(i)}
		}
	}
	return m
}

func instanceDevice(i int) string {
	if i == 0 {
		return "/dev/xvda"
	}
	return "/dev/sd" + string(rune('e'+i)) // sdf, sdg, ...
}

func ec2DescribeVolumes(c *call) {
	ids := qList(c.form, "VolumeId")
	filters := qFilters(c.form, "Filter", "Value")
	if !c.checkFilters(filters, "volume-id", "snapshot-id", "status", "encrypted", "size", "attachment.instance-id", "tag-key") {
		return
	}
	limit, ok := c.maxResults(5, 500)
	if !ok {
		return
	}
	r := c.reg.r
	att := attachments(r)
	var sel []int
	for i := range r.Volumes {
		v := &r.Volumes[i]
		if len(ids) > 0 && !slices.Contains(ids, v.ID) {
			continue
		}
		keep := true
		for _, f := range filters {
			if m, handled := tagFilter(f, v.Tags); handled {
				keep = keep && m
				continue
			}
			switch f.name {
			case "volume-id":
				keep = keep && anyMatch(f, v.ID)
			case "snapshot-id":
				keep = keep && anyMatch(f, v.SnapshotID)
			case "status":
				keep = keep && anyMatch(f, volState(v, att))
			case "encrypted":
				keep = keep && anyMatch(f, fmtBool(v.Encrypted))
			case "size":
				keep = keep && anyMatch(f, strconv.Itoa(int(volSize(v))))
			case "attachment.instance-id":
				keep = keep && anyMatch(f, att[v.ID][0])
			}
		}
		if keep {
			sel = append(sel, i)
		}
	}
	for _, id := range ids {
		if _, ok := c.reg.vols[id]; !ok {
			c.invalid("InvalidVolume.NotFound", "The volume '%s' does not exist.", id)
			return
		}
	}
	start, end, next, ok := c.pageOf(len(sel), limit)
	if !ok {
		return
	}
	x := c.ec2Begin()
	x.open("volumeSet")
	for _, i := range sel[start:end] {
		v := &r.Volumes[i]
		x.open("item")
		x.strAlways("volumeId", v.ID)
		x.num("size", int64(volSize(v)))
		x.str("snapshotId", v.SnapshotID)
		x.strAlways("availabilityZone", c.az())
		x.strAlways("status", volState(v, att))
		x.tm("createTime", v.CreateTime)
		x.open("attachmentSet")
		if a, ok := att[v.ID]; ok {
			x.open("item").strAlways("volumeId", v.ID).strAlways("instanceId", a[0]).strAlways("device", a[1]).
				raw("status", "attached").tm("attachTime", v.CreateTime).raw("deleteOnTermination", "true").end("item")
		}
		x.end("attachmentSet")
		x.boolean("encrypted", v.Encrypted)
		x.str("kmsKeyId", c.a.keyRefARN(c.reg.owner, c.region, v.Encrypted, v.KMSKey))
		x.raw("volumeType", "gp3")
		x.raw("multiAttachEnabled", "false")
		writeTags(x, "tagSet", v.Tags)
		x.end("item")
	}
	x.end("volumeSet")
	x.str("nextToken", next)
	c.ec2End(x)
}

func volSize(v *Volume) int32 {
	if v.Size == 0 {
		return 8
	}
	return v.Size
}

func volState(v *Volume, att map[string][2]string) string {
	if v.State != "" {
		return v.State
	}
	if _, ok := att[v.ID]; ok {
		return "in-use"
	}
	return "available"
}

var instanceStateCodes = map[string]int64{"pending": 0, "running": 16, "shutting-down": 32, "terminated": 48, "stopping": 64, "stopped": 80}

func ec2DescribeInstances(c *call) {
	ids := qList(c.form, "InstanceId")
	filters := qFilters(c.form, "Filter", "Value")
	if !c.checkFilters(filters, "instance-id", "image-id", "instance-state-name", "block-device-mapping.volume-id", "tag-key") {
		return
	}
	limit, ok := c.maxResults(5, 1000)
	if !ok {
		return
	}
	r := c.reg.r
	var sel []int
	for i := range r.Instances {
		in := &r.Instances[i]
		if len(ids) > 0 && !slices.Contains(ids, in.ID) {
			continue
		}
		keep := true
		for _, f := range filters {
			if m, handled := tagFilter(f, in.Tags); handled {
				keep = keep && m
				continue
			}
			switch f.name {
			case "instance-id":
				keep = keep && anyMatch(f, in.ID)
			case "image-id":
				keep = keep && anyMatch(f, in.ImageID)
			case "instance-state-name":
				keep = keep && anyMatch(f, orDefault(in.State, "running"))
			case "block-device-mapping.volume-id":
				keep = keep && anyMatch(f, in.Volumes...)
			}
		}
		if keep {
			sel = append(sel, i)
		}
	}
	for _, id := range ids {
		if !slices.ContainsFunc(r.Instances, func(in Instance) bool { return in.ID == id }) {
			c.invalid("InvalidInstanceID.NotFound", "The instance ID '%s' does not exist", id)
			return
		}
	}
	start, end, next, ok := c.pageOf(len(sel), limit)
	if !ok {
		return
	}
	x := c.ec2Begin()
	x.open("reservationSet")
	for _, i := range sel[start:end] {
		in := &r.Instances[i]
		st := orDefault(in.State, "running")
		x.open("item").strAlways("reservationId", "r-"+shortHash(in.ID, 17)).strAlways("ownerId", c.reg.owner)
		x.open("instancesSet").open("item")
		x.strAlways("instanceId", in.ID)
		x.str("imageId", in.ImageID)
		x.open("instanceState").num("code", instanceStateCodes[st]).strAlways("name", st).end("instanceState")
		x.raw("instanceType", "t3.micro")
		x.open("placement").strAlways("availabilityZone", c.az()).end("placement")
		x.raw("rootDeviceType", "ebs")
		x.raw("rootDeviceName", "/dev/xvda")
		x.open("blockDeviceMapping")
		for j, v := range in.Volumes {
			x.open("item").strAlways("deviceName", instanceDevice(j)).open("ebs").strAlways("volumeId", v).
				raw("status", "attached").raw("deleteOnTermination", "true").end("ebs").end("item")
		}
		x.end("blockDeviceMapping")
		writeTags(x, "tagSet", in.Tags)
		x.end("item").end("instancesSet").end("item")
	}
	x.end("reservationSet")
	x.str("nextToken", next)
	c.ec2End(x)
}

func ec2DescribeLaunchTemplateVersions(c *call) {
	id, name := c.form.Get("LaunchTemplateId"), c.form.Get("LaunchTemplateName")
	versions := qList(c.form, "LaunchTemplateVersion")
	limit, ok := c.maxResults(1, 200)
	if !ok {
		return
	}
	minV, _ := strconv.ParseInt(c.form.Get("MinVersion"), 10, 64)
	maxV, _ := strconv.ParseInt(c.form.Get("MaxVersion"), 10, 64)
	r := c.reg.r
	var tmpls []*LaunchTemplate
	switch {
	case id != "" || name != "":
		for i := range r.LaunchTemplates {
			lt := &r.LaunchTemplates[i]
			if (id != "" && lt.ID == id) || (id == "" && lt.Name == name) {
				tmpls = append(tmpls, lt)
			}
		}
		if len(tmpls) == 0 {
			if id != "" {
				c.invalid("InvalidLaunchTemplateId.NotFound", "The specified launch template, with template ID %s, does not exist.", id)
			} else {
				c.invalid("InvalidLaunchTemplateName.NotFoundException", "At least one of the launch templates specified in the request does not exist.")
			}
			return
		}
	default:
		// Without a template, only $Latest and $Default may be asked for, across all templates.
		for _, v := range versions {
			if v != "$Latest" && v != "$Default" {
				c.invalid("InvalidParameterCombination", "You must specify a launch template ID or name when specifying a version number.")
				return
			}
		}
		if len(versions) == 0 {
			c.invalid("MissingParameter", "The request must contain the parameter LaunchTemplateId or LaunchTemplateName, or the versions $Latest or $Default.")
			return
		}
		for i := range r.LaunchTemplates {
			tmpls = append(tmpls, &r.LaunchTemplates[i])
		}
	}
	type sel struct {
		lt  *LaunchTemplate
		v   *LaunchTemplateVersion
		num int64
		def bool
	}
	var out []sel
	for _, lt := range tmpls {
		var latest, def int64
		for i := range lt.Versions {
			n := ltNumber(lt, i)
			latest = max(latest, n)
			if lt.Versions[i].Default {
				def = n
			}
		}
		if def == 0 {
			def = 1
		}
		for i := range lt.Versions {
			v := &lt.Versions[i]
			n := ltNumber(lt, i)
			keep := len(versions) == 0
			for _, want := range versions {
				switch want {
				case "$Latest":
					keep = keep || n == latest
				case "$Default":
					keep = keep || n == def
				default:
					keep = keep || want == strconv.FormatInt(n, 10)
				}
			}
			if (minV > 0 && n < minV) || (maxV > 0 && n > maxV) {
				keep = false
			}
			if keep {
				out = append(out, sel{lt, v, n, n == def})
			}
		}
	}
	start, end, next, ok := c.pageOf(len(out), limit)
	if !ok {
		return
	}
	x := c.ec2Begin()
	x.open("launchTemplateVersionSet")
	for _, s := range out[start:end] {
		x.open("item")
		x.strAlways("launchTemplateId", s.lt.ID).strAlways("launchTemplateName", s.lt.Name)
		x.num("versionNumber", s.num).boolean("defaultVersion", s.def)
		x.strAlways("createdBy", "arn:aws:iam::"+c.reg.owner+":root")
		x.open("launchTemplateData")
		x.str("imageId", s.v.ImageID)
		if len(s.v.BlockDevices) > 0 {
			x.open("blockDeviceMappingSet")
			for i, bd := range s.v.BlockDevices {
				x.open("item").strAlways("deviceName", orDefault(bd.Device, instanceDevice(i))).open("ebs")
				x.str("snapshotId", bd.SnapshotID)
				if bd.VolumeSize > 0 {
					x.num("volumeSize", int64(bd.VolumeSize))
				}
				x.boolean("encrypted", bd.Encrypted)
				x.str("kmsKeyId", bd.KMSKey)
				x.end("ebs").end("item")
			}
			x.end("blockDeviceMappingSet")
		}
		x.end("launchTemplateData")
		x.end("item")
	}
	x.end("launchTemplateVersionSet")
	x.str("nextToken", next)
	c.ec2End(x)
}

func ltNumber(lt *LaunchTemplate, i int) int64 {
	if n := lt.Versions[i].Number; n > 0 {
		return n
	}
	return int64(i + 1)
}
