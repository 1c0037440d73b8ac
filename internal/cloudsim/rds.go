package cloudsim

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// RDS (awsQuery, 2014-10-31): DB snapshots and cluster snapshots (Aurora, DocumentDB and
// Neptune all answer through this one API, which is why a careless audit reports Neptune
// twice), their "restore" attribute, and snapshot exports to S3.
func init() {
	register(&service{
		name: "rds", proto: protoQuery, xmlns: xmlnsRDS,
		actions: map[string]handler{
			"DescribeDBSnapshots":                 rdsDescribeDBSnapshots,
			"DescribeDBSnapshotAttributes":        rdsDescribeDBSnapshotAttributes,
			"ModifyDBSnapshotAttribute":           rdsModifyDBSnapshotAttribute,
			"DescribeDBClusterSnapshots":          rdsDescribeDBClusterSnapshots,
			"DescribeDBClusterSnapshotAttributes": rdsDescribeDBClusterSnapshotAttributes,
			"ModifyDBClusterSnapshotAttribute":    rdsModifyDBClusterSnapshotAttribute,
			"DescribeExportTasks":                 rdsDescribeExportTasks,
			"DescribeDBInstances":                 rdsDescribeDBInstances,
			"DescribeDBClusters":                  rdsDescribeDBClusters,
		},
		mutating:  set("ModifyDBSnapshotAttribute", "ModifyDBClusterSnapshotAttribute"),
		throttle:  errSpec{http.StatusBadRequest, "Throttling"},
		internal:  errSpec{http.StatusInternalServerError, "InternalFailure"},
		denied:    errSpec{http.StatusForbidden, "AccessDenied"},
		authFail:  errSpec{http.StatusForbidden, "InvalidClientTokenId"},
		notFoundA: "InvalidAction",
	})
}

// rdsKind says which of the two snapshot families a handler serves.
type rdsKind struct {
	cluster    bool
	list       func(r *Region) []DBSnapshot
	index      func(r *region) map[string]int32
	arnType    string // snapshot | cluster-snapshot
	notFound   string
	elem       string // DBSnapshot | DBClusterSnapshot
	idParam    string // DBSnapshotIdentifier | DBClusterSnapshotIdentifier
	srcParam   string // DBInstanceIdentifier | DBClusterIdentifier
	attrResult string // DBSnapshotAttributesResult | DBClusterSnapshotAttributesResult
}

var (
	rdsDB = rdsKind{list: func(r *Region) []DBSnapshot { return r.DBSnapshots }, index: func(r *region) map[string]int32 { return r.db },
		arnType: "snapshot", notFound: "DBSnapshotNotFound", elem: "DBSnapshot", idParam: "DBSnapshotIdentifier",
		srcParam: "DBInstanceIdentifier", attrResult: "DBSnapshotAttributesResult"}
	rdsCluster = rdsKind{cluster: true, list: func(r *Region) []DBSnapshot { return r.DBClusterSnaps }, index: func(r *region) map[string]int32 { return r.cluster },
		arnType: "cluster-snapshot", notFound: "DBClusterSnapshotNotFoundFault", elem: "DBClusterSnapshot", idParam: "DBClusterSnapshotIdentifier",
		srcParam: "DBClusterIdentifier", attrResult: "DBClusterSnapshotAttributesResult"}
)

func rdsArn(region, owner, typ, id string) string {
	return "arn:aws:rds:" + region + ":" + owner + ":" + typ + ":" + id
}

func rdsPublic(s *DBSnapshot) bool              { return slices.Contains(s.Restore, "all") }
func rdsShared(s *DBSnapshot, acct string) bool { return slices.Contains(s.Restore, acct) }
func rdsType(s *DBSnapshot) string              { return orDefault(s.Type, "manual") }

func (k rdsKind) engine(s *DBSnapshot) string {
	if s.Engine != "" {
		return s.Engine
	}
	if k.cluster {
		return "aurora-mysql"
	}
	return "mysql"
}

