package posture

import (
	"cmp"
	"slices"
	"strings"

	"github.com/snapwatch/snapwatch/internal/finding"
	"github.com/snapwatch/snapwatch/internal/inventory"
	"github.com/snapwatch/snapwatch/internal/trust"
)

// record runs every per-record check on one snapshot (snap) or image (img).
func (r *run) record(c *inventory.Common, s *subject, snap *inventory.Snapshot, img *inventory.Image) {
	if c.OwnedElsewhere() {
		return // an AMI or snapshot shared *to* us: not ours to report or fix
	}
	r.publics, r.externals = r.publics[:0], r.externals[:0]
	var network *inventory.Grant
	hasSAS := false
	for i := range c.Grants {
		g := &c.Grants[i]
		if g.Kind == inventory.GrantNetworkPublic {
			network = g
			continue
		}
		switch cl := g.Classify(r.b, owner(c)); {
		case cl.Everyone(): // all authenticated users are graded as the public: anyone can sign up
			r.publics = append(r.publics, *g)
			hasSAS = hasSAS || g.Kind == inventory.GrantSASLink
		case cl == trust.External:
			r.externals = append(r.externals, *g)
		}
	}
	if c.RecycleBin {
		// Deleted: nothing is usable now, so only the restore risk is reported.
		if len(r.publics)+len(r.externals) > 0 {
			r.recycleBin(c, s)
		}
		return
	}
	if len(r.publics) > 0 {
		if s.kind == inventory.KindEBSSnapshot {
			r.publicAttr[regionKey{c.Provider, c.Account, c.Region}]++
		}
		r.public(c, s, img, network != nil, hasSAS)
	} else if network != nil {
		r.networkExport(c, s, network)
	}
	for _, g := range r.externals {
		r.external(c, s, img, g)
	}
	r.hygiene(c, s, snap, img)
}

// public reports a record anyone can reach, or one held back only by snapshot BPA.
func (r *run) public(c *inventory.Common, s *subject, img *inventory.Image, network, sasOnly bool) {
	// The most readable public grant decides; ties go to the first by kind and value, so
	// that the wording does not depend on the order the cloud listed the grants in.
	best, reason, bestKey := inert, "", ""
	for _, g := range r.publics {
		a, why := keyAccess(c.Provider, &c.Encryption, g)
		if key := string(g.Kind) + ":" + g.Value; reason == "" || a < best || (a == best && key < bestKey) {
			best, reason, bestKey = a, why, key
		}
		sasOnly = sasOnly && g.Kind == inventory.GrantSASLink
	}
	ev := r.recordEvidence(c, s)
	ev["grantees"] = granteeList(r.publics)
	ev["key_access"] = best.String()
	bpa, managedBy := "", ""
	if s.kind == inventory.KindEBSSnapshot {
		bpa, managedBy = r.snapshotBPA(c)
		ev["snapshot_bpa"] = cmp.Or(bpa, "unknown")
		if managedBy != "" {
			ev["snapshot_bpa_managed_by"] = managedBy
		}
	}
	who := sharedText(r.publics, s)
	if bpa == inventory.BPABlockAllSharing {
		// The attribute is public but EBS refuses public access while BPA is block-all-sharing:
		// the snapshot turns public again the moment the setting is relaxed.
		f := familyOf(famLatent)
		desc := describe(c, s) + " is " + who + ", but snapshot Block Public Access in " + c.Region +
			" is block-all-sharing" + managedText(managedBy) + ", which hides it for now. Relaxing that setting makes it public at once. " +
			upper(reason) + "."
		r.emit(emission{info: checkInfo(f, s), res: resourceOf(c), sev: latentSeverity(best, managedBy), desc: desc,
			rem: r.privateSteps(c, s) + "\nKeep snapshot Block Public Access at block-all-sharing while you do.",
			ev:  ev, tags: c.Tags})
		return
	}
	sev := exposureSeverity(true, best)
	desc := describe(c, s) + " is " + who + ": " + reachText(r.publics) + ". " + upper(reason) + "."
	if sasOnly && !network {
		// A SAS link of a disk whose network access is private works only through its private endpoint.
		sev = min(sev, finding.High)
		desc += " Its network access is private, so the link works only through the disk's private endpoint."
	} else if network {
		desc += " Its network access policy allows export from any network."
	}
	if bpa != "" {
		desc += " Snapshot Block Public Access in " + c.Region + " is " + bpa + managedText(managedBy) + bpaText(bpa)
	} else if s.kind == inventory.KindEBSSnapshot {
		desc += " The region's snapshot Block Public Access state was not read."
	}
	idx := r.emit(emission{info: checkInfo(familyOf(famPublic), s), res: resourceOf(c), sev: sev, desc: desc,
		rem: r.privateSteps(c, s), ev: ev, tags: c.Tags})
	if img != nil {
		for _, g := range r.publics {
			r.viaImage(img, idx, g, true)
		}
	}
}

