package posture

import (
	"strings"

	"github.com/snapwatch/snapwatch/internal/inventory"
)

// subject is one kind of record as the checks name it: its rule-id prefix, its noun, where its
// sharing lives and the commands that change it. Remediation templates take {id}, {name},
// {region}, {account}, {value}, {role}, {permkey}, {rg} and {gallery}.
type subject struct {
	label    string // rule id prefix: "aws-ebs-snapshot"
	provider string
	kind     inventory.Kind
	engine   string // rds-cluster-snapshot engine family this subject stands for; "" = any other
	noun     string // "EBS snapshot"
	field    string // where sharing is stated: "createVolumePermission"
	console  string // console path to the sharing setting
	private  string // CLI removing public access
	remove   string // CLI removing one grantee
	encrypt  string // CLI re-encrypting (copy with a customer-managed key)
	delete   string // CLI deleting
	network  string // CLI closing public network export (Azure)
	snapshot bool   // a copy of data (snapshot kinds), as opposed to an image or a disk
}

const cmk = "<your customer-managed key>"

var subjects = []*subject{
	{label: "aws-ebs-snapshot", provider: inventory.AWS, kind: inventory.KindEBSSnapshot, noun: "EBS snapshot",
		field: "createVolumePermission", snapshot: true,
		console: "EC2 console → Elastic Block Store → Snapshots → {id} → Actions → Snapshot settings → Modify permissions",
		private: "aws ec2 modify-snapshot-attribute --region {region} --snapshot-id {id} --attribute createVolumePermission --operation-type remove --group-names all",
		remove:  "aws ec2 modify-snapshot-attribute --region {region} --snapshot-id {id} --attribute createVolumePermission --operation-type remove --user-ids {value}",
		encrypt: "aws ec2 copy-snapshot --region {region} --source-region {region} --source-snapshot-id {id} --encrypted --kms-key-id " + cmk + "; then aws ec2 delete-snapshot --region {region} --snapshot-id {id}",
		delete:  "aws ec2 delete-snapshot --region {region} --snapshot-id {id}"},
	{label: "aws-rds-snapshot", provider: inventory.AWS, kind: inventory.KindRDSSnapshot, noun: "RDS DB snapshot",
		field: "restore attribute", snapshot: true,
		console: "RDS console → Snapshots → {id} → Actions → Share snapshot",
		private: "aws rds modify-db-snapshot-attribute --region {region} --db-snapshot-identifier {id} --attribute-name restore --values-to-remove all",
		remove:  "aws rds modify-db-snapshot-attribute --region {region} --db-snapshot-identifier {id} --attribute-name restore --values-to-remove {value}",
		encrypt: "aws rds copy-db-snapshot --region {region} --source-db-snapshot-identifier {id} --target-db-snapshot-identifier {id}-encrypted --kms-key-id " + cmk + "; then aws rds delete-db-snapshot --region {region} --db-snapshot-identifier {id}",
		delete:  "aws rds delete-db-snapshot --region {region} --db-snapshot-identifier {id}"},
	// Cluster snapshots of the three engine families come back from the same RDS API; each is
	// one record, labelled by its engine (Prowler reports Neptune twice, as RDS and as Neptune).
	clusterSubject("aws-docdb-cluster-snapshot", "docdb", "DocumentDB cluster snapshot", "docdb", "DocumentDB"),
	clusterSubject("aws-neptune-cluster-snapshot", "neptune", "Neptune cluster snapshot", "neptune", "Neptune"),
	clusterSubject("aws-rds-cluster-snapshot", "", "RDS cluster snapshot", "rds", "RDS"),
	{label: "aws-redshift-snapshot", provider: inventory.AWS, kind: inventory.KindRedshiftSnapshot, noun: "Redshift snapshot",
		field: "AccountsWithRestoreAccess", snapshot: true,
		console: "Redshift console → Clusters → Snapshots → {id} → Actions → Manage access",
		remove:  "aws redshift revoke-snapshot-access --region {region} --snapshot-identifier {id} --account-with-restore-access {value}",
		encrypt: "encrypt the source cluster (aws redshift modify-cluster --cluster-identifier <cluster> --encrypted --kms-key-id " + cmk + "), take a new snapshot, then aws redshift delete-cluster-snapshot --region {region} --snapshot-identifier {id}",
		delete:  "aws redshift delete-cluster-snapshot --region {region} --snapshot-identifier {id}"},
	{label: "aws-ami", provider: inventory.AWS, kind: inventory.KindAMI, noun: "AMI", field: "launchPermission",
		console: "EC2 console → AMIs → {id} → Actions → Edit AMI permissions",
		private: `aws ec2 modify-image-attribute --region {region} --image-id {id} --launch-permission "Remove=[{Group=all}]"`,
		remove:  `aws ec2 modify-image-attribute --region {region} --image-id {id} --launch-permission "Remove=[{{permkey}={value}}]"`,
		encrypt: "aws ec2 copy-image --region {region} --source-region {region} --source-image-id {id} --name {name}-encrypted --encrypted --kms-key-id " + cmk + "; then deregister {id} and delete its snapshots",
		delete:  "aws ec2 deregister-image --region {region} --image-id {id}; then aws ec2 delete-snapshot for each backing snapshot"},

	{label: "azure-snapshot", provider: inventory.Azure, kind: inventory.KindAzureSnapshot, noun: "Azure snapshot",
		field: "role assignments", snapshot: true,
		console: "Azure portal → Snapshots → {name} → Snapshot export / Networking",
		private: "az snapshot revoke-access --ids {id}",
		remove:  "az role assignment delete --scope {id} --assignee {value}",
		network: "az snapshot update --ids {id} --network-access-policy DenyAll --public-network-access Disabled",
		encrypt: "az snapshot update --ids {id} --encryption-type EncryptionAtRestWithCustomerKey --disk-encryption-set <disk encryption set id>",
		delete:  "az snapshot delete --ids {id}"},
	{label: "azure-disk", provider: inventory.Azure, kind: inventory.KindAzureDisk, noun: "Azure managed disk",
		field:   "role assignments",
		console: "Azure portal → Disks → {name} → Disk export / Networking",
		private: "az disk revoke-access --ids {id}",
		remove:  "az role assignment delete --scope {id} --assignee {value}",
		network: "az disk update --ids {id} --network-access-policy DenyAll --public-network-access Disabled",
		encrypt: "az disk update --ids {id} --encryption-type EncryptionAtRestWithCustomerKey --disk-encryption-set <disk encryption set id>"},
	gallerySubject("azure-gallery-image", inventory.KindAzureGalleryImage, "Azure Compute Gallery image", ""),
	gallerySubject("azure-gallery-image-version", inventory.KindAzureGalleryImageVersion, "Azure Compute Gallery image version",
		"az sig image-version delete --ids {id}"),
	{label: "azure-managed-image", provider: inventory.Azure, kind: inventory.KindAzureManagedImage, noun: "Azure managed image",
		field: "role assignments", console: "Azure portal → Images → {name} → Access control (IAM)",
		remove:  "az role assignment delete --scope {id} --assignee {value}",
		encrypt: "recreate the image from a disk encrypted with a disk encryption set (customer-managed key), then az image delete --ids {id}",
		delete:  "az image delete --ids {id}"},

	gcpSubject("gcp-snapshot", inventory.KindGCPSnapshot, "GCP snapshot", "snapshots", true),
	gcpSubject("gcp-disk", inventory.KindGCPDisk, "GCP disk", "disks", false),
	gcpSubject("gcp-image", inventory.KindGCPImage, "GCP image", "images", false),
	gcpSubject("gcp-machine-image", inventory.KindGCPMachineImage, "GCP machine image", "machine-images", false),
}

