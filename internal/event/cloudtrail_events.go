package event

import (
	"sort"
	"strings"
)

// ctHandlers lists every CloudTrail event name that can matter to image/snapshot leak
// detection; its keys are the pre-filter. Other events are yielded partial.
var ctHandlers = map[string]ctHandler{
	// Sharing (leak) and revocation.
	"ModifySnapshotAttribute":          ctModifySnapshotAttribute,
	"ResetSnapshotAttribute":           ctResetAttribute("ebs-snapshot", "snapshotId"),
	"ModifyImageAttribute":             ctModifyImageAttribute,
	"ResetImageAttribute":              ctResetAttribute("ami", "imageId"),
	"ModifyDBSnapshotAttribute":        ctModifyDBSnapshotAttribute("rds-snapshot", "dBSnapshotIdentifier"),
	"ModifyDBClusterSnapshotAttribute": ctModifyDBSnapshotAttribute("rds-cluster-snapshot", "dBClusterSnapshotIdentifier"),
	"AuthorizeSnapshotAccess":          ctRedshiftSnapshotAccess("add"),
	"RevokeSnapshotAccess":             ctRedshiftSnapshotAccess("remove"),
	// Exports of bytes.
	"ExportImage":              ctExportImage,
	"CreateStoreImageTask":     ctCreateStoreImageTask,
	"CreateInstanceExportTask": ctCreateInstanceExportTask,
	"StartExportTask":          ctRDSStartExportTask,
	// Copies and creations (precursors).
	"CopySnapshot":                         ctCopy("ebs-snapshot", "sourceSnapshotId", "snapshotId"),
	"CopyImage":                            ctCopy("ami", "sourceImageId", "imageId"),
	"CopyDBSnapshot":                       ctCopyDB("rds-snapshot", "sourceDBSnapshotIdentifier", "targetDBSnapshotIdentifier"),
	"CopyDBClusterSnapshot":                ctCopyDB("rds-cluster-snapshot", "sourceDBClusterSnapshotIdentifier", "targetDBClusterSnapshotIdentifier"),
	"CreateSnapshot":                       ctCreateSnapshot,
	"CreateSnapshots":                      ctSimple("ebs-snapshot", ""),
	"CreateImage":                          ctCreated("ami", "imageId"),
	"RegisterImage":                        ctCreated("ami", "imageId"),
	"CreateDBSnapshot":                     ctSimple("rds-snapshot", "dBSnapshotIdentifier"),
	"CreateDBClusterSnapshot":              ctSimple("rds-cluster-snapshot", "dBClusterSnapshotIdentifier"),
	"RestoreDBInstanceFromDBSnapshot":      ctRestoreDB,
	"RestoreDBClusterFromSnapshot":         ctRestoreDB,
	"SharedSnapshotCopyInitiated":          ctSharedSnapshot,
	"SharedSnapshotVolumeCreated":          ctSharedSnapshot,
	"EnableSnapshotBlockPublicAccess":      ctGuard("snapshot-block-public-access", "state"),
	"DisableSnapshotBlockPublicAccess":     ctGuardState("snapshot-block-public-access", "unblocked"),
	"EnableImageBlockPublicAccess":         ctGuard("image-block-public-access", "imageBlockPublicAccessState"),
	"DisableImageBlockPublicAccess":        ctGuardState("image-block-public-access", "unblocked"),
	"EnableEbsEncryptionByDefault":         ctGuardState("ebs-encryption-by-default", "enabled"),
	"DisableEbsEncryptionByDefault":        ctGuardState("ebs-encryption-by-default", "disabled"),
	"ModifyEbsDefaultKmsKeyId":             ctDefaultKMSKey,
	"ResetEbsDefaultKmsKeyId":              ctDefaultKMSKey,
	"CreateGrant":                          ctKMSCreateGrant,
	"PutKeyPolicy":                         ctKMSPutKeyPolicy,
	"GetSnapshotBlock":                     ctEBSDirect,
	"ListSnapshotBlocks":                   ctEBSDirect,
	"ListChangedBlocks":                    ctEBSDirect,
	"PutSnapshotBlock":                     ctEBSDirect,
	"StartSnapshot":                        ctEBSDirect,
	"CompleteSnapshot":                     ctEBSDirect,
	"DeleteSnapshot":                       ctSimple("ebs-snapshot", "snapshotId"),
	"DeregisterImage":                      ctDeregisterImage,
	"DeleteDBSnapshot":                     ctSimple("rds-snapshot", "dBSnapshotIdentifier"),
	"DeleteDBClusterSnapshot":              ctSimple("rds-cluster-snapshot", "dBClusterSnapshotIdentifier"),
	"StopLogging":                          ctTrail,
	"DeleteTrail":                          ctTrail,
	"UpdateTrail":                          ctTrail,
	"PutEventSelectors":                    ctTrail,
	"DescribeSnapshotAttribute":            ctSimple("ebs-snapshot", "snapshotId"),
	"DescribeImageAttribute":               ctSimple("ami", "imageId"),
	"DescribeDBSnapshotAttributes":         ctSimple("rds-snapshot", "dBSnapshotIdentifier"),
	"DescribeDBClusterSnapshotAttributes":  ctSimple("rds-cluster-snapshot", "dBClusterSnapshotIdentifier"),
	"GetSnapshotBlockPublicAccessState":    ctSimple("account-guard", ""),
	"GetImageBlockPublicAccessState":       ctSimple("account-guard", ""),
	"GetEbsEncryptionByDefault":            ctSimple("account-guard", ""),
	"CancelExportTask":                     ctSimple("export-task", "exportTaskId"),
	"EnableImageDeregistrationProtection":  ctSimple("ami", "imageId"),
	"DisableImageDeregistrationProtection": ctSimple("ami", "imageId"),
}

