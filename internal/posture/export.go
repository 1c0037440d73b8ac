package posture

import (
	"strings"

	"github.com/snapwatch/snapwatch/internal/finding"
	"github.com/snapwatch/snapwatch/internal/inventory"
	"github.com/snapwatch/snapwatch/internal/trust"
)

// export reports an image or instance written to object storage: the copy has left every
// snapshot guard and is governed by the bucket alone.
func (r *run) export(t *inventory.ExportTask) {
	st := strings.ToLower(t.State)
	if strings.Contains(st, "fail") || strings.Contains(st, "cancel") || strings.Contains(st, "delet") {
		return // nothing was written, or it is gone
	}
	rule := ruleAMIExport
	if t.Kind == inventory.ExportInstance {
		rule = ruleInstanceExport
	}
	res := finding.Resource{Provider: t.Provider, Account: t.Account, Region: t.Region, Type: "export-task", ID: t.ID}
	ev := finding.Evidence{"bucket": t.Bucket, "source": t.Source, "export_kind": string(t.Kind), "bucket_public": t.BucketPublic.String()}
	for k, v := range map[string]string{"key": t.Key, "state": t.State, "bucket_account": t.BucketAccount} {
		if v != "" {
			ev[k] = v
		}
	}
	loc, rm := "s3://"+t.Bucket+"/"+t.Key, "aws s3 rm s3://"+t.Bucket+"/"+t.Key
	switch {
	case t.Key == "":
		loc, rm = "s3://"+t.Bucket, "aws s3 rm s3://"+t.Bucket+"/<object written by the task>"
	case strings.HasSuffix(t.Key, "/"):
		rm += " --recursive"
	}
	via := strings.Join(t.BucketPublicVia, ", ")
	if via != "" {
		ev["bucket_public_via"] = via
	}
	var sev finding.Severity
	var where string
	switch {
	case t.BucketPublic == inventory.Yes:
		sev, where = finding.Critical, "a public bucket: anyone can download the disk image"
		if via != "" {
			where += " (public by " + via + ")"
		}
	case t.BucketAccount == "":
		sev, where = finding.Medium, "a bucket whose owner could not be read"
	case r.b.ClassifyAccount(t.BucketAccount, t.Account) == trust.Internal:
		sev, where = finding.Low, "a bucket of account "+t.BucketAccount+", inside the organisation"
	default:
		sev, where = finding.High, "a bucket of account "+t.BucketAccount+", outside the organisation"
	}
	ev["bucket_class"] = strings.SplitN(where, ":", 2)[0]
	latent := ""
	if t.BucketPublic == inventory.No && via != "" {
		// A public policy or ACL that S3 Block Public Access neutralises: one setting away
		// from public, like a public snapshot under snapshot BPA.
		sev = max(sev, finding.Medium)
		ev["bucket_latent_public"] = true
		latent = " The bucket's " + via + " grants everyone access, which only S3 Block Public Access holds back: relaxing it makes the image public."
	}
	desc := string(t.Kind) + " task " + t.ID + " in " + t.Account + "/" + t.Region + " wrote " + t.Source + " to " + loc +
		", " + where + "." + latent + " Snapshot and AMI guards do not apply to the object; only the bucket's policy, ACLs and Block Public Access do."
	rem := "Check who can read " + loc + " (bucket policy, ACLs, S3 Block Public Access). If the copy is not needed: " + rm +
		"\nDeny ec2:CreateStoreImageTask, ec2:ExportImage and ec2:CreateInstanceExportTask where they are not needed."
	r.emit(emission{info: standaloneInfo(rule), res: res, sev: sev, desc: desc, rem: rem, ev: ev})
}

// sharePolicy reports each outside target of a policy that shares or copies future snapshots.
func (r *run) sharePolicy(p *inventory.SharePolicy) {
	rule := "aws-" + p.Kind + "-shares-external"
	switch p.Kind {
	case "dlm-policy":
		rule = ruleDLMShare
	case "backup-plan":
		rule = ruleBackupCopy
	}
	info, ok := catalogue()[rule]
	if !ok {
		info = CheckInfo{ID: rule, Title: p.Kind + " shares outside the organisation", Kind: finding.KindExposure,
			Severity: finding.High, Provider: p.Provider, Resource: p.Kind}
	}
	res := finding.Resource{Provider: p.Provider, Account: p.Account, Region: p.Region, Type: p.Kind, ID: p.ID, ARN: p.ARN}
	for _, g := range p.Targets {
		if g.Classify(r.b, p.Account) == trust.Internal {
			continue
		}
		sev := finding.High // DLM and Backup share with accounts only: a target is never "everyone"
		if !p.Enabled {
			sev = finding.Low
		}
		ev := finding.Evidence{"target": g.Value, "target_kind": string(g.Kind), "enabled": p.Enabled}
		if p.Rule != "" {
			ev["rule"] = p.Rule
		}
		state := cond(p.Enabled, "enabled", "disabled, so it acts again only if re-enabled")
		noun, verb := p.Kind, "shares every snapshot it creates with "
		switch p.Kind {
		case "dlm-policy":
			noun = "DLM policy"
		case "backup-plan":
			noun, verb = "AWS Backup plan", "copies every recovery point it makes to "
		}
		desc := noun + " " + p.ID + cond(p.Name != "", " ("+p.Name+")", "") + " in " + p.Account + "/" + p.Region +
			" " + verb + granteeText(g) + ", outside the organisation" + r.boundaryText() +
			cond(p.Rule != "", " ("+p.Rule+")", "") + "; the policy is " + state + "."
		rem := "Remove " + g.Value + " from the policy's share or copy targets: DLM console → Lifecycle policies → " + p.ID +
			" → Modify → Cross-account sharing, or aws dlm update-lifecycle-policy --region " + p.Region + " --policy-id " + p.ID +
			" --policy-details file://details-without-target.json. Snapshots it already shared keep their permissions: review them too."
		fix := ""
		if rule != ruleDLMShare {
			rem, fix = "Remove "+g.Value+" from the plan's copy actions (AWS Backup console → Backup plans → "+p.ID+" → rules → copy to destination).", ""
		}
		r.emit(emission{info: info, res: res, sev: sev, desc: desc, rem: rem, ev: ev, fix: fix,
			fingerprint: []string{string(g.Kind), strings.ToLower(g.Value)}})
	}
}
