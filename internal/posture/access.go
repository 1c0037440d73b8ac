package posture

import (
	"github.com/snapwatch/snapwatch/internal/finding"
	"github.com/snapwatch/snapwatch/internal/inventory"
)

// access is whether a grantee could actually read the data it was granted: a share of an
// encrypted snapshot whose key the recipient cannot use is inert.
type access int8

const (
	usable  access = iota // unencrypted, a key the platform applies for anyone, or a key shared with the recipient
	unknown               // customer-managed key whose policy and grants were not read
	inert                 // the recipient cannot decrypt
)

func (a access) String() string {
	return [...]string{"usable", "unknown", "inert"}[a]
}

// keyAccess grades one grantee's access to data encrypted as enc, and says why in words for the
// description.
func keyAccess(provider string, enc *inventory.Encryption, g inventory.Grant) (access, string) {
	if !enc.Encrypted {
		return usable, "it is not encrypted"
	}
	switch enc.KeyKind {
	case inventory.KeyProviderManaged:
		if provider == inventory.AWS {
			// AWS refuses to share snapshots and AMIs encrypted with aws/ebs or aws/rds: a
			// grant that exists anyway (set before encryption, or by a restore) cannot be used.
			return inert, "it is encrypted with the AWS-managed key, which AWS never lets another account use"
		}
		return usable, "it is encrypted with the provider-managed key, which the platform applies for anyone granted access"
	case inventory.KeyCustomerSupplied:
		return inert, "it is encrypted with a customer-supplied key the recipient does not hold"
	case inventory.KeyCustomerManaged:
		if provider == inventory.Azure {
			// A disk encryption set is used by the platform's identity, not the caller's: a SAS
			// download or a gallery share is decrypted for whoever holds it.
			return usable, "Azure decrypts it for anyone granted access, whatever key encrypts it at rest"
		}
		if !enc.GranteesKnown {
			return unknown, "its key " + keyName(enc) + "'s policy and grants were not read, so the recipient may be able to decrypt"
		}
		for _, kg := range enc.KeyGrantees {
			if kg.Covers(g) {
				return usable, "its key " + keyName(enc) + " lets " + granteeText(g) + " decrypt (" + viaText(kg.Via) + ")"
			}
		}
		return inert, "its key " + keyName(enc) + " does not let " + granteeText(g) + " decrypt, so the share is inert until the key is shared too"
	}
	return unknown, "it is encrypted with a key of unknown kind"
}

func keyName(enc *inventory.Encryption) string {
	if enc.KeyID == "" {
		return "(id not read)"
	}
	return enc.KeyID
}

func viaText(via string) string {
	switch via {
	case inventory.ViaKeyGrant:
		return "KMS grant"
	case "", inventory.ViaKeyPolicy:
		return "key policy"
	}
	return via
}

// The severity model (docs/design/posture.md has it as a table).

// exposureSeverity grades a public or external share by whether the data is readable.
func exposureSeverity(public bool, a access) finding.Severity {
	switch {
	case public && a != inert:
		return finding.Critical // anyone can read it
	case public:
		return finding.Medium // anyone can see and copy it; one key-policy edit from readable
	case a != inert:
		return finding.High // a named outsider can read it (unknown key access counts as readable)
	default:
		return finding.Low // a named outsider holds an inert share
	}
}

// latentSeverity grades a public attribute that snapshot BPA block-all-sharing holds back. A
// declarative policy takes an organisation administrator to relax; an account setting, anyone
// with ec2:DisableSnapshotBlockPublicAccess in the account.
func latentSeverity(a access, managedBy string) finding.Severity {
	switch {
	case a == inert:
		return finding.Low
	case managedBy == inventory.ManagedByDeclarativePolicy:
		return finding.Medium
	}
	return finding.High
}

// recycleSeverity grades a deleted record whose sharing a restore would bring back.
func recycleSeverity(public bool, a access) finding.Severity {
	switch {
	case public && a != inert:
		return finding.High
	case a != inert || public:
		return finding.Medium
	}
	return finding.Low
}
