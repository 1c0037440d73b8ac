package posture

import (
	"slices"
	"strconv"
	"strings"

	"github.com/snapwatch/snapwatch/internal/inventory"
)

// hygiene runs the checks that hold whoever the record is shared with: encryption, age,
// lineage. They run only for the subjects their family lists: on Azure and GCP everything is
// encrypted, so "unencrypted" there would be a collector's mistake, not a finding.
func (r *run) hygiene(c *inventory.Common, s *subject, snap *inventory.Snapshot, img *inventory.Image) {
	enc := &c.Encryption
	if f := familyOf(famUnenc); !enc.Encrypted && f.applies(s) {
		desc := describe(c, s) + " is not encrypted: anyone it is ever shared with, and anyone in the account who can copy it, reads its data in the clear."
		if img != nil {
			desc = describe(c, s) + " has unencrypted backing snapshots" + backingList(img, false) +
				": anyone who can launch or copy it reads them in the clear."
		}
		r.emit(emission{info: checkInfo(f, s), res: resourceOf(c), sev: f.sev, desc: desc,
			rem: "Re-encrypt: " + expand(s.encrypt, c, inventory.Grant{}) + unencNext(s, c),
			ev:  r.recordEvidence(c, s), tags: c.Tags})
	}
	if f := familyOf(famProvKey); enc.Encrypted && enc.KeyKind == inventory.KeyProviderManaged && f.applies(s) {
		r.providerKey(c, s, f)
	}
	if f := familyOf(famStale); r.stale > 0 && f.applies(s) && !c.Created.IsZero() && (snap == nil || !snap.Automated) {
		if age := r.now.Sub(c.Created); age > r.stale {
			days := int(age.Hours() / 24)
			ev := r.recordEvidence(c, s)
			ev["age_days"] = days
			ev["created"] = c.Created.UTC().Format("2006-01-02")
			desc := describe(c, s) + " is " + strconv.Itoa(days) + " days old, past the limit of " +
				strconv.Itoa(int(r.stale.Hours()/24)) + " days: forgotten copies are where old data leaks from."
			r.emit(emission{info: checkInfo(f, s), res: resourceOf(c), sev: f.sev, desc: desc,
				rem: "If it is no longer needed: " + expand(s.delete, c, inventory.Grant{}) +
					"\nIf it must be kept, tag it and add the tag to the config's exclude list, or archive it.",
				ev: ev, tags: c.Tags})
		}
	}
	if f := familyOf(famOrphan); snap != nil && f.applies(s) && c.Lineage.SourceExists == inventory.No && !r.usedByImage(snap) {
		ev := r.recordEvidence(c, s)
		ev["source_volume"] = c.Lineage.SourceVolume
		desc := describe(c, s) + " was taken from " + cond(c.Lineage.SourceVolume != "", c.Lineage.SourceVolume, "a source") +
			", which no longer exists, and no image in the inventory uses it: nobody owns this copy of the data."
		r.emit(emission{info: checkInfo(f, s), res: resourceOf(c), sev: f.sev, desc: desc,
			rem: "Confirm with its owner, then: " + expand(s.delete, c, inventory.Grant{}), ev: ev, tags: c.Tags})
	}
	if f := familyOf(famMissing); img != nil && f.applies(s) {
		if missing := backingList(img, true); missing != "" {
			ev := r.recordEvidence(c, s)
			ev["missing_snapshots"] = strings.Split(strings.Trim(missing, " ()"), ", ")
			desc := describe(c, s) + " references deleted snapshots" + missing +
				": it can no longer be launched, yet it still advertises its name and permissions."
			r.emit(emission{info: checkInfo(f, s), res: resourceOf(c), sev: f.sev, desc: desc,
				rem: "Deregister it: aws ec2 deregister-image --region " + c.Region + " --image-id " + c.ID, ev: ev, tags: c.Tags})
		}
	}
}

// providerKey reports a record whose only key is the provider's, with what that means there.
func (r *run) providerKey(c *inventory.Common, s *subject, f *family) {
	var why string
	comp := []string(nil)
	switch c.Provider {
	case inventory.AWS:
		why = " is encrypted with the AWS-managed key " + cond(c.Encryption.KeyID != "", c.Encryption.KeyID, "(aws/ebs or aws/rds)") +
			": every principal in the account that may use the service can decrypt it, the key's policy cannot be narrowed or disabled in an incident, " +
			"and AWS refuses to share it, so sharing it (for DR or forensics) takes a re-encrypted copy, the step where unencrypted copies get made."
	default:
		why = " is encrypted only with the provider-managed key: the platform decrypts it for anyone granted the resource, so access to the resource is the only gate."
	}
	if s.kind == inventory.KindAzureDisk {
		// CIS Azure 3.0 8.3 covers attached OS and data disks, 8.4 unattached ones.
		comp = []string{cond(strings.EqualFold(c.State, "Unattached"), "CIS-Azure-3.0-8.4", "CIS-Azure-3.0-8.3")}
	}
	r.emit(emission{info: checkInfo(f, s), res: resourceOf(c), sev: f.sev, desc: describe(c, s) + why,
		rem: "Re-encrypt with a customer-managed key: " + expand(s.encrypt, c, inventory.Grant{}), ev: r.recordEvidence(c, s),
		compliance: comp, tags: c.Tags})
}

// backingList lists an image's backing snapshots that are unencrypted (missing=false) or gone
// (missing=true), as " (snap-1, snap-2)", or "".
func backingList(img *inventory.Image, missing bool) string {
	var ids []string
	for _, b := range img.Backing {
		if (missing && b.Exists == inventory.No) || (!missing && !b.Encrypted) {
			ids = append(ids, b.SnapshotID)
		}
	}
	if len(ids) == 0 {
		return ""
	}
	slices.Sort(ids)
	return " (" + strings.Join(ids, ", ") + ")"
}

// unencNext says how to stop the next copy being unencrypted too.
func unencNext(s *subject, c *inventory.Common) string {
	switch s.kind {
	case inventory.KindEBSSnapshot, inventory.KindAMI:
		return "\nTurn on EBS encryption by default in " + c.Region + " so that new volumes, and their snapshots, are encrypted."
	case inventory.KindRDSSnapshot, inventory.KindRDSClusterSnapshot, inventory.KindRedshiftSnapshot:
		return "\nSnapshots of an unencrypted database are unencrypted: move the database to an encrypted copy too."
	}
	return ""
}