// ctSimple sets the resource from one request member.
func ctSimple(typ, idKey string) ctHandler {
	return func(ev *Event, req, resp any, _ *ctRecord) {
		ev.Resource.Type = typ
		if idKey != "" {
			ev.Resource.ID = gets(req, idKey)
		}
	}
}

// ctCreated sets the resource from the response (the new resource's id).
func ctCreated(typ, idKey string) ctHandler {
	return func(ev *Event, req, resp any, _ *ctRecord) {
		ev.Resource.Type = typ
		ev.Resource.ID = gets(resp, idKey)
		setFact(ev, "name", gets(req, "name"))
	}
}

// permissionItems collects the grants of one add/remove list in any of the forms
// CloudTrail writes: {"items":[{"userId"|"group"|"groups"|"organizationArn"|
// "organizationalUnitArn": ...}]}, a bare list, or a single item.
func permissionItems(ev *Event, op string, v any) {
	items := get(v, "items")
	if items == nil {
		items = v
	}
	for _, it := range list(items) {
		m, ok := it.(map[string]any)
		if !ok {
			continue
		}
		for k, val := range m {
			for _, x := range list(val) {
				s := str(x)
				switch strings.ToLower(k) {
				case "userid":
					addGrant(ev, Grant{Op: op, Kind: GrantAccount, Value: s})
				case "group", "groups", "groupname", "usergroup":
					if strings.EqualFold(s, "all") {
						addGrant(ev, Grant{Op: op, Kind: GrantPublic, Value: "all"})
					} else {
						addGrant(ev, Grant{Op: op, Kind: GrantPublic, Value: s})
					}
				case "organizationarn":
					addGrant(ev, Grant{Op: op, Kind: GrantOrg, Value: s})
				case "organizationalunitarn":
					addGrant(ev, Grant{Op: op, Kind: GrantOU, Value: s})
				}
			}
		}
	}
}

// legacyPermission reads the older request form: operationType plus userId / userGroup lists,
// either as lists, as {"items":[...]}, or flattened Query keys (UserId.1, UserGroup.1...).
func legacyPermission(ev *Event, req any) {
	m, ok := req.(map[string]any)
	if !ok {
		return
	}
	op := strings.ToLower(gets(req, "operationType"))
	if op != "add" && op != "remove" {
		return
	}
	for k, v := range m {
		base := strings.ToLower(k)
		if i := strings.IndexByte(base, '.'); i >= 0 {
			base = base[:i]
		}
		var kind string
		switch base {
		case "userid", "userids":
			kind = GrantAccount
		case "usergroup", "usergroups", "group", "groups", "groupname", "groupnames":
			kind = GrantPublic
		default:
			continue
		}
		vals := list(v)
		if items := get(v, "items"); items != nil {
			vals = list(items)
		}
		for _, x := range vals {
			s := str(x)
			if xm, ok := x.(map[string]any); ok {
				for _, inner := range xm {
					s = str(inner)
				}
			}
			if kind == GrantPublic && strings.EqualFold(s, "all") {
				s = "all"
			}
			addGrant(ev, Grant{Op: op, Kind: kind, Value: s})
		}
	}
}

