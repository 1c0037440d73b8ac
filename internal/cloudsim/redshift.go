package cloudsim

import (
	"net/http"
	"slices"
	"strings"
	"time"
)

// Redshift (awsQuery, 2012-12-01): cluster snapshots with the accounts allowed to restore them,
// and the two calls that change that list.
func init() {
	register(&service{
		name: "redshift", proto: protoQuery, xmlns: xmlnsRedshift,
		actions: map[string]handler{
			"DescribeClusterSnapshots": redshiftDescribeClusterSnapshots,
			"DescribeClusters":         redshiftDescribeClusters,
			"AuthorizeSnapshotAccess":  redshiftAuthorize,
			"RevokeSnapshotAccess":     redshiftRevoke,
		},
		mutating:  set("AuthorizeSnapshotAccess", "RevokeSnapshotAccess"),
		throttle:  errSpec{http.StatusBadRequest, "Throttling"},
		internal:  errSpec{http.StatusInternalServerError, "InternalFailure"},
		denied:    errSpec{http.StatusForbidden, "AccessDenied"},
		authFail:  errSpec{http.StatusForbidden, "InvalidClientTokenId"},
		notFoundA: "InvalidAction",
	})
}

func redshiftArn(region, owner string, s *RedshiftSnapshot) string {
	return "arn:aws:redshift:" + region + ":" + owner + ":snapshot:" + s.ClusterID + "/" + s.ID
}

func redshiftDescribeClusterSnapshots(c *call) {
	f := c.form
	cluster, id, arn := f.Get("ClusterIdentifier"), f.Get("SnapshotIdentifier"), f.Get("SnapshotArn")
	typ, ownerAcct := f.Get("SnapshotType"), f.Get("OwnerAccount")
	tagKeys, tagValues := qList(f, "TagKeys"), qList(f, "TagValues")
	limit, ok := c.maxRecords()
	if !ok {
		return
	}
	start, ok := c.marker()
	if !ok {
		return
	}
	me := c.p.account
	x := c.queryBegin()
	x.open("Snapshots")
	n, pos, next := 0, 0, -1
	found := false
scan:
	for _, acct := range c.a.order {
		reg := acct.regions[c.region]
		if reg == nil {
			continue
		}
		list := reg.r.RedshiftSnapshots
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
			if acct.id != me && !slices.Contains(s.RestoreAccess, me) {
				continue
			}
			if (cluster != "" && s.ClusterID != cluster) || (id != "" && s.ID != id) || (arn != "" && redshiftArn(c.region, acct.id, s) != arn) ||
				(typ != "" && orDefault(s.Type, "manual") != typ) || (ownerAcct != "" && acct.id != ownerAcct) {
				continue
			}
			if len(tagKeys) > 0 || len(tagValues) > 0 {
				hit := false
				for _, t := range s.Tags {
					if (len(tagKeys) == 0 || slices.Contains(tagKeys, t.Key)) && (len(tagValues) == 0 || slices.Contains(tagValues, t.Value)) {
						hit = true
					}
				}
				if !hit {
					continue
				}
			}
			if n == limit {
				next = p
				break scan
			}
			found = true
			c.writeRedshiftSnapshot(x, acct.id, s)
			n++
		}
		pos += len(list)
	}
	x.end("Snapshots")
	if (id != "" || arn != "") && !found {
		x.release()
		c.fail(http.StatusNotFound, "ClusterSnapshotNotFound", "Snapshot "+id+arn+" not found.")
		return
	}
	if next >= 0 {
		x.str("Marker", pageToken(c.action, next))
	}
	c.queryEnd(x)
}

