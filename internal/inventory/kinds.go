package inventory

// Kind is a record's resource type. Its text is the finding's Resource.Type and the event
// pipeline's resource type, so that exposures seen in logs and in audits join on it.
type Kind string

// Snapshot kinds. A disk is inventoried as a Snapshot record: it is exported, shared and
// encrypted the same way, and an unattached disk is as much a copy of data as a snapshot.
const (
	KindEBSSnapshot        Kind = "ebs-snapshot"
	KindRDSSnapshot        Kind = "rds-snapshot"
	KindRDSClusterSnapshot Kind = "rds-cluster-snapshot" // Aurora, DocumentDB and Neptune: see Snapshot.Engine
	KindRedshiftSnapshot   Kind = "redshift-snapshot"
	KindAzureSnapshot      Kind = "azure-snapshot"
	KindAzureDisk          Kind = "azure-disk"
	KindGCPSnapshot        Kind = "gcp-snapshot"
	KindGCPDisk            Kind = "gcp-disk"
)

// Image kinds.
const (
	KindAMI                      Kind = "ami"
	KindAzureGalleryImage        Kind = "azure-gallery-image"
	KindAzureGalleryImageVersion Kind = "azure-gallery-image-version"
	KindAzureManagedImage        Kind = "azure-managed-image"
	KindGCPImage                 Kind = "gcp-image"
	KindGCPMachineImage          Kind = "gcp-machine-image"
)

// Providers.
const (
	AWS   = "aws"
	Azure = "azure"
	GCP   = "gcp"
)

// Tri is a fact a collector may not have been able to read. The zero value is Unknown, so a
// record built without the fact never triggers a check that needs it.
type Tri int8

const (
	Unknown Tri = iota
	Yes
	No
)

func (t Tri) String() string {
	switch t {
	case Yes:
		return "yes"
	case No:
		return "no"
	}
	return "unknown"
}

// KeyKind says who controls the key that encrypts a record.
type KeyKind string

const (
	KeyNone KeyKind = "none" // not encrypted
	// KeyProviderManaged is the cloud's default key: AWS aws/ebs or aws/rds, Azure platform
	// key, Google-managed key. On AWS such a record cannot be shared at all; on Azure and GCP
	// the platform decrypts for anyone granted the resource, so the grant is the only gate.
	KeyProviderManaged KeyKind = "provider-managed"
	KeyCustomerManaged KeyKind = "customer-managed" // a KMS / Key Vault / Cloud KMS key the customer controls
	// KeyCustomerSupplied is a raw key held outside the cloud (GCP CSEK): a recipient cannot
	// use the record without being handed the key.
	KeyCustomerSupplied KeyKind = "customer-supplied"
)

// MarshalText writes "yes", "no" or "unknown", so that a dumped inventory reads plainly.
func (t Tri) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// UnmarshalText reads what MarshalText writes; anything else is Unknown.
func (t *Tri) UnmarshalText(b []byte) error {
	switch string(b) {
	case "yes", "true":
		*t = Yes
	case "no", "false":
		*t = No
	default:
		*t = Unknown
	}
	return nil
}