func ctModifySnapshotAttribute(ev *Event, req, resp any, _ *ctRecord) {
	ev.Resource.Type = "ebs-snapshot"
	ev.Resource.ID = gets(req, "snapshotId")
	// Real logs write CREATE_VOLUME_PERMISSION; the API docs say createVolumePermission.
	setFact(ev, "attribute_type", gets(req, "attributeType"))
	if cvp := get(req, "createVolumePermission"); cvp != nil {
		permissionItems(ev, "add", get(cvp, "add"))
		permissionItems(ev, "remove", get(cvp, "remove"))
	}
	legacyPermission(ev, req)
	sortGrants(ev)
}

func ctModifyImageAttribute(ev *Event, req, resp any, rec *ctRecord) {
	ev.Resource.Type = "ami"
	ev.Resource.ID = gets(req, "imageId")
	setFact(ev, "attribute_type", gets(req, "attributeType"))
	if lp := get(req, "launchPermission"); lp != nil {
		permissionItems(ev, "add", get(lp, "add"))
		permissionItems(ev, "remove", get(lp, "remove"))
	}
	legacyPermission(ev, req)
	for _, k := range []string{"organizationArn", "organizationalUnitArn"} {
		// The flattened form: OrganizationArn.N with operationType.
		if v := get(req, k); v != nil {
			op := strings.ToLower(gets(req, "operationType"))
			kind := GrantOrg
			if k == "organizationalUnitArn" {
				kind = GrantOU
			}
			if op == "add" || op == "remove" {
				for _, x := range list(get(v, "items")) {
					addGrant(ev, Grant{Op: op, Kind: kind, Value: gets(x, k)})
				}
			}
		}
	}
	sortGrants(ev)
}

// ctResetAttribute: resetting createVolumePermission / launchPermission makes the resource
// private again, a revocation of every grant.
func ctResetAttribute(typ, idKey string) ctHandler {
	return func(ev *Event, req, resp any, _ *ctRecord) {
		ev.Resource.Type = typ
		ev.Resource.ID = gets(req, idKey)
		attr := gets(req, "attribute")
		if attr == "" {
			attr = gets(req, "attributeType")
		}
		setFact(ev, "attribute_type", attr)
		setFact(ev, "reset", "true")
	}
}

func ctModifyDBSnapshotAttribute(typ, idKey string) ctHandler {
	return func(ev *Event, req, resp any, _ *ctRecord) {
		ev.Resource.Type = typ
		ev.Resource.ID = gets(req, idKey)
		attr := gets(req, "attributeName")
		setFact(ev, "attribute_type", attr)
		if strings.EqualFold(attr, "restore") || attr == "" {
			for op, key := range map[string]string{"add": "valuesToAdd", "remove": "valuesToRemove"} {
				for _, x := range list(get(req, key)) {
					s := str(x)
					if strings.EqualFold(s, "all") {
						addGrant(ev, Grant{Op: op, Kind: GrantPublic, Value: "all"})
					} else {
						addGrant(ev, Grant{Op: op, Kind: GrantAccount, Value: s})
					}
				}
			}
			sortGrants(ev)
		}
		// The response holds the resulting share list: useful state for the detector.
		if vals, ok := findRestoreValues(resp); ok {
			ev.Facts = ensure(ev.Facts)
			ev.Facts["resulting_share"] = strings.Join(vals, ",")
		}
	}
}

// findRestoreValues finds, anywhere in resp, the attributeValues of the "restore" attribute
// (dBSnapshotAttributes / dBClusterSnapshotAttributes, possibly under a *Result wrapper).
func findRestoreValues(v any) ([]string, bool) {
	switch x := v.(type) {
	case map[string]any:
		if strings.EqualFold(str(x["attributeName"]), "restore") {
			var out []string
			for _, a := range list(get(x, "attributeValues")) {
				if m, ok := a.(map[string]any); ok { // {"attributeValue": "..."} in some renderings
					for _, s := range m {
						out = append(out, str(s))
					}
					continue
				}
				out = append(out, str(a))
			}
			return out, true
		}
		for _, k := range sortedKeys(x) {
			if out, ok := findRestoreValues(x[k]); ok {
				return out, true
			}
		}
	case []any:
		for _, e := range x {
			if out, ok := findRestoreValues(e); ok {
				return out, true
			}
		}
	}
	return nil, false
}