func enginePort(engine string) int64 {
	switch {
	case strings.Contains(engine, "postgres"):
		return 5432
	case engine == "docdb":
		return 27017
	case engine == "neptune":
		return 8182
	case strings.HasPrefix(engine, "oracle"):
		return 1521
	case strings.HasPrefix(engine, "sqlserver"):
		return 1433
	}
	return 3306
}

func engineVersion(engine string) string {
	switch engine {
	case "docdb":
		return "5.0.0"
	case "neptune":
		return "1.3.2.0"
	case "aurora-mysql":
		return "8.0.mysql_aurora.3.05.2"
	case "aurora-postgresql", "postgres":
		return "16.3"
	}
	return "8.0.35"
}

// maxRecords reads MaxRecords (20..100, default 100), as RDS and Redshift constrain it.
func (c *call) maxRecords() (int, bool) {
	v := c.form.Get("MaxRecords")
	if v == "" {
		return 100, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 20 || n > 100 {
		c.fail(http.StatusBadRequest, "InvalidParameterValue", "Invalid value "+v+" for MaxRecords. Must be between 20 and 100")
		return 0, false
	}
	return n, true
}

func (c *call) marker() (int, bool) {
	pos, ok := parsePageToken(c.action, c.form.Get("Marker"))
	if !ok {
		c.fail(http.StatusBadRequest, "InvalidParameterValue", "Invalid marker: "+c.form.Get("Marker"))
	}
	return pos, ok
}

func rdsDescribeDBSnapshots(c *call)        { rdsDescribe(c, rdsDB) }
func rdsDescribeDBClusterSnapshots(c *call) { rdsDescribe(c, rdsCluster) }

// rdsDescribe answers DescribeDBSnapshots / DescribeDBClusterSnapshots. Without SnapshotType
// it lists the caller's own snapshots, plus those shared with it (IncludeShared) and public ones
// (IncludePublic); "shared" and "public" list only those.
func rdsDescribe(c *call, k rdsKind) {
	f := c.form
	typ, id, src := f.Get("SnapshotType"), f.Get(k.idParam), f.Get(k.srcParam)
	inclShared, inclPublic := boolParam(f, "IncludeShared"), boolParam(f, "IncludePublic")
	filters := qFilters(f, "Filters", "Values")
	for _, fl := range filters {
		switch fl.name {
		case "db-instance-id", "db-cluster-id", "db-snapshot-id", "db-cluster-snapshot-id", "snapshot-type", "engine", "dbi-resource-id":
		default:
			c.fail(http.StatusBadRequest, "InvalidParameterValue", "Unrecognized filter name: "+fl.name)
			return
		}
	}
	limit, ok := c.maxRecords()
	if !ok {
		return
	}
	start, ok := c.marker()
	if !ok {
		return
	}
	me := c.p.account
	// view is how the caller sees a snapshot: "" not at all, else the SnapshotType it shows.
	view := func(owner string, s *DBSnapshot) string {
		if owner == me {
			if typ == "public" && !rdsPublic(s) {
				return ""
			}
			if typ != "" && typ != "public" && typ != rdsType(s) {
				return ""
			}
			if typ == "public" {
				return "public"
			}
			return rdsType(s)
		}
		if rdsType(s) != "manual" {
			return ""
		}
		// Asking for one snapshot by ARN finds it whatever the include flags say.
		byARN := id != "" && strings.HasPrefix(id, "arn:")
		switch {
		case rdsPublic(s) && (typ == "public" || (typ == "" && (inclPublic || byARN))):
			return "public"
		case rdsShared(s, me) && (typ == "shared" || (typ == "" && (inclShared || byARN))):
			return "shared"
		}
		return ""
	}
	x := c.queryBegin()
	x.open(k.elem + "s")
	n, pos, next := 0, 0, -1
	found := false
scan:
	for _, acct := range c.a.order {
		reg := acct.regions[c.region]
		if reg == nil {
			continue
		}
		list := k.list(reg.r)
		if pos+len(list) <= start {
			pos += len(list)
			continue
		}
		for i := range list {
			p := pos + i
			if p < start {
				continue
			}
			s := &list[i]
			arn := rdsArn(c.region, acct.id, k.arnType, s.ID)
			if id != "" && id != arn && !(acct.id == me && id == s.ID) {
				continue
			}
			if src != "" && src != s.SourceID {
				continue
			}
			shown := view(acct.id, s)
			if shown == "" || !rdsFilters(k, filters, s, shown, arn) {
				continue
			}
			if n == limit {
				next = p
				break scan
			}
			found = true
			c.writeRDSSnapshot(x, k, acct.id, s, shown, arn)
			n++
		}
		pos += len(list)
	}
	x.end(k.elem + "s")
	if id != "" && !found {
		x.release()
		c.fail(http.StatusNotFound, k.notFound, k.elem+" "+id+" not found.")
		return
	}
	if next >= 0 {
		x.str("Marker", pageToken(c.action, next))
	}
	c.queryEnd(x)
}

func rdsFilters(k rdsKind, fs []filter, s *DBSnapshot, shown, arn string) bool {
	for _, f := range fs {
		var v string
		switch f.name {
		case "db-instance-id", "db-cluster-id":
			v = s.SourceID
		case "db-snapshot-id", "db-cluster-snapshot-id":
			if slices.Contains(f.values, arn) {
				continue
			}
			v = s.ID
		case "snapshot-type":
			v = shown
		case "engine":
			v = k.engine(s)
		case "dbi-resource-id":
			v = "db-" + strings.ToUpper(shortHash(s.SourceID, 26))
		}
		if !slices.Contains(f.values, v) {
			return false
		}
	}
	return true
}

func (c *call) writeRDSSnapshot(x *xw, k rdsKind, owner string, s *DBSnapshot, shown, arn string) {
	eng := k.engine(s)
	created := s.Created
	if created.IsZero() {
		created = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	storage := int64(s.Storage)
	if storage == 0 {
		storage = 20
	}
	x.open(k.elem)
	if k.cluster {
		x.strAlways("DBClusterSnapshotIdentifier", s.ID)
		x.strAlways("DBClusterIdentifier", s.SourceID)
		x.open("AvailabilityZones").strAlways("AvailabilityZone", c.az()).end("AvailabilityZones")
	} else {
		x.strAlways("DBSnapshotIdentifier", s.ID)
		x.strAlways("DBInstanceIdentifier", s.SourceID)
		x.strAlways("AvailabilityZone", c.az())
	}
	x.tm("SnapshotCreateTime", created)
	x.strAlways("Engine", eng)
	if k.cluster {
		x.raw("EngineMode", "provisioned")
	}
	x.num("AllocatedStorage", storage)
	x.strAlways("Status", orDefault(s.Status, "available"))
	x.num("Port", enginePort(eng))
	x.strAlways("VpcId", "vpc-"+shortHash(owner+c.region, 17))
	if k.cluster {
		x.tm("ClusterCreateTime", created.Add(-24*time.Hour))
	} else {
		x.tm("InstanceCreateTime", created.Add(-24*time.Hour))
	}
	x.raw("MasterUsername", "admin")
	x.strAlways("EngineVersion", engineVersion(eng))
	x.raw("LicenseModel", "general-public-license")
	x.strAlways("SnapshotType", shown)
	x.num("PercentProgress", 100)
	if k.cluster {
		x.boolean("StorageEncrypted", s.Encrypted)
	} else {
		x.raw("StorageType", "gp3")
		x.boolean("Encrypted", s.Encrypted)
	}
	x.str("KmsKeyId", c.a.rdsKeyARN(owner, c.region, s))
	if k.cluster {
		x.strAlways("DBClusterSnapshotArn", arn)
	} else {
		x.strAlways("DBSnapshotArn", arn)
	}
	x.raw("IAMDatabaseAuthenticationEnabled", "false")
	if s.CopiedFrom != "" {
		if k.cluster {
			x.strAlways("SourceDBClusterSnapshotArn", s.CopiedFrom)
		} else {
			x.strAlways("SourceDBSnapshotIdentifier", s.CopiedFrom)
			if parts := strings.SplitN(s.CopiedFrom, ":", 6); len(parts) == 6 && parts[3] != c.region {
				x.strAlways("SourceRegion", parts[3])
			}
		}
	}
	if !k.cluster {
		x.strAlways("DbiResourceId", "db-"+strings.ToUpper(shortHash(s.SourceID, 26)))
	}
	x.open("TagList")
	for _, t := range s.Tags {
		x.open("Tag").strAlways("Key", t.Key).strAlways("Value", t.Value).end("Tag")
	}
	x.end("TagList")
	x.end(k.elem)
}

// rdsKeyARN renders an RDS snapshot's key: encrypted ones without a named key use aws/rds,
// which the simulator represents as an alias ARN.
func (a *AWS) rdsKeyARN(owner, region string, s *DBSnapshot) string {
	if !s.Encrypted {
		return ""
	}
	if s.KMSKey == "" {
		return "arn:aws:kms:" + region + ":" + owner + ":alias/aws/rds"
	}
	return a.keyRefARN(owner, region, true, s.KMSKey)
}

// ownRDS finds a snapshot the caller owns by identifier (or its ARN).
func (c *call) ownRDS(k rdsKind) *DBSnapshot {
	id := c.form.Get(k.idParam)
	if strings.HasPrefix(id, "arn:") {
		id = id[strings.LastIndex(id, ":")+1:]
	}
	if i, ok := k.index(c.reg)[id]; ok && id != "" {
		return &k.list(c.reg.r)[i]
	}
	c.fail(http.StatusNotFound, k.notFound, k.elem+" "+c.form.Get(k.idParam)+" not found.")
	return nil
}

func rdsDescribeDBSnapshotAttributes(c *call)        { rdsAttributes(c, rdsDB) }
func rdsDescribeDBClusterSnapshotAttributes(c *call) { rdsAttributes(c, rdsCluster) }

func rdsAttributes(c *call, k rdsKind) {
	s := c.ownRDS(k)
	if s == nil {
		return
	}
	x := c.queryBegin()
	writeRDSAttributes(x, k, s)
	c.queryEnd(x)
}

func writeRDSAttributes(x *xw, k rdsKind, s *DBSnapshot) {
	attr := strings.TrimSuffix(k.attrResult, "sResult")
	x.open(k.attrResult)
	x.strAlways(k.idParam, s.ID)
	x.open(attr+"s").open(attr).raw("AttributeName", "restore").open("AttributeValues")
	for _, v := range s.Restore {
		x.strAlways("AttributeValue", v)
	}
	x.end("AttributeValues").end(attr).end(attr + "s")
	x.end(k.attrResult)
}

func rdsModifyDBSnapshotAttribute(c *call)        { rdsModify(c, rdsDB) }
func rdsModifyDBClusterSnapshotAttribute(c *call) { rdsModify(c, rdsCluster) }

func rdsModify(c *call, k rdsKind) {
	s := c.ownRDS(k)
	if s == nil {
		return
	}
	if n := c.form.Get("AttributeName"); n != "restore" {
		c.fail(http.StatusBadRequest, "InvalidParameterValue", "Invalid attribute name: "+n)
		return
	}
	if rdsType(s) != "manual" {
		c.fail(http.StatusBadRequest, "InvalidDBSnapshotState", "Only manual snapshots may be shared.")
		return
	}
	add, remove := qList(c.form, "ValuesToAdd"), qList(c.form, "ValuesToRemove")
	for _, v := range add {
		if v != "all" && !isAccountID(v) {
			c.fail(http.StatusBadRequest, "InvalidParameterValue", "Invalid account id: "+v)
			return
		}
		if v == "all" && s.Encrypted {
			c.fail(http.StatusBadRequest, "InvalidParameterValue", "You can't share an encrypted snapshot publicly.")
			return
		}
	}
	s.Restore = slices.Clone(s.Restore) // generated estates share these slices
	for _, v := range add {
		if !slices.Contains(s.Restore, v) {
			s.Restore = append(s.Restore, v)
		}
	}
	s.Restore = slices.DeleteFunc(s.Restore, func(v string) bool { return slices.Contains(remove, v) })
	x := c.queryBegin()
	writeRDSAttributes(x, k, s)
	c.queryEnd(x)
}

func rdsDescribeExportTasks(c *call) {
	f := c.form
	id, src, srcType := f.Get("ExportTaskIdentifier"), f.Get("SourceArn"), f.Get("SourceType")
	filters := qFilters(f, "Filters", "Values")
	limit, ok := c.maxRecords()
	if !ok {
		return
	}
	tasks := c.reg.r.RDSExportTasks
	var sel []int
	for i := range tasks {
		t := &tasks[i]
		st := orDefault(t.SourceType, "SNAPSHOT")
		if (id != "" && t.ID != id) || (src != "" && t.SourceARN != src) || (srcType != "" && st != srcType) {
			continue
		}
		keep := true
		for _, fl := range filters {
			var v string
			switch fl.name {
			case "export-task-identifier":
				v = t.ID
			case "s3-bucket":
				v = t.Bucket
			case "source-arn":
				v = t.SourceARN
			case "status":
				v = orDefault(t.Status, "COMPLETE")
			default:
				c.fail(http.StatusBadRequest, "InvalidParameterValue", "Unrecognized filter name: "+fl.name)
				return
			}
			keep = keep && slices.ContainsFunc(fl.values, func(w string) bool { return strings.EqualFold(w, v) })
		}
		if keep {
			sel = append(sel, i)
		}
	}
	if id != "" && len(sel) == 0 {
		c.fail(http.StatusNotFound, "ExportTaskNotFound", "Export task "+id+" not found.")
		return
	}
	start, ok := c.marker()
	if !ok {
		return
	}
	start = min(start, len(sel))
	end := min(len(sel), start+limit)
	x := c.queryBegin()
	x.open("ExportTasks")
	for _, i := range sel[start:end] {
		t := &tasks[i]
		x.open("ExportTask").strAlways("ExportTaskIdentifier", t.ID).strAlways("SourceArn", t.SourceARN).
			tm("TaskStartTime", t.StartTime).strAlways("S3Bucket", t.Bucket).str("S3Prefix", t.Prefix).
			str("KmsKeyId", c.a.keyRefARN(c.reg.owner, c.region, t.KMSKey != "", t.KMSKey)).
			strAlways("Status", orDefault(t.Status, "COMPLETE")).num("PercentProgress", 100).
			strAlways("SourceType", orDefault(t.SourceType, "SNAPSHOT")).end("ExportTask")
	}
	x.end("ExportTasks")
	if end < len(sel) {
		x.str("Marker", pageToken(c.action, end))
	}
	c.queryEnd(x)
}

// rdsDescribeDBInstances lists the caller's DB instances in the region (RDS, DocumentDB and
// Neptune instances alike), MaxRecords 20..100 with a Marker; DBInstanceIdentifier names one.
func rdsDescribeDBInstances(c *call) {
	list := c.reg.r.DBInstances
	rdsDescribeSources(c, len(list), "DBInstanceIdentifier", "DBInstance", "DBInstanceNotFound",
		func(i int) (string, string, string) {
			return list[i].ID, orDefault(list[i].Engine, "mysql"), list[i].ClusterID
		},
		func(x *xw, i int) {
			d := &list[i]
			eng := orDefault(d.Engine, "mysql")
			storage := int64(d.Storage)
			if storage == 0 {
				storage = 20
			}
			x.open("DBInstance")
			x.strAlways("DBInstanceIdentifier", d.ID).strAlways("DBInstanceClass", orDefault(d.Class, "db.t3.micro"))
			x.strAlways("Engine", eng).strAlways("DBInstanceStatus", orDefault(d.Status, "available"))
			x.raw("MasterUsername", "admin")
			x.open("Endpoint").strAlways("Address", d.ID+".c"+shortHash(c.reg.owner+c.region, 12)+"."+c.region+".rds.amazonaws.com").
				num("Port", enginePort(eng)).end("Endpoint")
			x.num("AllocatedStorage", storage).tm("InstanceCreateTime", time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC))
			x.strAlways("AvailabilityZone", c.az()).strAlways("EngineVersion", engineVersion(eng))
			x.raw("PubliclyAccessible", "false").str("DBClusterIdentifier", d.ClusterID)
			x.strAlways("DbiResourceId", "db-"+strings.ToUpper(shortHash(d.ID, 26)))
			x.strAlways("DBInstanceArn", rdsArn(c.region, c.reg.owner, "db", d.ID))
			x.end("DBInstance")
		})
}

// rdsDescribeDBClusters lists the caller's Aurora, DocumentDB and Neptune clusters in the region.
func rdsDescribeDBClusters(c *call) {
	list := c.reg.r.DBClusters
	rdsDescribeSources(c, len(list), "DBClusterIdentifier", "DBCluster", "DBClusterNotFoundFault",
		func(i int) (string, string, string) {
			return list[i].ID, orDefault(list[i].Engine, "aurora-mysql"), list[i].ID
		},
		func(x *xw, i int) {
			d := &list[i]
			eng := orDefault(d.Engine, "aurora-mysql")
			x.open("DBCluster")
			x.strAlways("DBClusterIdentifier", d.ID).strAlways("Engine", eng).strAlways("Status", orDefault(d.Status, "available"))
			x.strAlways("EngineVersion", engineVersion(eng)).num("Port", enginePort(eng)).raw("MasterUsername", "admin")
			x.strAlways("Endpoint", d.ID+".cluster-c"+shortHash(c.reg.owner+c.region, 12)+"."+c.region+".rds.amazonaws.com")
			x.tm("ClusterCreateTime", time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC))
			x.strAlways("DbClusterResourceId", "cluster-"+strings.ToUpper(shortHash(d.ID, 26)))
			x.strAlways("DBClusterArn", rdsArn(c.region, c.reg.owner, "cluster", d.ID))
			x.end("DBCluster")
		})
}