// external reports one grantee outside the trust boundary.
func (r *run) external(c *inventory.Common, s *subject, img *inventory.Image, g inventory.Grant) {
	a, reason := keyAccess(c.Provider, &c.Encryption, g)
	ev := r.recordEvidence(c, s)
	ev["grantee"] = g.Value
	ev["grantee_kind"] = string(g.Kind)
	if g.Via != "" {
		ev["via"] = g.Via
	}
	ev["key_access"] = a.String()
	desc := describe(c, s) + " is shared with " + granteeText(g) + " through its " + fieldText(s, g) +
		", which is outside the organisation" + r.boundaryText() + ". " + upper(reason) + "."
	rem := "Remove the grant: " + expand(s.remove, c, g) + "\nConsole: " + expand(s.console, c, g) +
		"\nIf the recipient is approved, add it to trusted_accounts (or trusted_orgs / trusted_members) in the config instead."
	if g.Via == inventory.ViaProjectPolicy {
		rem = "The grant is on the project, so it reaches every image and snapshot in it: gcloud projects remove-iam-policy-binding " +
			c.Account + " --member=" + g.Value + " --role=" + cmp.Or(g.Role, "<role>")
	}
	if a == inert {
		rem += "\nThe share is inert while the key stays unshared: do not share the key " + c.Encryption.KeyID + " with this grantee."
	}
	idx := r.emit(emission{info: checkInfo(familyOf(famExternal), s), res: resourceOf(c), sev: exposureSeverity(false, a),
		desc: desc, rem: rem, ev: ev, tags: c.Tags, fingerprint: []string{string(g.Kind), strings.ToLower(g.Value)}})
	if img != nil {
		r.viaImage(img, idx, g, false)
	}
}

// viaImage reports each snapshot behind an exposed image: whoever can launch the image can read
// them, whatever the snapshots' own permissions say.
func (r *run) viaImage(img *inventory.Image, imageFinding int, g inventory.Grant, public bool) {
	bs := subjectOf(&inventory.Common{Provider: img.Provider, Kind: backingKind(img.Provider)}, "")
	info := checkInfo(familyOf(famViaImage), bs)
	imgSubject := subjectOf(&img.Common, "")
	for _, b := range img.Backing {
		rec := r.backing(img, b.SnapshotID)
		res := finding.Resource{Provider: img.Provider, Account: owner(&img.Common), Region: img.Region,
			Type: string(bs.kind), ID: b.SnapshotID}
		enc := inventory.Encryption{Encrypted: b.Encrypted, KeyID: b.KeyID, KeyKind: img.Encryption.KeyKind,
			KeyGrantees: img.Encryption.KeyGrantees, GranteesKnown: img.Encryption.GranteesKnown}
		var tags []inventory.Tag
		if rec != nil {
			res, enc, tags = resourceOf(&rec.Common), rec.Encryption, rec.Tags
		}
		a, reason := keyAccess(img.Provider, &enc, g)
		ev := finding.Evidence{"image_id": img.ID, "grantee": g.Value, "grantee_kind": string(g.Kind),
			"key_access": a.String(), "encrypted": enc.Encrypted}
		if b.Device != "" {
			ev["device"] = b.Device
		}
		how := "shared with " + granteeText(g)
		if public {
			how = "public"
		}
		desc := bs.noun + " " + b.SnapshotID + " backs " + b.Device + " of AMI " + img.ID + ", which is " + how +
			": launching or copying the AMI restores this snapshot's data, whatever the snapshot's own permissions say. " + upper(reason) + "."
		rem := "Fix the AMI's sharing (see the related finding on " + img.ID + "): " + expand(cond(public, imgSubject.private, imgSubject.remove), &img.Common, g)
		suppressed := ""
		if imageFinding >= 0 && r.out.at(imageFinding).Status == finding.StatusSuppressed {
			suppressed = "image " + img.ID + " is suppressed"
		}
		idx := r.emit(emission{info: info, res: res, sev: exposureSeverity(public, a), desc: desc, rem: rem,
			fix: imgSubject.label + "-" + cond(public, "make-private", "remove-grantee"), ev: ev, tags: tags,
			suppressed: suppressed, fingerprint: []string{img.ID, string(g.Kind), strings.ToLower(g.Value)}})
		r.link(imageFinding, idx)
	}
}

