package cloudsim

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// The permissions a snapshot or AMI had when deleted stay with its Recycle Bin entry, and the
// owner can read them; others cannot.
func TestRecycleBinPermissions(t *testing.T) {
	e, err := LoadEstate("testdata/estate.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range e.Accounts {
		if a.ID == "222222222222" {
			rb := &a.Regions["us-east-1"].RecycleBin
			rb.Snapshots[0].Permissions = &Permissions{Groups: []string{"all"}, UserIDs: []string{"999999999999"}}
			rb.Images[0].LaunchPermissions = &Permissions{OUARNs: []string{"arn:aws:organizations::999999999999:ou/o-x/ou-y"}}
		}
	}
	sim := startEstate(t, e, Options{})
	ctx := context.Background()
	owner := ec2.NewFromConfig(cfg(sim, keyProd, "us-east-1"))
	sa, err := owner.DescribeSnapshotAttribute(ctx, &ec2.DescribeSnapshotAttributeInput{SnapshotId: aws.String("snap-0a0000000000000d1"),
		Attribute: ec2types.SnapshotAttributeNameCreateVolumePermission})
	must(t, err)
	if len(sa.CreateVolumePermissions) != 2 || sa.CreateVolumePermissions[0].Group != ec2types.PermissionGroupAll ||
		aws.ToString(sa.CreateVolumePermissions[1].UserId) != "999999999999" {
		t.Errorf("snapshot permissions: %+v", sa.CreateVolumePermissions)
	}
	ia, err := owner.DescribeImageAttribute(ctx, &ec2.DescribeImageAttributeInput{ImageId: aws.String("ami-0a0000000000000d1"),
		Attribute: ec2types.ImageAttributeNameLaunchPermission})
	must(t, err)
	if len(ia.LaunchPermissions) != 1 || aws.ToString(ia.LaunchPermissions[0].OrganizationalUnitArn) == "" {
		t.Errorf("image permissions: %+v", ia.LaunchPermissions)
	}
	other := ec2.NewFromConfig(cfg(sim, keyDev, "us-east-1"))
	_, err = other.DescribeSnapshotAttribute(ctx, &ec2.DescribeSnapshotAttributeInput{SnapshotId: aws.String("snap-0a0000000000000d1"),
		Attribute: ec2types.SnapshotAttributeNameCreateVolumePermission})
	wantCode(t, err, "InvalidSnapshot.NotFound")
	if m := sim.MutatingCalls(); len(m) != 0 {
		t.Errorf("reads logged as mutating: %+v", m)
	}
}