func ctRedshiftSnapshotAccess(op string) ctHandler {
	return func(ev *Event, req, resp any, _ *ctRecord) {
		ev.Resource.Type = "redshift-snapshot"
		ev.Resource.ID = gets(req, "snapshotIdentifier")
		if arn := gets(req, "snapshotArn"); arn != "" {
			ev.Resource.ARN = arn
			if ev.Resource.ID == "" {
				ev.Resource.ID = lastSegment(arn, '/')
			}
		}
		setFact(ev, "cluster", gets(req, "snapshotClusterIdentifier"))
		acct := gets(req, "accountWithRestoreAccess")
		if strings.EqualFold(acct, "all") {
			addGrant(ev, Grant{Op: op, Kind: GrantPublic, Value: "all"})
		} else {
			addGrant(ev, Grant{Op: op, Kind: GrantAccount, Value: acct})
		}
	}
}

func s3URI(bucket, prefix string) string {
	if bucket == "" {
		return ""
	}
	return "s3://" + bucket + "/" + strings.TrimPrefix(prefix, "/")
}

func ctExportImage(ev *Event, req, resp any, _ *ctRecord) {
	ev.Resource.Type = "ami"
	ev.Resource.ID = gets(req, "imageId")
	loc := get(req, "s3ExportLocation")
	setFact(ev, "export_destination", s3URI(gets(loc, "s3Bucket"), gets(loc, "s3Prefix")))
	setFact(ev, "disk_image_format", gets(req, "diskImageFormat"))
	setFact(ev, "role_name", gets(req, "roleName"))
	setFact(ev, "export_task_id", gets(resp, "exportImageTaskId"))
}

func ctCreateStoreImageTask(ev *Event, req, resp any, _ *ctRecord) {
	ev.Resource.Type = "ami"
	ev.Resource.ID = gets(req, "imageId")
	setFact(ev, "export_destination", s3URI(gets(req, "bucket"), ""))
	setFact(ev, "export_object", gets(resp, "objectKey"))
}

func ctCreateInstanceExportTask(ev *Event, req, resp any, _ *ctRecord) {
	ev.Resource.Type = "ec2-instance"
	ev.Resource.ID = gets(req, "instanceId")
	s3 := get(req, "exportToS3")
	if s3 == nil {
		s3 = get(req, "exportToS3Task")
	}
	setFact(ev, "export_destination", s3URI(gets(s3, "s3Bucket"), gets(s3, "s3Prefix")))
	setFact(ev, "disk_image_format", gets(s3, "diskImageFormat"))
	setFact(ev, "target_environment", gets(req, "targetEnvironment"))
	setFact(ev, "export_task_id", gets(resp, "exportTask", "exportTaskId"))
}

func ctRDSStartExportTask(ev *Event, req, resp any, _ *ctRecord) {
	arn := gets(req, "sourceArn")
	ev.Resource.ARN = arn
	ev.Resource.ID = lastSegment(arn, ':')
	switch {
	case strings.Contains(arn, ":cluster-snapshot:"):
		ev.Resource.Type = "rds-cluster-snapshot"
	case strings.Contains(arn, ":snapshot:"):
		ev.Resource.Type = "rds-snapshot"
	case strings.Contains(arn, ":cluster:"):
		ev.Resource.Type = "rds-cluster"
	default:
		ev.Resource.Type = "rds-export-source"
	}
	setFact(ev, "export_destination", s3URI(gets(req, "s3BucketName"), gets(req, "s3Prefix")))
	setFact(ev, "export_task_id", gets(req, "exportTaskIdentifier"))
	setFact(ev, "kms_key_id", gets(req, "kmsKeyId"))
	setFact(ev, "iam_role_arn", gets(req, "iamRoleArn"))
}

// ctCopy: the new copy is the resource; its source and source region are facts. The
// destination region is the record's awsRegion.
func ctCopy(typ, srcKey, newKey string) ctHandler {
	return func(ev *Event, req, resp any, _ *ctRecord) {
		ev.Resource.Type = typ
		ev.Resource.ID = gets(resp, newKey)
		if ev.Resource.ID == "" {
			ev.Resource.ID = gets(req, srcKey)
		}
		setFact(ev, "copy_of", gets(req, srcKey))
		setFact(ev, "source_region", gets(req, "sourceRegion"))
		setFact(ev, "destination_region", ev.Region)
		setFact(ev, "encrypted", gets(req, "encrypted"))
		setFact(ev, "kms_key_id", gets(req, "kmsKeyId"))
	}
}

