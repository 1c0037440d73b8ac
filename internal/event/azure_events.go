package event

import (
	"strings"
)

// azNormalize sets Grants and Facts for the operations that share, export or guard disks,
// snapshots and images. Operation names are compared case-insensitively.
func azNormalize(ev *Event, rec *azRecord) {
	op := strings.ToLower(ev.Action)
	body := azRequestBody(rec)
	switch {
	case strings.HasSuffix(op, "/begingetaccess/action"):
		// A SAS URL: anyone holding it can download the disk or snapshot. The URL itself is not
		// logged; the request says the access level and how long.
		access := firstNonEmpty(gets(body, "access"), "Read")
		addGrant(ev, Grant{Op: "add", Kind: GrantPublic, Value: "sas", Role: access})
		setFact(ev, "access", access)
		setFact(ev, "sas_duration_seconds", gets(body, "durationInSeconds"))
		setFact(ev, "file_format", gets(body, "fileFormat"))
		setFact(ev, "export_destination", "sas")
	case strings.HasSuffix(op, "/endgetaccess/action"):
		addGrant(ev, Grant{Op: "remove", Kind: GrantPublic, Value: "sas"})
	case op == "microsoft.compute/snapshots/write" || op == "microsoft.compute/disks/write":
		azDiskWrite(ev, body)
	case op == "microsoft.compute/galleries/share/action":
		azGalleryShare(ev, body)
	case op == "microsoft.compute/galleries/write":
		azGalleryWrite(ev, body)
	case strings.HasPrefix(op, "microsoft.compute/galleries/images/versions/"):
		props := get(body, "properties")
		var regions []string
		for _, r := range list(get(props, "publishingProfile", "targetRegions")) {
			regions = append(regions, gets(r, "name"))
		}
		setFact(ev, "target_regions", strings.Join(regions, ","))
		setFact(ev, "source", firstNonEmpty(gets(props, "storageProfile", "source", "id"),
			gets(props, "storageProfile", "osDiskImage", "source", "id")))
	case op == "microsoft.compute/images/write":
		props := get(body, "properties")
		setFact(ev, "source", firstNonEmpty(gets(props, "sourceVirtualMachine", "id"),
			gets(props, "storageProfile", "osDisk", "snapshot", "id"),
			gets(props, "storageProfile", "osDisk", "managedDisk", "id")))
	case strings.HasPrefix(op, "microsoft.authorization/roleassignments/"):
		azRoleAssignment(ev, rec, body, strings.HasSuffix(op, "/delete"))
	case strings.HasPrefix(op, "microsoft.insights/diagnosticsettings/"), strings.HasPrefix(op, "microsoft.insights/logprofiles/"):
		setFact(ev, "logging_change", lastSegment(op, '/'))
	}
}

// azDiskWrite reads the network exposure a disk or snapshot write sets. networkAccessPolicy
// AllowAll lets a SAS be used from anywhere; publicNetworkAccess Disabled forbids export over
// the public network whatever the policy. Explicit closing settings are revocations.
func azDiskWrite(ev *Event, body map[string]any) {
	props := get(body, "properties")
	nap := gets(props, "networkAccessPolicy")
	pna := gets(props, "publicNetworkAccess")
	setFact(ev, "network_access_policy", nap)
	setFact(ev, "public_network_access", pna)
	setFact(ev, "data_access_auth_mode", gets(props, "dataAccessAuthMode"))
	setFact(ev, "disk_access_id", gets(props, "diskAccessId"))
	setFact(ev, "create_option", gets(props, "creationData", "createOption"))
	setFact(ev, "copy_of", firstNonEmpty(gets(props, "creationData", "sourceResourceId"), gets(props, "creationData", "sourceUri")))
	setFact(ev, "incremental", gets(props, "incremental"))
	open := strings.EqualFold(nap, "AllowAll") && !strings.EqualFold(pna, "Disabled") ||
		strings.EqualFold(pna, "Enabled") && !strings.EqualFold(nap, "DenyAll") && !strings.EqualFold(nap, "AllowPrivate")
	closed := strings.EqualFold(nap, "DenyAll") || strings.EqualFold(nap, "AllowPrivate") || strings.EqualFold(pna, "Disabled")
	switch {
	case open:
		addGrant(ev, Grant{Op: "add", Kind: GrantPublic, Value: "network"})
	case closed:
		addGrant(ev, Grant{Op: "remove", Kind: GrantPublic, Value: "network"})
	}
}

// azGalleryShare reads a gallery sharing update: operationType Add/Remove/Reset/
// EnableCommunity with groups of Subscriptions and AADTenants.
func azGalleryShare(ev *Event, body map[string]any) {
	opType := strings.ToLower(gets(body, "operationType"))
	setFact(ev, "sharing_operation", gets(body, "operationType"))
	switch opType {
	case "enablecommunity":
		addGrant(ev, Grant{Op: "add", Kind: GrantPublic, Value: "community"})
		return
	case "reset":
		// Back to private: every subscription, tenant and community share goes.
		addGrant(ev, Grant{Op: "remove", Kind: GrantSubscription, Value: "*"})
		addGrant(ev, Grant{Op: "remove", Kind: GrantTenant, Value: "*"})
		addGrant(ev, Grant{Op: "remove", Kind: GrantPublic, Value: "community"})
		return
	}
	op := "add"
	if opType == "remove" {
		op = "remove"
	}
	for _, g := range list(get(body, "groups")) {
		kind := GrantSubscription
		if t := strings.ToLower(gets(g, "type")); strings.Contains(t, "tenant") {
			kind = GrantTenant
		}
		for _, id := range list(get(g, "ids")) {
			addGrant(ev, Grant{Op: op, Kind: kind, Value: strings.ToLower(str(id))})
		}
	}
}

func azGalleryWrite(ev *Event, body map[string]any) {
	sp := get(body, "properties", "sharingProfile")
	perm := gets(sp, "permissions")
	setFact(ev, "sharing_permissions", perm)
	setFact(ev, "community_public_name_prefix", gets(sp, "communityGalleryInfo", "publicNamePrefix"))
	if strings.EqualFold(perm, "Community") {
		addGrant(ev, Grant{Op: "add", Kind: GrantPublic, Value: "community"})
	}
}

// azRoleAssignment: a role given on (or taken from) a disk, snapshot or gallery shares it
// through RBAC. The principal is in the request body on write and in the response on delete.
func azRoleAssignment(ev *Event, rec *azRecord, body map[string]any, del bool) {
	props := get(body, "properties")
	if del && props == nil {
		props = get(azResponseBody(rec), "properties")
	}
	principal := gets(props, "principalId")
	role := lastSegment(gets(props, "roleDefinitionId"), '/')
	setFact(ev, "principal_type", gets(props, "principalType"))
	setFact(ev, "role_definition_id", gets(props, "roleDefinitionId"))
	setFact(ev, "role_assignment_id", rec.ResourceID)
	op := "add"
	if del {
		op = "remove"
	}
	addGrant(ev, Grant{Op: op, Kind: GrantPrincipal, Value: strings.ToLower(principal), Role: role})
}