func clusterSubject(label, engine, noun, cli, service string) *subject {
	return &subject{label: label, provider: inventory.AWS, kind: inventory.KindRDSClusterSnapshot, engine: engine,
		noun: noun, field: "restore attribute", snapshot: true,
		console: service + " console → Snapshots → {id} → Actions → Share snapshot",
		private: "aws " + cli + " modify-db-cluster-snapshot-attribute --region {region} --db-cluster-snapshot-identifier {id} --attribute-name restore --values-to-remove all",
		remove:  "aws " + cli + " modify-db-cluster-snapshot-attribute --region {region} --db-cluster-snapshot-identifier {id} --attribute-name restore --values-to-remove {value}",
		// A cluster snapshot cannot be encrypted by copying it: restore it into an encrypted cluster.
		encrypt: "aws " + cli + " restore-db-cluster-from-snapshot --region {region} --snapshot-identifier {id} --db-cluster-identifier <new> --engine <engine> --kms-key-id " + cmk + "; snapshot the new cluster; then delete {id}",
		delete:  "aws " + cli + " delete-db-cluster-snapshot --region {region} --db-cluster-snapshot-identifier {id}"}
}

func gallerySubject(label string, kind inventory.Kind, noun, del string) *subject {
	return &subject{label: label, provider: inventory.Azure, kind: kind, noun: noun, field: "gallery sharingProfile",
		console: "Azure portal → Azure compute galleries → {gallery} → Sharing",
		private: "az sig share reset --resource-group {rg} --gallery-name {gallery}",
		remove:  "az sig share remove --resource-group {rg} --gallery-name {gallery} --{permkey} {value}",
		encrypt: "publish a new version whose target regions use a disk encryption set (customer-managed key)",
		delete:  del}
}

func gcpSubject(label string, kind inventory.Kind, noun, cli string, snapshot bool) *subject {
	loc := "--project {account}"
	if kind == inventory.KindGCPDisk {
		loc += " --zone {region}"
	}
	s := &subject{label: label, provider: inventory.GCP, kind: kind, noun: noun, field: "IAM policy", snapshot: snapshot,
		console: "Google Cloud console → Compute Engine → " + noun + "s → {name} → Permissions",
		private: "gcloud compute " + cli + " remove-iam-policy-binding {name} " + loc + " --member={value} --role={role}",
		remove:  "gcloud compute " + cli + " remove-iam-policy-binding {name} " + loc + " --member={value} --role={role}",
		encrypt: "recreate it with a Cloud KMS key (--kms-key) and delete {name}"}
	if kind != inventory.KindGCPDisk {
		s.delete = "gcloud compute " + cli + " delete {name} " + loc
	}
	return s
}

// subjectOf finds the subject of a record; records of kinds this version does not know get a
// generic one, so that a new collector's public record is still reported.
func subjectOf(c *inventory.Common, engine string) *subject {
	for _, s := range subjects {
		if s.kind != c.Kind || s.provider != c.Provider {
			continue
		}
		if s.kind == inventory.KindRDSClusterSnapshot && s.engine != "" && engineFamily(engine) != s.engine {
			continue
		}
		return s
	}
	noun := strings.ReplaceAll(string(c.Kind), "-", " ")
	return &subject{label: c.Provider + "-" + string(c.Kind), provider: c.Provider, kind: c.Kind, noun: noun,
		field: "sharing settings", console: "the provider console's sharing settings for {id}"}
}

// engineFamily maps an RDS engine name to the service that owns it.
func engineFamily(engine string) string {
	switch e := strings.ToLower(engine); {
	case e == "docdb" || strings.HasPrefix(e, "docdb"):
		return "docdb"
	case e == "neptune" || strings.HasPrefix(e, "neptune"):
		return "neptune"
	}
	return ""
}