func ctCopyDB(typ, srcKey, dstKey string) ctHandler {
	return func(ev *Event, req, resp any, _ *ctRecord) {
		ev.Resource.Type = typ
		ev.Resource.ID = gets(req, dstKey)
		src := gets(req, srcKey)
		setFact(ev, "copy_of", src)
		if strings.HasPrefix(src, "arn:") {
			if parts := strings.Split(src, ":"); len(parts) > 4 {
				setFact(ev, "source_region", parts[3])
				setFact(ev, "source_account", parts[4])
			}
		}
		setFact(ev, "source_region", gets(req, "sourceRegion"))
		setFact(ev, "destination_region", ev.Region)
		setFact(ev, "kms_key_id", gets(req, "kmsKeyId"))
	}
}

func ctCreateSnapshot(ev *Event, req, resp any, _ *ctRecord) {
	ev.Resource.Type = "ebs-snapshot"
	ev.Resource.ID = gets(resp, "snapshotId")
	setFact(ev, "volume_id", gets(req, "volumeId"))
	setFact(ev, "encrypted", gets(resp, "encrypted"))
}

func ctRestoreDB(ev *Event, req, resp any, _ *ctRecord) {
	ev.Resource.Type = "rds-snapshot"
	ev.Resource.ID = gets(req, "dBSnapshotIdentifier")
	if ev.Resource.ID == "" {
		ev.Resource.Type = "rds-cluster-snapshot"
		ev.Resource.ID = gets(req, "snapshotIdentifier")
	}
	setFact(ev, "restored_to", gets(req, "dBInstanceIdentifier")+gets(req, "dBClusterIdentifier"))
	pub := gets(resp, "publiclyAccessible")
	if pub == "" {
		pub = gets(req, "publiclyAccessible")
	}
	setFact(ev, "publicly_accessible", pub)
}

// ctSharedSnapshot: an AWS service event about someone using a shared snapshot. Who used it is
// userIdentity.accountId; whose log this is, recipientAccountId. They are equal on the consumer
// side (benign noise from launching public AMIs), different on the owner side.
func ctSharedSnapshot(ev *Event, req, resp any, rec *ctRecord) {
	ev.Resource.Type = "ebs-snapshot"
	details := decodeAny(rec.ServiceEventDetails)
	ev.Resource.ID = gets(details, "snapshotId")
	setFact(ev, "consumer_account", rec.UserIdentity.AccountID)
	if rec.UserIdentity.AccountID != "" && rec.RecipientAccountID != "" {
		side := "owner"
		if rec.UserIdentity.AccountID == rec.RecipientAccountID {
			side = "consumer"
		}
		setFact(ev, "side", side)
	}
	// The snapshot belongs to the owner, not necessarily to the log's account.
	ev.Resource.Account = ""
	if ev.Facts["side"] == "owner" {
		ev.Resource.Account = rec.RecipientAccountID
	}
}

func ctGuard(id, stateKey string) ctHandler {
	return func(ev *Event, req, resp any, _ *ctRecord) {
		ev.Resource.Type = "account-guard"
		ev.Resource.ID = id
		state := gets(resp, stateKey)
		if state == "" {
			state = gets(req, stateKey)
		}
		setFact(ev, "state", state)
	}
}

func ctGuardState(id, state string) ctHandler {
	return func(ev *Event, req, resp any, _ *ctRecord) {
		ev.Resource.Type = "account-guard"
		ev.Resource.ID = id
		setFact(ev, "state", state)
		if v := gets(resp, "ebsEncryptionByDefault"); v != "" {
			setFact(ev, "ebs_encryption_by_default", v)
		}
	}
}

func ctDefaultKMSKey(ev *Event, req, resp any, _ *ctRecord) {
	ev.Resource.Type = "account-guard"
	ev.Resource.ID = "ebs-default-kms-key"
	key := gets(resp, "kmsKeyId")
	if key == "" {
		key = gets(req, "kmsKeyId")
	}
	setFact(ev, "kms_key_id", key)
}

// accountOf returns the account id in an ARN or a bare 12-digit id, else "".
func accountOf(p string) string {
	if strings.HasPrefix(p, "arn:") {
		if parts := strings.Split(p, ":"); len(parts) > 4 {
			return parts[4]
		}
		return ""
	}
	if len(p) == 12 {
		if _, ok := atoi(p); ok {
			return p
		}
	}
	return ""
}

