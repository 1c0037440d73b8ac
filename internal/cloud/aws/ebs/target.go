package ebs

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	ebstypes "github.com/aws/aws-sdk-go-v2/service/ebs/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/snapwatch/snapwatch/internal/finding"
	"github.com/snapwatch/snapwatch/internal/target"
)

// The scan targets "ebs:SNAP_ID" and "ami:AMI_ID", with the default credential chain.
func init() {
	target.Register("ebs", func(ctx context.Context, id string, opt target.Options) (*target.Target, error) {
		cfg, err := loadConfig(ctx, opt)
		if err != nil {
			return nil, err
		}
		return OpenSnapshotTarget(ctx, cfg, id, TargetOptions{Base: opt.Base})
	})
	target.Register("ami", func(ctx context.Context, id string, opt target.Options) (*target.Target, error) {
		cfg, err := loadConfig(ctx, opt)
		if err != nil {
			return nil, err
		}
		return OpenImageTarget(ctx, cfg, id, TargetOptions{Base: opt.Base})
	})
}

// TargetOptions tune OpenSnapshotTarget and OpenImageTarget. The zero value is usable.
type TargetOptions struct {
	Reader Options // per snapshot; Reader.Limiter defaults to the shared one of the caller's account and region
	// Rate is the GetSnapshotBlock ceiling of the shared limiter (default DefaultRate, AWS's
	// default quota); raise it with the account's quota.
	Rate float64
	// Caller is the caller's account id, which keys the shared limiter (AWS meters per account
	// and region); empty: asked of STS once.
	Caller string
	// Base makes an incremental scan of a snapshot: a base snapshot id, or "auto" for the previous
	// snapshot of the same volume (PreviousSnapshot). Only the files and free space on changed
	// blocks are read.
	Base string
	// OnReader is called with each snapshot reader opened, e.g. to collect its Stats.
	OnReader func(*Reader)
	// EC2 and EBS replace the clients made from cfg (tests).
	EC2 EC2API
	EBS API
}

// OpenSnapshotTarget opens one EBS snapshot as a scan target, with a caller's ready config (the
// audit's per-account credentials). The target's Close closes the reader.
func OpenSnapshotTarget(ctx context.Context, cfg aws.Config, snapID string, opt TargetOptions) (*target.Target, error) {
	o := opener{cfg: cfg, opt: opt}
	o.init(ctx)
	return o.snapshot(ctx, snapID, "ebs:"+snapID, opt.Base)
}

// OpenImageTarget opens every EBS volume of an AMI's block device mappings as one target: the
// mounts of device /dev/sda1 are named "sda1/p1", "sda1/vg0/root"...
func OpenImageTarget(ctx context.Context, cfg aws.Config, amiID string, opt TargetOptions) (*target.Target, error) {
	o := opener{cfg: cfg, opt: opt}
	o.init(ctx)
	out, err := o.ec2.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{amiID}})
	if err != nil {
		return nil, fmt.Errorf("ami:%s: %w", amiID, err)
	}
	if len(out.Images) == 0 {
		return nil, fmt.Errorf("ami:%s: not found in %s, or not visible to the caller", amiID, cfg.Region)
	}
	img := out.Images[0]
	bases, err := o.imageBases(ctx, amiID, opt.Base)
	if err != nil {
		return nil, err
	}
	merged := &target.Target{Spec: "ami:" + amiID, Format: "ebs", Resource: finding.Resource{
		Provider: "aws", Account: aws.ToString(img.OwnerId), Region: cfg.Region, Type: "ami", ID: amiID,
		ARN: "arn:aws:ec2:" + cfg.Region + "::image/" + amiID}}
	opened := 0
	for _, bd := range img.BlockDeviceMappings {
		dev := strings.TrimPrefix(aws.ToString(bd.DeviceName), "/dev/")
		if bd.Ebs == nil || bd.Ebs.SnapshotId == nil {
			continue // instance-store and empty volumes hold nothing of the image
		}
		snap := *bd.Ebs.SnapshotId
		t, err := o.snapshot(ctx, snap, "ebs:"+snap, bases.of(dev))
		if err != nil {
			merged.Unreadable = append(merged.Unreadable, target.Unreadable{Volume: dev, Kind: "ebs", Problem: err.Error()})
			continue
		}
		opened++
		merged.AddCloser(t.Close)
		if t.SourceStats != nil {
			prev, more := merged.SourceStats, t.SourceStats
			merged.SourceStats = func() []any {
				var out []any
				if prev != nil {
					out = prev()
				}
				return append(out, more()...)
			}
		}
		for _, m := range t.Mounts {
			m.Volume = dev + "/" + m.Volume
			merged.Mounts = append(merged.Mounts, m)
		}
		for _, u := range t.Unreadable {
			u.Volume = dev + "/" + u.Volume
			merged.Unreadable = append(merged.Unreadable, u)
		}
		for _, w := range t.Warnings {
			merged.Warnings = append(merged.Warnings, dev+" ("+snap+"): "+w)
		}
	}
	if opened == 0 && len(merged.Unreadable) == 0 {
		return nil, fmt.Errorf("ami:%s: no EBS snapshot in its block device mappings", amiID)
	}
	return merged, nil
}