func (c *call) writeRedshiftSnapshot(x *xw, owner string, s *RedshiftSnapshot) {
	created := s.Created
	if created.IsZero() {
		created = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	nodes := int64(s.Nodes)
	if nodes == 0 {
		nodes = 2
	}
	x.open("Snapshot")
	x.strAlways("SnapshotIdentifier", s.ID).strAlways("ClusterIdentifier", s.ClusterID).tm("SnapshotCreateTime", created)
	x.strAlways("Status", orDefault(s.Status, "available")).num("Port", 5439).strAlways("AvailabilityZone", c.az())
	x.tm("ClusterCreateTime", created.Add(-24*time.Hour)).raw("MasterUsername", "awsuser").raw("ClusterVersion", "1.0")
	x.strAlways("SnapshotType", orDefault(s.Type, "manual")).strAlways("NodeType", orDefault(s.NodeType, "ra3.xlplus"))
	x.num("NumberOfNodes", nodes).strAlways("DBName", orDefault(s.DBName, "dev")).strAlways("VpcId", "vpc-"+shortHash(owner+c.region, 17))
	x.boolean("Encrypted", s.Encrypted)
	x.str("KmsKeyId", c.a.keyRefARN(owner, c.region, s.Encrypted && s.KMSKey != "", s.KMSKey))
	x.raw("EncryptedWithHSM", "false")
	// Only the owner sees who else may restore.
	if owner == c.p.account && len(s.RestoreAccess) > 0 {
		x.open("AccountsWithRestoreAccess")
		for _, a := range s.RestoreAccess {
			x.open("AccountWithRestoreAccess").strAlways("AccountId", a).end("AccountWithRestoreAccess")
		}
		x.end("AccountsWithRestoreAccess")
	}
	x.strAlways("OwnerAccount", owner)
	x.str("SourceRegion", s.SourceRegion)
	x.raw("TotalBackupSizeInMegaBytes", "1024.0")
	x.strAlways("SnapshotArn", redshiftArn(c.region, owner, s))
	x.open("Tags")
	for _, t := range s.Tags {
		x.open("Tag").strAlways("Key", t.Key).strAlways("Value", t.Value).end("Tag")
	}
	x.end("Tags")
	x.end("Snapshot")
}

// ownRedshift finds the caller's snapshot named by SnapshotIdentifier or SnapshotArn.
func (c *call) ownRedshift() *RedshiftSnapshot {
	id, arn, cluster := c.form.Get("SnapshotIdentifier"), c.form.Get("SnapshotArn"), c.form.Get("SnapshotClusterIdentifier")
	for i := range c.reg.r.RedshiftSnapshots {
		s := &c.reg.r.RedshiftSnapshots[i]
		if (id != "" && s.ID == id && (cluster == "" || cluster == s.ClusterID)) || (arn != "" && redshiftArn(c.region, c.reg.owner, s) == arn) {
			return s
		}
	}
	c.fail(http.StatusNotFound, "ClusterSnapshotNotFound", "Snapshot "+id+arn+" not found.")
	return nil
}

func redshiftAuthorize(c *call) {
	s := c.ownRedshift()
	if s == nil {
		return
	}
	acct := c.form.Get("AccountWithRestoreAccess")
	if !isAccountID(acct) {
		c.fail(http.StatusBadRequest, "InvalidParameterValue", "Invalid account id: "+acct)
		return
	}
	if slices.Contains(s.RestoreAccess, acct) {
		c.fail(http.StatusBadRequest, "AuthorizationAlreadyExists", "The authorization already exists for this snapshot.")
		return
	}
	s.RestoreAccess = append(slices.Clone(s.RestoreAccess), acct) // generated estates share these slices
	x := c.queryBegin()
	c.writeRedshiftSnapshot(x, c.reg.owner, s)
	c.queryEnd(x)
}

func redshiftRevoke(c *call) {
	s := c.ownRedshift()
	if s == nil {
		return
	}
	acct := c.form.Get("AccountWithRestoreAccess")
	if !slices.Contains(s.RestoreAccess, acct) {
		c.fail(http.StatusNotFound, "AuthorizationNotFound", "The specified account does not have access to this snapshot.")
		return
	}
	s.RestoreAccess = slices.DeleteFunc(slices.Clone(s.RestoreAccess), func(a string) bool { return a == acct })
	x := c.queryBegin()
	c.writeRedshiftSnapshot(x, c.reg.owner, s)
	c.queryEnd(x)
}

// redshiftDescribeClusters lists the caller's provisioned clusters in the region, MaxRecords
// 20..100 with a Marker; ClusterIdentifier names one (ClusterNotFound when absent).
func redshiftDescribeClusters(c *call) {
	id := c.form.Get("ClusterIdentifier")
	limit, ok := c.maxRecords()
	if !ok {
		return
	}
	start, ok := c.marker()
	if !ok {
		return
	}
	list := c.reg.r.RedshiftClusters
	var sel []int
	for i := range list {
		if id == "" || strings.EqualFold(id, list[i].ID) {
			sel = append(sel, i)
		}
	}
	if id != "" && len(sel) == 0 {
		c.fail(http.StatusNotFound, "ClusterNotFound", "Cluster "+id+" not found.")
		return
	}
	start = min(start, len(sel))
	end := min(len(sel), start+limit)
	x := c.queryBegin()
	x.open("Clusters")
	for _, i := range sel[start:end] {
		cl := &list[i]
		nodes := int64(cl.Nodes)
		if nodes == 0 {
			nodes = 2
		}
		x.open("Cluster")
		x.strAlways("ClusterIdentifier", cl.ID).strAlways("NodeType", orDefault(cl.NodeType, "ra3.xlplus"))
		x.strAlways("ClusterStatus", orDefault(cl.Status, "available")).raw("MasterUsername", "awsuser").raw("DBName", "dev")
		x.open("Endpoint").strAlways("Address", cl.ID+".c"+shortHash(c.reg.owner+c.region, 12)+"."+c.region+".redshift.amazonaws.com").
			num("Port", 5439).end("Endpoint")
		x.tm("ClusterCreateTime", time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)).strAlways("AvailabilityZone", c.az())
		x.num("NumberOfNodes", nodes).raw("PubliclyAccessible", "false").raw("Encrypted", "false")
		x.strAlways("ClusterNamespaceArn", "arn:aws:redshift:"+c.region+":"+c.reg.owner+":namespace:"+shortHash(cl.ID, 36))
		x.end("Cluster")
	}
	x.end("Clusters")
	if end < len(sel) {
		x.str("Marker", pageToken(c.action, end))
	}
	c.queryEnd(x)
}