// principalGrant turns an IAM principal into a grant: an account (from an ARN or an id), the
// public ("*"), or a service principal.
func principalGrant(op, p, role string) Grant {
	switch {
	case p == "*":
		return Grant{Op: op, Kind: GrantPublic, Value: "all", Role: role}
	case accountOf(p) != "":
		return Grant{Op: op, Kind: GrantAccount, Value: accountOf(p), Role: role}
	}
	return Grant{Op: op, Kind: GrantPrincipal, Value: p, Role: role}
}

func ctKMSCreateGrant(ev *Event, req, resp any, _ *ctRecord) {
	ev.Resource.Type = "kms-key"
	ev.Resource.ID = gets(req, "keyId")
	grantee := gets(req, "granteePrincipal")
	var ops []string
	for _, o := range list(get(req, "operations")) {
		ops = append(ops, str(o))
	}
	addGrant(ev, principalGrant("add", grantee, strings.Join(ops, ",")))
	setFact(ev, "grantee_principal", grantee)
	setFact(ev, "retiring_principal", gets(req, "retiringPrincipal"))
	setFact(ev, "grant_id", gets(resp, "grantId"))
}

// ctKMSPutKeyPolicy: the grants are those the new policy's Allow statements give (the whole
// resulting policy, not a difference).
func ctKMSPutKeyPolicy(ev *Event, req, resp any, _ *ctRecord) {
	ev.Resource.Type = "kms-key"
	ev.Resource.ID = gets(req, "keyId")
	setFact(ev, "policy_name", gets(req, "policyName"))
	setFact(ev, "grants_basis", "resulting-policy")
	pol := obj(get(req, "policy"))
	for _, st := range list(get(pol, "Statement")) {
		if !strings.EqualFold(gets(st, "Effect"), "Allow") {
			continue
		}
		var acts []string
		for _, a := range list(get(st, "Action")) {
			acts = append(acts, str(a))
		}
		role := strings.Join(acts, ",")
		p := get(st, "Principal")
		if s, ok := p.(string); ok {
			addGrant(ev, principalGrant("add", s, role))
			continue
		}
		for _, k := range []string{"AWS", "Service"} {
			for _, x := range list(get(p, k)) {
				addGrant(ev, principalGrant("add", str(x), role))
			}
		}
	}
}

// ctEBSDirect: EBS direct APIs (data events, but StartSnapshot/CompleteSnapshot are management).
func ctEBSDirect(ev *Event, req, resp any, _ *ctRecord) {
	ev.Resource.Type = "ebs-snapshot"
	ev.Resource.ID = gets(req, "snapshotId")
	if ev.Resource.ID == "" {
		ev.Resource.ID = gets(req, "secondSnapshotId")
		setFact(ev, "first_snapshot_id", gets(req, "firstSnapshotId"))
	}
	if ev.Resource.ID == "" {
		ev.Resource.ID = gets(resp, "snapshotId")
	}
	setFact(ev, "block_index", gets(req, "blockIndex"))
}

func ctDeregisterImage(ev *Event, req, resp any, _ *ctRecord) {
	ev.Resource.Type = "ami"
	ev.Resource.ID = gets(req, "imageId")
	setFact(ev, "delete_associated_snapshots", gets(req, "deleteAssociatedSnapshots"))
}

// ctTrail: logging tamper. The trail is named by name or ARN.
func ctTrail(ev *Event, req, resp any, _ *ctRecord) {
	ev.Resource.Type = "cloudtrail-trail"
	name := gets(req, "name")
	if name == "" {
		name = gets(req, "trailName")
	}
	ev.Resource.ID = name
	if strings.HasPrefix(name, "arn:") {
		ev.Resource.ARN = name
		ev.Resource.ID = lastSegment(name, '/')
	}
	setFact(ev, "is_logging", gets(req, "isLogging"))
	setFact(ev, "s3_bucket", gets(req, "s3BucketName"))
	if sel := get(req, "eventSelectors"); sel != nil {
		setFact(ev, "event_selectors", "basic")
	}
	if sel := get(req, "advancedEventSelectors"); sel != nil {
		setFact(ev, "event_selectors", "advanced")
	}
}

func ensure(m map[string]string) map[string]string {
	if m == nil {
		return make(map[string]string)
	}
	return m
}

func sortedKeys(m map[string]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// sortGrants orders grants (adds first, then by kind and value) so output is deterministic
// when they were collected from maps.
func sortGrants(ev *Event) {
	sort.SliceStable(ev.Grants, func(i, j int) bool {
		a, b := ev.Grants[i], ev.Grants[j]
		if a.Op != b.Op {
			return a.Op == "add"
		}
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		return a.Value < b.Value
	})
}