// imageBases says what each volume of an AMI is compared with for an incremental scan: "auto"
// (each volume against the previous snapshot of its own volume), or another AMI, whose volumes
// are matched by device name. A device the base AMI lacks is scanned in full.
type imageBases struct {
	all   string            // "auto", or ""
	byDev map[string]string // device → base snapshot
}

func (b imageBases) of(dev string) string {
	if b.all != "" {
		return b.all
	}
	return b.byDev[dev]
}

func (o *opener) imageBases(ctx context.Context, amiID, base string) (imageBases, error) {
	switch {
	case base == "" || base == "auto":
		return imageBases{all: base}, nil
	case !strings.HasPrefix(base, "ami-"):
		return imageBases{}, fmt.Errorf("ami:%s: --base is auto or the id of an earlier AMI, not %q", amiID, base)
	}
	out, err := o.ec2.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{base}})
	if err != nil {
		return imageBases{}, fmt.Errorf("ami:%s: --base %s: %w", amiID, base, err)
	}
	if len(out.Images) == 0 {
		return imageBases{}, fmt.Errorf("ami:%s: --base %s: not found in %s, or not visible to the caller", amiID, base, o.cfg.Region)
	}
	b := imageBases{byDev: map[string]string{}}
	for _, bd := range out.Images[0].BlockDeviceMappings {
		if bd.Ebs != nil && bd.Ebs.SnapshotId != nil {
			b.byDev[strings.TrimPrefix(aws.ToString(bd.DeviceName), "/dev/")] = *bd.Ebs.SnapshotId
		}
	}
	return b, nil
}

// opener holds the clients and identity shared by the volumes of one target.
type opener struct {
	cfg    aws.Config
	opt    TargetOptions
	ec2    EC2API
	ebs    API
	caller string // account id
	arn    string
}

