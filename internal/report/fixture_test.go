package report

import (
	"time"

	"github.com/snapwatch/snapwatch/internal/finding"
)

// Test data: a result with every kind of finding, from every provider, with hostile strings in
// the places an attacker controls (file names, paths, matched text), and a secret a careless
// producer forgot to redact.

const (
	// Secrets the fixture leaks on purpose: no output may contain them.
	leakedAWSSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	leakedPassword  = "hunter2hunter2hunter2"
	leakedToken     = "ghp_EXAMPLEexampleEXAMPLEexample0123"

	// Hostile strings.
	scriptBreak  = `</script><script>alert("xss")</script>`
	csvFormula   = `=cmd|' /C calc'!A0`
	ansiTitle    = "\x1b]0;pwned\x07\x1b[2J\x1b[31mred"
	bidiOverride = "invoice\u202egnp.exe"
)

var (
	t0 = time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)
	t1 = t0.Add(3*time.Minute + 12*time.Second)
)

func fixtureFindings() []finding.Finding {
	img := finding.Resource{Provider: "local", Type: "disk-image", ID: "images/web-01.qcow2"}
	snap := finding.Resource{Provider: "aws", Account: "123456789012", Region: "us-east-1", Type: "ebs-snapshot",
		ID: "snap-0123456789abcdef0", ARN: "arn:aws:ec2:us-east-1:123456789012:snapshot/snap-0123456789abcdef0"}
	acct := finding.Resource{Provider: "aws", Account: "123456789012", Region: "eu-west-1", Type: "account", ID: "123456789012"}
	gallery := finding.Resource{Provider: "azure", Account: "0b1f6471-1bf0-4dda-aec3-cb9272f09590", Region: "westeurope",
		Type: "gallery-image", ID: "/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/rg-images/providers/Microsoft.Compute/galleries/g1/images/base"}
	gcp := finding.Resource{Provider: "gcp", Account: "acme-prod", Type: "snapshot", ID: "projects/acme-prod/global/snapshots/db-nightly",
		ARN: "https://www.googleapis.com/compute/v1/projects/acme-prod/global/snapshots/db-nightly"}
	dir := finding.Resource{Provider: "local", Type: "directory", ID: "deploy"}

	awsKey := finding.Finding{
		ID:   finding.Fingerprint("secret/aws-access-key-pair", img, "p2", "/home/deploy/.aws/credentials", "9f86d0"),
		Kind: finding.KindContent, Rule: "secret/aws-access-key-pair", Title: "AWS access key pair",
		Severity: finding.Critical, Resource: snap,
		Description: "An AWS access key id and its secret access key.\nAnyone holding the snapshot can act as this IAM user.",
		Remediation: "Deactivate and delete the key in IAM, then rotate anything it could reach.",
		Location:    &finding.Location{Volume: "p2", FileSystem: "ext4", Path: "/home/deploy/.aws/credentials", Inode: 131075, Offset: 61, Line: 3},
		Evidence: finding.Evidence{
			"secret": leakedAWSSecret, // forgotten by its producer: the writers must redact it
			"sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
			"key_id": "AKIA…", "entropy": 4.71,
		},
		Compliance: []string{"CIS-AWS-1.14", "AWS-FSBP-IAM.3"},
		FirstSeen:  t0, LastSeen: t1, Status: finding.StatusOpen,
		Tags: []string{"cloud-credential", "aws"},
	}
	public := finding.Finding{
		ID: finding.Fingerprint("aws-ebs-snapshot-public", snap), Kind: finding.KindExposure,
		Rule: "aws-ebs-snapshot-public", Title: "EBS snapshot is public", Severity: finding.Critical, Resource: snap,
		Description: "Every AWS account can create a volume from this snapshot and read the whole disk.",
		Remediation: "aws ec2 modify-snapshot-attribute --snapshot-id snap-0123456789abcdef0 --attribute createVolumePermission --operation-type remove --group-names all",
		Evidence:    finding.Evidence{"attribute": "createVolumePermission", "group": "all", "encrypted": false, "size_gib": 40},
		Compliance:  []string{"AWS-FSBP-EC2.1", "CIS-AWS-2.2.2"},
		FirstSeen:   t0, LastSeen: t1, Status: finding.StatusOpen,
	}
	public.Related = []string{awsKey.ID}
	sshKey := finding.Finding{
		ID: finding.Fingerprint("file/ssh-private-key", img, "vg0/root", "/root/.ssh/id_ed25519"), Kind: finding.KindContent,
		Rule: "file/ssh-private-key", Title: "Unencrypted SSH private key", Severity: finding.High, Resource: img,
		Description: "An OpenSSH private key without a passphrase, recovered from a deleted directory entry.",
		Remediation: "Remove the key from the image and from every authorized_keys that trusts it.",
		Location:    &finding.Location{Volume: "vg0/root", FileSystem: "xfs", Path: "/root/.ssh/id_ed25519", Inode: 1048707, Deleted: true},
		Evidence:    finding.Evidence{"sha256": "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae", "encrypted": false, "key_type": "ssh-ed25519"},
		FirstSeen:   t0, LastSeen: t1, Status: finding.StatusOpen,
	}
	event := finding.Finding{
		ID: finding.Fingerprint("aws-snapshot-shared-external", snap, "e0b6c1f4"), Kind: finding.KindEvent,
		Rule: "aws-snapshot-shared-external", Title: "Snapshot shared with an account outside the organization",
		Severity: finding.High, Resource: snap,
		Description: "ModifySnapshotAttribute added createVolumePermission for 999988887777.",
		Remediation: "Remove the permission, then find out who made the call and why.",
		Evidence: finding.Evidence{"event_id": "e0b6c1f4-5b1e-4b0a-9c44-3f1a2b7d9e01", "event_name": "ModifySnapshotAttribute",
			"principal": "arn:aws:iam::123456789012:user/mallory", "source_ip": "203.0.113.7", "shared_with": []string{"999988887777"},
			"session_token": leakedToken},
		FirstSeen: t0, LastSeen: t0, Status: finding.StatusOpen,
	}
	guard := finding.Finding{
		ID: finding.Fingerprint("aws-ebs-block-public-access-off", acct), Kind: finding.KindGuard,
		Rule: "aws-ebs-block-public-access-off", Title: "EBS block public access is off", Severity: finding.Medium, Resource: acct,
		Description: "Nothing at account level stops a snapshot from being made public in eu-west-1.",
		Remediation: "aws ec2 enable-snapshot-block-public-access --state block-all-sharing --region eu-west-1",
		Compliance:  []string{"AWS-FSBP-EC2.182"},
		FirstSeen:   t0, LastSeen: t1, Status: finding.StatusOpen,
	}
	hostile := finding.Finding{
		ID: finding.Fingerprint("secret/generic-password", img, "p2", scriptBreak), Kind: finding.KindContent,
		Rule: "secret/generic-password", Title: csvFormula, Severity: finding.Low, Resource: img,
		Description: "Matched in a file whose name is chosen by whoever built the image:\n" + ansiTitle + "\r\nand " + bidiOverride,
		Location:    &finding.Location{Volume: "p2", Path: "/srv/日本語/секрет/😀/" + scriptBreak, Line: 42},
		Evidence: finding.Evidence{
			"match":   "password=" + leakedPassword,
			"line":    "DB_PASSWORD=" + leakedPassword + " " + ansiTitle,
			"context": map[string]any{"user": "-2+3", "password": leakedPassword, "password_sha256": "e3b0c44298fc1c14"},
			"note":    "@SUM(1+1)*cmd|' /C calc'!A0",
		},
		FirstSeen: t0, LastSeen: t1, Status: finding.StatusOpen,
		Tags: []string{"generic", "generic"},
	}
	gallerySuppressed := finding.Finding{
		ID: finding.Fingerprint("azure-gallery-image-shared", gallery), Kind: finding.KindExposure,
		Rule: "azure-gallery-image-shared", Title: "Gallery image shared with another tenant", Severity: finding.Info,
		Resource:    finding.Resource{Provider: gallery.Provider, Account: gallery.Account, Region: gallery.Region, Type: gallery.Type, ID: gallery.ID, ARN: gallery.ID},
		Description: "Shared on purpose with the partner tenant; suppressed.",
		Evidence:    finding.Evidence{"tenant": "72f988bf-86f1-41af-91ab-2d7cd011db47"},
		FirstSeen:   t0, LastSeen: t1, Status: finding.StatusSuppressed,
	}
	gcpEvent := finding.Finding{
		ID: finding.Fingerprint("gcp-snapshot-iam-public", gcp), Kind: finding.KindEvent,
		Rule: "gcp-snapshot-iam-public", Title: "Snapshot IAM policy granted to allAuthenticatedUsers",
		Severity: finding.Critical, Resource: gcp,
		Remediation: "gcloud compute snapshots remove-iam-policy-binding db-nightly --member=allAuthenticatedUsers --role=roles/compute.storageAdmin",
		Evidence:    finding.Evidence{"method": "v1.compute.snapshots.setIamPolicy", "principal": "ops@acme.example", "member": "allAuthenticatedUsers"},
		FirstSeen:   t0, LastSeen: t1, Status: finding.StatusOpen,
	}
	envFile := finding.Finding{
		ID: finding.Fingerprint("secret/github-pat", dir, "/config/.env"), Kind: finding.KindContent,
		Rule: "secret/github-pat", Title: "GitHub personal access token", Severity: finding.Medium, Resource: dir,
		Location:  &finding.Location{Path: "/config/.env", Line: 12},
		Evidence:  finding.Evidence{"secret": "ghp_…", "sha256": "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8"},
		FirstSeen: t0, LastSeen: t1, Status: finding.StatusResolved,
	}
	return []finding.Finding{hostile, envFile, gallerySuppressed, guard, event, sshKey, public, awsKey, gcpEvent}
}

func fixtureResult() *Result {
	return &Result{
		Tool:     ToolInfo{Name: "snapwatch", Version: "v0.4.0", CommandLine: "snapwatch scan --format html images/web-01.qcow2 ebs:snap-0123456789abcdef0 deploy"},
		Command:  "scan",
		Targets:  []string{"images/web-01.qcow2", "ebs:snap-0123456789abcdef0", "deploy"},
		Started:  t0,
		Finished: t1,
		Findings: fixtureFindings(),
		Errors: []ErrorRecord{
			{Target: "ebs:snap-0123456789abcdef0", Where: "volume p3", Message: `unsupported file system "zfs_member"`},
			{Target: "images/web-01.qcow2", Where: "p2:/var/lib/" + scriptBreak, Message: "read error: " + ansiTitle},
		},
		Stats: map[string]any{
			"files_scanned": 48213,
			"bytes_read":    int64(21474836480),
			"volumes":       5,
			"skipped":       map[string]any{"binary": 1822, "too_large": 14, "excluded": 301},
			"duration":      3*time.Minute + 12*time.Second,
		},
	}
}
