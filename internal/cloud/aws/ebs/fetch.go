package ebs

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ebsapi "github.com/aws/aws-sdk-go-v2/service/ebs"
	ebstypes "github.com/aws/aws-sdk-go-v2/service/ebs/types"
)

// expirySlack: tokens this close to their expiry are refreshed before use, so that a call does
// not fail for a token that expires while it travels.
const expirySlack = time.Minute

// sumMismatch is a block whose bytes do not hash to the checksum sent with them.
type sumMismatch struct{ got, want string }

func (e *sumMismatch) Error() string        { return "checksum mismatch: got " + e.got + ", want " + e.want }
func (e *sumMismatch) Is(target error) bool { return target == errBadChecksum }

// fetch gets block i through the limiter, retrying what can be retried: throttling (after the
// limiter slowed down), 5xx and dropped connections (with backoff), expired tokens (after a
// fresh listing) and checksum mismatches (a few times, then ChecksumError). It returns nil bytes
// for a block the latest listing no longer has.
func (r *Reader) fetch(ctx context.Context, i int64, urgent bool) ([]byte, error) {
	var throttles, transients, sums, tokens int
	refreshed := false
	for {
		r.mu.Lock()
		p, gen, exp := r.blocks.find(i), r.gen, r.blocks.expiry
		tok := ""
		if p >= 0 {
			tok = r.blocks.token(p)
		}
		r.mu.Unlock()
		if p < 0 {
			return nil, nil
		}
		if !refreshed && !exp.IsZero() && !r.opt.Now().Add(expirySlack).Before(exp) {
			refreshed = true
			if err := r.relist(ctx, gen); err != nil {
				return nil, err
			}
			continue
		}
		if err := r.lim.Wait(ctx, urgent); err != nil {
			return nil, err
		}
		data, err := r.get(ctx, i, tok)
		if err == nil {
			r.lim.Succeeded()
			r.st.fetched.Add(1)
			if r.opt.OnFetch != nil {
				r.opt.OnFetch(i)
			}
			return data, nil
		}
		switch classify(err) {
		case errThrottle:
			r.lim.Throttled()
			r.st.throttled.Add(1)
			if throttles++; throttles > maxThrottleTries {
				return nil, explain(r.snap, err)
			}
		case errTransient:
			if transients++; transients > r.opt.MaxRetries {
				return nil, explain(r.snap, err)
			}
			if err := sleep(ctx, backoff(transients, 100*time.Millisecond, 5*time.Second)); err != nil {
				return nil, err
			}
		case errToken:
			if tokens++; tokens > 3 {
				return nil, explain(r.snap, err)
			}
			refreshed = true
			if err := r.relist(ctx, gen); err != nil {
				return nil, err
			}
		case errChecksum:
			r.st.badSums.Add(1)
			if sums++; sums >= checksumTries {
				ce := &ChecksumError{Snapshot: r.snap, Block: i, Tries: sums}
				var sm *sumMismatch
				if errors.As(err, &sm) {
					ce.Got, ce.Want = sm.got, sm.want
				}
				return nil, ce
			}
		default:
			return nil, explain(r.snap, err)
		}
		r.st.retries.Add(1)
	}
}

// get makes one GetSnapshotBlock call and checks the bytes against their SHA-256.
func (r *Reader) get(ctx context.Context, i int64, tok string) ([]byte, error) {
	out, err := r.api.GetSnapshotBlock(ctx, &ebsapi.GetSnapshotBlockInput{
		SnapshotId: aws.String(r.snap), BlockIndex: aws.Int32(int32(i)), BlockToken: aws.String(tok)})
	if err != nil {
		return nil, err
	}
	defer out.BlockData.Close()
	buf := make([]byte, BlockSize)
	n, err := io.ReadFull(out.BlockData, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, fmt.Errorf("block %d: reading the body: %w", i, err)
	}
	if out.DataLength != nil && int(*out.DataLength) != n {
		return nil, fmt.Errorf("block %d: body cut short: %d of %d bytes", i, n, *out.DataLength)
	}
	if out.Checksum != nil && (out.ChecksumAlgorithm == "" || out.ChecksumAlgorithm == ebstypes.ChecksumAlgorithmChecksumAlgorithmSha256) {
		sum := sha256.Sum256(buf[:n])
		if got := base64.StdEncoding.EncodeToString(sum[:]); got != *out.Checksum {
			return nil, &sumMismatch{got: got, want: *out.Checksum}
		}
	}
	r.st.bytes.Add(int64(n))
	return buf, nil // a short block reads as zeros past its data, as the volume does
}

// backoff is exponential with full jitter, so that retries of many blocks spread out.
func backoff(attempt int, base, ceiling time.Duration) time.Duration {
	d := base << min(attempt-1, 20)
	if d <= 0 || d > ceiling {
		d = ceiling
	}
	return time.Duration(rand.Int64N(int64(d))) + time.Millisecond
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