// rdsDescribeSources pages a region's instances or clusters: the identifier parameter picks one
// (or fails with notFound), filters by id, cluster and engine, MaxRecords and Marker.
func rdsDescribeSources(c *call, n int, idParam, elem, notFound string, key func(i int) (id, engine, cluster string), write func(x *xw, i int)) {
	id := c.form.Get(idParam)
	if strings.HasPrefix(id, "arn:") {
		id = id[strings.LastIndex(id, ":")+1:]
	}
	filters := qFilters(c.form, "Filters", "Values")
	for _, fl := range filters {
		switch fl.name {
		case "db-instance-id", "db-cluster-id", "engine":
		default:
			c.fail(http.StatusBadRequest, "InvalidParameterValue", "Unrecognized filter name: "+fl.name)
			return
		}
	}
	limit, ok := c.maxRecords()
	if !ok {
		return
	}
	start, ok := c.marker()
	if !ok {
		return
	}
	var sel []int
	for i := range n {
		did, eng, cluster := key(i)
		if id != "" && !strings.EqualFold(id, did) {
			continue
		}
		keep := true
		for _, fl := range filters {
			v := did
			switch {
			case fl.name == "engine":
				v = eng
			case fl.name == "db-cluster-id":
				v = cluster
			case elem == "DBCluster" && fl.name == "db-instance-id":
				continue
			}
			keep = keep && slices.Contains(fl.values, v)
		}
		if keep {
			sel = append(sel, i)
		}
	}
	if id != "" && len(sel) == 0 {
		c.fail(http.StatusNotFound, notFound, elem+" "+id+" not found.")
		return
	}
	start = min(start, len(sel))
	end := min(len(sel), start+limit)
	x := c.queryBegin()
	x.open(elem + "s")
	for _, i := range sel[start:end] {
		write(x, i)
	}
	x.end(elem + "s")
	if end < len(sel) {
		x.str("Marker", pageToken(c.action, end))
	}
	c.queryEnd(x)
}
