package cloudsim

import "slices"

// Where copies of disks go besides snapshots: the Recycle Bin, AMI store tasks and export tasks
// to S3.

func ec2ListSnapshotsInRecycleBin(c *call) {
	ids := qList(c.form, "SnapshotId")
	limit, ok := c.maxResults(5, 1000)
	if !ok {
		return
	}
	items := c.reg.r.RecycleBin.Snapshots
	var sel []int
	for i := range items {
		if len(ids) == 0 || slices.Contains(ids, items[i].ID) {
			sel = append(sel, i)
		}
	}
	start, end, next, ok := c.pageOf(len(sel), limit)
	if !ok {
		return
	}
	x := c.ec2Begin()
	x.open("snapshotSet")
	for _, i := range sel[start:end] {
		s := &items[i]
		x.open("item").strAlways("snapshotId", s.ID).tm("recycleBinEnterTime", s.EnterTime).tm("recycleBinExitTime", s.ExitTime).
			str("description", s.Description).str("volumeId", s.VolumeID).end("item")
	}
	x.end("snapshotSet")
	x.str("nextToken", next)
	c.ec2End(x)
}

func ec2ListImagesInRecycleBin(c *call) {
	ids := qList(c.form, "ImageId")
	limit, ok := c.maxResults(1, 1000)
	if !ok {
		return
	}
	items := c.reg.r.RecycleBin.Images
	var sel []int
	for i := range items {
		if len(ids) == 0 || slices.Contains(ids, items[i].ID) {
			sel = append(sel, i)
		}
	}
	start, end, next, ok := c.pageOf(len(sel), limit)
	if !ok {
		return
	}
	x := c.ec2Begin()
	x.open("imageSet")
	for _, i := range sel[start:end] {
		im := &items[i]
		x.open("item").strAlways("imageId", im.ID).str("name", im.Name).str("description", im.Description).
			tm("recycleBinEnterTime", im.EnterTime).tm("recycleBinExitTime", im.ExitTime).end("item")
	}
	x.end("imageSet")
	x.str("nextToken", next)
	c.ec2End(x)
}

func ec2DescribeStoreImageTasks(c *call) {
	ids := qList(c.form, "ImageId")
	filters := qFilters(c.form, "Filter", "Value")
	if !c.checkFilters(filters, "task-state", "bucket") {
		return
	}
	limit, ok := c.maxResults(1, 200)
	if !ok {
		return
	}
	items := c.reg.r.StoreImageTasks
	var sel []int
	for i := range items {
		t := &items[i]
		if len(ids) > 0 && !slices.Contains(ids, t.ImageID) {
			continue
		}
		keep := true
		for _, f := range filters {
			switch f.name {
			case "task-state":
				keep = keep && anyMatch(f, orDefault(t.State, "Completed"))
			case "bucket":
				keep = keep && anyMatch(f, t.Bucket)
			}
		}
		if keep {
			sel = append(sel, i)
		}
	}
	start, end, next, ok := c.pageOf(len(sel), limit)
	if !ok {
		return
	}
	x := c.ec2Begin()
	x.open("storeImageTaskResultSet")
	for _, i := range sel[start:end] {
		t := &items[i]
		state := orDefault(t.State, "Completed")
		progress := int64(100)
		if state == "InProgress" {
			progress = 50
		}
		x.open("item").strAlways("amiId", t.ImageID).tm("taskStartTime", t.StartTime).strAlways("bucket", t.Bucket).
			strAlways("s3objectKey", orDefault(t.Key, t.ImageID+".bin")).strAlways("storeTaskState", state).
			num("progressPercentage", progress).end("item")
	}
	x.end("storeImageTaskResultSet")
	x.str("nextToken", next)
	c.ec2End(x)
}

func ec2DescribeExportImageTasks(c *call) {
	ids := qList(c.form, "ExportImageTaskId")
	limit, ok := c.maxResults(1, 500)
	if !ok {
		return
	}
	items := c.reg.r.ExportImageTasks
	var sel []int
	for i := range items {
		if len(ids) == 0 || slices.Contains(ids, items[i].ID) {
			sel = append(sel, i)
		}
	}
	start, end, next, ok := c.pageOf(len(sel), limit)
	if !ok {
		return
	}
	x := c.ec2Begin()
	x.open("exportImageTaskSet")
	for _, i := range sel[start:end] {
		t := &items[i]
		status := orDefault(t.Status, "completed")
		x.open("item").strAlways("exportImageTaskId", t.ID).strAlways("imageId", t.ImageID)
		x.open("s3ExportLocation").strAlways("s3Bucket", t.Bucket).str("s3Prefix", t.Prefix).end("s3ExportLocation")
		x.strAlways("status", status)
		if status == "completed" {
			x.raw("progress", "100")
		}
		x.end("item")
	}
	x.end("exportImageTaskSet")
	x.str("nextToken", next)
	c.ec2End(x)
}

func ec2DescribeExportTasks(c *call) {
	ids := qList(c.form, "ExportTaskId")
	x := c.ec2Begin()
	x.open("exportTaskSet")
	for i := range c.reg.r.ExportTasks {
		t := &c.reg.r.ExportTasks[i]
		if len(ids) > 0 && !slices.Contains(ids, t.ID) {
			continue
		}
		format := orDefault(t.Format, "vmdk")
		x.open("item").strAlways("exportTaskId", t.ID).strAlways("state", orDefault(t.State, "completed"))
		x.open("instanceExport").strAlways("instanceId", t.InstanceID).raw("targetEnvironment", "vmware").end("instanceExport")
		x.open("exportToS3").strAlways("diskImageFormat", format).raw("containerFormat", "ova").
			strAlways("s3Bucket", t.Bucket).strAlways("s3Key", orDefault(t.Key, t.ID+".ova")).end("exportToS3")
		x.end("item")
	}
	x.end("exportTaskSet")
	c.ec2End(x)
}