func backingKind(provider string) inventory.Kind {
	if provider == inventory.AWS {
		return inventory.KindEBSSnapshot
	}
	return inventory.Kind(provider + "-snapshot")
}

// networkExport reports an Azure disk or snapshot that can be exported from any network once a
// SAS is issued: no link is live, so it is not public yet.
func (r *run) networkExport(c *inventory.Common, s *subject, g *inventory.Grant) {
	ev := r.recordEvidence(c, s)
	ev["network_access"] = g.Value
	desc := describe(c, s) + " allows export over the public network (networkAccessPolicy " + cmp.Or(g.Value, "AllowAll") +
		", publicNetworkAccess not Disabled): anyone who obtains a SAS link, from any principal allowed beginGetAccess, can download it from anywhere."
	rem := "Deny public export: " + expand(s.network, c, *g) + "\nOr attach a Disk Access resource and set AllowPrivate. Console: " + expand(s.console, c, *g)
	r.emit(emission{info: checkInfo(familyOf(famNetwork), s), res: resourceOf(c), sev: finding.Medium, desc: desc, rem: rem,
		ev: ev, tags: c.Tags})
}

// recycleBin reports a deleted record that was public or shared: a restore brings it back as it was.
func (r *run) recycleBin(c *inventory.Common, s *subject) {
	sev := finding.Info
	for _, g := range r.publics {
		a, _ := keyAccess(c.Provider, &c.Encryption, g)
		sev = max(sev, recycleSeverity(true, a))
	}
	for _, g := range r.externals {
		a, _ := keyAccess(c.Provider, &c.Encryption, g)
		sev = max(sev, recycleSeverity(false, a))
	}
	ev := r.recordEvidence(c, s)
	ev["grantees"] = granteeList(append(slices.Clip(r.publics), r.externals...))
	desc := describe(c, s) + " is in the Recycle Bin and was shared with " + strings.Join(ev["grantees"].([]string), ", ") +
		". It cannot be used while there, but restoring it brings its permissions back as they were."
	var rem string
	switch s.kind {
	case inventory.KindEBSSnapshot:
		rem = "A snapshot in the Recycle Bin cannot be modified. Let the retention rule delete it, or: set snapshot Block Public Access in " +
			c.Region + " to block-all-sharing, restore it (aws ec2 restore-snapshot-from-recycle-bin --region " + c.Region +
			" --snapshot-id " + c.ID + "), then at once: " + expand(s.private, c, inventory.Grant{}) + " (and remove each account with --user-ids)."
	case inventory.KindAMI:
		rem = "An AMI in the Recycle Bin cannot be modified. Let the retention rule delete it, or restore it (aws ec2 restore-image-from-recycle-bin --region " +
			c.Region + " --image-id " + c.ID + ") and at once: " + expand(s.private, c, inventory.Grant{}) +
			". AMI Block Public Access does not hide an AMI that is public when restored."
	default:
		rem = "Remove the sharing as soon as the record is restored, or let it expire."
	}
	r.emit(emission{info: checkInfo(familyOf(famRecycleBin), s), res: resourceOf(c), sev: sev, desc: desc, rem: rem, ev: ev, tags: c.Tags})
}

// snapshotBPA returns the region's snapshot BPA state and manager, "" when not read.
func (r *run) snapshotBPA(c *inventory.Common) (state, managedBy string) {
	g := r.guards[guardKey{c.Provider, c.Account, c.Region, inventory.GuardSnapshotBPA}]
	if g == nil {
		return "", ""
	}
	return g.State, g.ManagedBy
}

// privateSteps is the remediation that removes every public grant of the record.
func (r *run) privateSteps(c *inventory.Common, s *subject) string {
	var lines []string
	for _, g := range r.publics {
		tmpl := s.private
		switch {
		case g.Via == inventory.ViaProjectPolicy:
			tmpl = "gcloud projects remove-iam-policy-binding {account} --member={value} --role={role}"
		case g.Kind == inventory.GrantPublic && s.provider == inventory.AWS:
			// RDS's "all" among account ids, EBS group all, AMI group all: the template says "all".
		case s.provider == inventory.Azure && g.Kind != inventory.GrantSASLink && s.remove != "":
			if strings.Contains(s.private, "sig share reset") {
				break // gallery sharing: reset covers community and groups
			}
			tmpl = s.remove
		}
		if tmpl == "" {
			tmpl = "remove the grant to " + granteeText(g) + " in " + s.field
		}
		if line := expand(tmpl, c, g); !slices.Contains(lines, line) {
			lines = append(lines, line)
		}
	}
	slices.Sort(lines)
	return "Remove public access: " + strings.Join(lines, "\n") + "\nConsole: " + expand(s.console, c, inventory.Grant{})
}
