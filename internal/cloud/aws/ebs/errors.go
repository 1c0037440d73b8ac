package ebs

import (
	"context"
	"errors"
	"fmt"

	ebstypes "github.com/aws/aws-sdk-go-v2/service/ebs/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// KeyAccessError: the snapshot is encrypted and the caller may not use its KMS key, so AWS
// refuses to decrypt the blocks (AccessDeniedException DEPENDENCY_ACCESS_DENIED).
type KeyAccessError struct {
	Snapshot string
	Key      string // KMS key id or ARN; "" when unknown (no ec2:DescribeSnapshots)
	Caller   string // the caller's ARN, when known
	Err      error
}

func (e *KeyAccessError) Error() string {
	key, who := "a KMS key", "the caller"
	if e.Key != "" {
		key = "key " + e.Key
	}
	if e.Caller != "" {
		who += " (" + e.Caller + ")"
	}
	return fmt.Sprintf("snapshot %s is encrypted with %s; %s may not use it: grant kms:Decrypt on that key to the caller "+
		"(a key-policy statement or a KMS grant), or ask the owner for a copy encrypted with a key you may use", e.Snapshot, key, who)
}

func (e *KeyAccessError) Unwrap() error { return e.Err }

// PublicSnapshotError: the snapshot is public but neither owned by nor shared with the caller.
// The EBS direct API does not read public snapshots, whatever the permissions.
type PublicSnapshotError struct {
	Snapshot, Owner, Region string
}

func (e *PublicSnapshotError) Error() string {
	return fmt.Sprintf("snapshot %s (owner %s) is public but not shared with your account: the EBS direct API refuses "+
		"to read public snapshots. Copy it into your account first "+
		"(aws ec2 copy-snapshot --source-region %s --source-snapshot-id %s) and scan the copy",
		e.Snapshot, e.Owner, e.Region, e.Snapshot)
}

// ChecksumError: a block kept arriving with a SHA-256 that does not match its bytes.
type ChecksumError struct {
	Snapshot  string
	Block     int64
	Tries     int
	Got, Want string // base64 SHA-256 of the bytes received, and the one AWS sent
}

func (e *ChecksumError) Error() string {
	return fmt.Sprintf("snapshot %s block %d (bytes %d-%d): SHA-256 mismatch on %d tries (data %s, AWS says %s)",
		e.Snapshot, e.Block, e.Block*BlockSize, (e.Block+1)*BlockSize-1, e.Tries, e.Got, e.Want)
}

// errKind says what to do about a failed call.
type errKind int

const (
	errFatal     errKind = iota // give up: access, not found, a bad request
	errThrottle                 // slow down and try again
	errTransient                // try again after a pause: 5xx, a dropped connection
	errToken                    // the block token expired: list again
	errChecksum                 // the bytes do not match their checksum: fetch again
)

var errBadChecksum = errors.New("checksum mismatch")

func classify(err error) errKind {
	if err == nil {
		return errFatal
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return errFatal
	}
	if errors.Is(err, errBadChecksum) {
		return errChecksum
	}
	var ve *ebstypes.ValidationException
	if errors.As(err, &ve) {
		if ve.Reason == ebstypes.ValidationExceptionReasonInvalidBlockToken {
			return errToken
		}
		return errFatal
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "RequestThrottledException", "ThrottlingException", "ConcurrentLimitExceededException",
			"TooManyRequestsException", "SlowDown", "RequestLimitExceeded":
			return errThrottle
		case "InternalServerException", "InternalFailure", "ServiceUnavailable", "InternalError":
			return errTransient
		}
	}
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		switch s := re.HTTPStatusCode(); {
		case s == 429 || s == 503:
			return errThrottle
		case s >= 500:
			return errTransient
		default:
			return errFatal
		}
	}
	if ae != nil {
		return errFatal
	}
	// No answer at all (connection reset, a body cut short): the network's fault.
	return errTransient
}

// explain turns the API's refusals into what the user should do.
func explain(snap string, err error) error {
	var ade *ebstypes.AccessDeniedException
	if errors.As(err, &ade) {
		if ade.Reason == ebstypes.AccessDeniedExceptionReasonDependencyAccessDenied {
			return &KeyAccessError{Snapshot: snap, Err: err}
		}
		return fmt.Errorf("snapshot %s: access denied: the caller needs ebs:ListSnapshotBlocks, ebs:ListChangedBlocks "+
			"and ebs:GetSnapshotBlock on arn:aws:ec2:*::snapshot/%s: %w", snap, snap, err)
	}
	var nf *ebstypes.ResourceNotFoundException
	if errors.As(err, &nf) {
		return fmt.Errorf("snapshot %s: not found, or not owned by nor shared with your account in this region: %w", snap, err)
	}
	return fmt.Errorf("snapshot %s: %w", snap, err)
}