func (o *opener) init(ctx context.Context) {
	o.ec2, o.ebs, o.caller = o.opt.EC2, o.opt.EBS, o.opt.Caller
	if o.ec2 == nil {
		o.ec2 = ec2.NewFromConfig(o.cfg)
	}
	if o.ebs == nil {
		o.ebs = NewClient(o.cfg, o.opt.Reader.Concurrency)
	}
	if o.caller == "" {
		// Only for the limiter's key and better errors: a caller without sts rights still scans.
		if id, err := sts.NewFromConfig(o.cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err == nil {
			o.caller, o.arn = aws.ToString(id.Account), aws.ToString(id.Arn)
		}
	}
}

// snapshot opens one snapshot: its record (for the resource and errors), the reader, the changed
// blocks against base when asked, and the disk stack over the reader.
func (o *opener) snapshot(ctx context.Context, id, spec, base string) (*target.Target, error) {
	rec, derr := describeSnapshot(ctx, o.ec2, id)
	if rec != nil && rec.State != "" && rec.State != ec2types.SnapshotStateCompleted {
		return nil, fmt.Errorf("%s: snapshot is %s: the EBS direct API reads completed snapshots only", spec, rec.State)
	}
	ropt := o.opt.Reader
	if ropt.Limiter == nil {
		ropt.Limiter = SharedLimiter(o.caller, o.cfg.Region, o.opt.Rate)
	}
	r, err := Open(ctx, o.ebs, id, ropt)
	if err != nil {
		return nil, o.explainOpen(spec, rec, derr, err)
	}
	if o.opt.OnReader != nil {
		o.opt.OnReader(r)
	}
	res := finding.Resource{Provider: "aws", Region: o.cfg.Region, Type: "ebs-snapshot", ID: id,
		ARN: "arn:aws:ec2:" + o.cfg.Region + "::snapshot/" + id}
	if rec != nil {
		res.Account = aws.ToString(rec.OwnerId)
	}
	var changed *Changed
	var note string
	if base != "" {
		if changed, note, err = o.changed(ctx, id, base, rec); err != nil {
			r.Close()
			return nil, fmt.Errorf("%s: %w", spec, err)
		}
	}
	t, err := target.FromDisk(spec, res, "ebs", r, r.Size())
	if err != nil {
		r.Close()
		return nil, fmt.Errorf("%s: %w", spec, err)
	}
	t.AddCloser(r.Close)
	t.SourceStats = func() []any { return []any{r.Stats()} }
	if note != "" {
		t.Warnings = append(t.Warnings, note)
	}
	if changed != nil {
		for i := range t.Mounts {
			t.Mounts[i].Changed = changed.VolumeFunc(t.Mounts[i].Reader, r)
		}
	}
	return t, nil
}

// changed resolves the base ("auto": the previous snapshot of the volume) and lists the changed
// blocks; without a previous snapshot the scan is a full one, and says so.
func (o *opener) changed(ctx context.Context, id, base string, rec *ec2types.Snapshot) (*Changed, string, error) {
	if base == "auto" {
		if rec == nil {
			return nil, "", fmt.Errorf("--base auto needs ec2:DescribeSnapshots on %s to find its volume", id)
		}
		prev, err := PreviousSnapshot(ctx, o.ec2, rec)
		if err != nil {
			return nil, "", err
		}
		if prev == "" {
			return nil, "incremental: no earlier completed snapshot of " + aws.ToString(rec.VolumeId) + " owned by the caller: full scan", nil
		}
		base = prev
	}
	c, err := ListChanged(ctx, o.ebs, base, id)
	if err != nil {
		var ve *ebstypes.ValidationException
		if errors.As(err, &ve) && ve.Reason == ebstypes.ValidationExceptionReasonUnrelatedSnapshots {
			return nil, "", fmt.Errorf("--base %s is not of the same volume lineage: %w", base, err)
		}
		return nil, "", err
	}
	return c, fmt.Sprintf("incremental: %d blocks changed since %s; only files and free space on them are read", c.Count(), base), nil
}

// explainOpen adds what the snapshot's record tells to a failed open: the key of an encrypted
// snapshot, or that a public snapshot cannot be read through EBS direct.
func (o *opener) explainOpen(spec string, rec *ec2types.Snapshot, derr, err error) error {
	var ke *KeyAccessError
	if errors.As(err, &ke) {
		ke.Caller = o.arn
		if rec != nil {
			ke.Key = aws.ToString(rec.KmsKeyId)
		}
		return err
	}
	var nf *ebstypes.ResourceNotFoundException
	if rec != nil && errors.As(err, &nf) && aws.ToString(rec.OwnerId) != o.caller && o.caller != "" {
		return &PublicSnapshotError{Snapshot: aws.ToString(rec.SnapshotId), Owner: aws.ToString(rec.OwnerId), Region: o.cfg.Region}
	}
	if derr != nil && rec == nil {
		return fmt.Errorf("%s: %w (and ec2:DescribeSnapshots failed: %v)", spec, err, derr)
	}
	return err
}
