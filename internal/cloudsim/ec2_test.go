package cloudsim

import (
	"context"
	"errors"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"
)

var ctx = context.Background()

func snapIDs(ss []types.Snapshot) []string {
	var out []string
	for _, s := range ss {
		out = append(out, *s.SnapshotId)
	}
	sort.Strings(out)
	return out
}

func imageIDs(ims []types.Image) []string {
	var out []string
	for _, im := range ims {
		out = append(out, *im.ImageId)
	}
	sort.Strings(out)
	return out
}

func TestEC2Regions(t *testing.T) {
	sim := start(t, Options{})
	c := ec2.NewFromConfig(cfg(sim, keyProd, "us-east-1"))
	out, err := c.DescribeRegions(ctx, &ec2.DescribeRegionsInput{})
	must(t, err)
	var names []string
	for _, r := range out.Regions {
		names = append(names, *r.RegionName)
	}
	sort.Strings(names)
	if !slices.Equal(names, []string{"af-south-1", "eu-west-1", "us-east-1"}) {
		t.Fatalf("enabled regions %v", names)
	}
	out, err = c.DescribeRegions(ctx, &ec2.DescribeRegionsInput{AllRegions: aws.Bool(true),
		Filters: []types.Filter{{Name: aws.String("opt-in-status"), Values: []string{"not-opted-in"}}}})
	must(t, err)
	if len(out.Regions) != len(allRegions())-3 {
		t.Fatalf("not-opted-in: %d", len(out.Regions))
	}
	out, _ = c.DescribeRegions(ctx, &ec2.DescribeRegionsInput{RegionNames: []string{"af-south-1"}})
	if len(out.Regions) != 1 || *out.Regions[0].OptInStatus != "opted-in" || *out.Regions[0].Endpoint != "ec2.af-south-1.amazonaws.com" {
		t.Fatalf("%+v", out.Regions)
	}
	// A region the account has not enabled refuses the caller, as AWS does.
	_, err = ec2.NewFromConfig(cfg(sim, keyProd, "ap-south-1")).DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{})
	wantCode(t, err, "AuthFailure")
	// An unknown access key is refused too.
	_, err = ec2.NewFromConfig(cfg(sim, "AKIAUNKNOWN", "us-east-1")).DescribeRegions(ctx, &ec2.DescribeRegionsInput{})
	wantCode(t, err, "AuthFailure")
}

func TestEC2Snapshots(t *testing.T) {
	sim := start(t, Options{})
	prod := ec2.NewFromConfig(cfg(sim, keyProd, "us-east-1"))
	out, err := prod.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"}})
	must(t, err)
	if got := snapIDs(out.Snapshots); !slices.Equal(got, []string{"snap-0a000000000000001", "snap-0a000000000000002", "snap-0a000000000000003", "snap-0a000000000000004"}) {
		t.Fatalf("owned: %v", got)
	}
	var s1, s2 types.Snapshot
	for _, s := range out.Snapshots {
		switch *s.SnapshotId {
		case "snap-0a000000000000001":
			s1 = s
		case "snap-0a000000000000002":
			s2 = s
		}
	}
	if *s1.OwnerId != "222222222222" || *s1.VolumeSize != 8 || *s1.Encrypted || s1.State != types.SnapshotStateCompleted ||
		!s1.StartTime.Equal(time.Date(2023, 1, 15, 10, 0, 0, 0, time.UTC)) || *s1.Description != "nightly backup of db host" ||
		len(s1.Tags) != 2 || *s1.Tags[0].Key != "Name" || *s1.Progress != "100%" || s1.StorageTier != types.StorageTierStandard {
		t.Fatalf("snapshot fields: %+v", s1)
	}
	if !*s2.Encrypted || *s2.KmsKeyId != "arn:aws:kms:us-east-1:222222222222:key/0a000000-0000-4000-8000-000000000001" {
		t.Fatalf("kms key: %v", *s2.KmsKeyId)
	}

	// Public ones through the server-side filter.
	out, err = prod.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"}, RestorableByUserIds: []string{"all"}})
	must(t, err)
	if got := snapIDs(out.Snapshots); !slices.Equal(got, []string{"snap-0a000000000000001"}) {
		t.Fatalf("public: %v", got)
	}
	// An outsider enumerating every public snapshot of the region sees other owners' too.
	outside := ec2.NewFromConfig(cfg(sim, keyOutside, "us-east-1"))
	out, err = outside.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{RestorableByUserIds: []string{"all"}})
	must(t, err)
	if got := snapIDs(out.Snapshots); !slices.Equal(got, []string{"snap-0a000000000000001", "snap-0e000000000000001"}) {
		t.Fatalf("outsider public: %v", got)
	}
	out, err = outside.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"amazon"}})
	must(t, err)
	if got := snapIDs(out.Snapshots); !slices.Equal(got, []string{"snap-0e000000000000001"}) {
		t.Fatalf("owner alias: %v", got)
	}
	// Shared with the outsider explicitly.
	out, err = outside.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{RestorableByUserIds: []string{"self"}})
	must(t, err)
	if got := snapIDs(out.Snapshots); !slices.Equal(got, []string{"snap-0a000000000000002", "snap-0a000000000000004"}) {
		t.Fatalf("shared with outsider: %v", got)
	}
	// The owner asking which of its snapshots a given account may restore.
	out, err = prod.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"}, RestorableByUserIds: []string{"333333333333"}})
	must(t, err)
	if got := snapIDs(out.Snapshots); !slices.Equal(got, []string{"snap-0a000000000000002"}) {
		t.Fatalf("restorable by dev: %v", got)
	}

	// Filters, with wildcards and tags.
	out, err = prod.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"}, Filters: []types.Filter{
		{Name: aws.String("encrypted"), Values: []string{"true"}},
		{Name: aws.String("tag:env"), Values: []string{"pr*"}},
	}})
	must(t, err)
	if got := snapIDs(out.Snapshots); !slices.Equal(got, []string{"snap-0a000000000000003"}) {
		t.Fatalf("filters: %v", got)
	}
	_, err = prod.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{Filters: []types.Filter{{Name: aws.String("bogus"), Values: []string{"x"}}}})
	wantCode(t, err, "InvalidParameterValue")

	// By id; an id the caller cannot see does not exist for it.
	out, err = prod.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: []string{"snap-0a000000000000003"}})
	must(t, err)
	if len(out.Snapshots) != 1 {
		t.Fatal(out.Snapshots)
	}
	_, err = outside.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: []string{"snap-0a000000000000003"}})
	wantCode(t, err, "InvalidSnapshot.NotFound")
	var ae *smithy.GenericAPIError
	if !errors.As(err, &ae) {
		t.Fatalf("want *smithy.GenericAPIError, got %T", err)
	}
	_, err = prod.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{MaxResults: aws.Int32(4)})
	wantCode(t, err, "InvalidParameterValue")

	// Attributes: group all and user ids.
	attr, err := prod.DescribeSnapshotAttribute(ctx, &ec2.DescribeSnapshotAttributeInput{
		SnapshotId: aws.String("snap-0a000000000000001"), Attribute: types.SnapshotAttributeNameCreateVolumePermission})
	must(t, err)
	if len(attr.CreateVolumePermissions) != 1 || attr.CreateVolumePermissions[0].Group != types.PermissionGroupAll || *attr.SnapshotId != "snap-0a000000000000001" {
		t.Fatalf("%+v", attr.CreateVolumePermissions)
	}
	attr, err = prod.DescribeSnapshotAttribute(ctx, &ec2.DescribeSnapshotAttributeInput{
		SnapshotId: aws.String("snap-0a000000000000002"), Attribute: types.SnapshotAttributeNameCreateVolumePermission})
	must(t, err)
	if len(attr.CreateVolumePermissions) != 2 || *attr.CreateVolumePermissions[1].UserId != "999999999999" {
		t.Fatalf("%+v", attr.CreateVolumePermissions)
	}
	attr, err = prod.DescribeSnapshotAttribute(ctx, &ec2.DescribeSnapshotAttributeInput{
		SnapshotId: aws.String("snap-0a000000000000003"), Attribute: types.SnapshotAttributeNameProductCodes})
	must(t, err)
	if len(attr.CreateVolumePermissions) != 0 || len(attr.ProductCodes) != 0 {
		t.Fatalf("%+v", attr)
	}
	_, err = outside.DescribeSnapshotAttribute(ctx, &ec2.DescribeSnapshotAttributeInput{
		SnapshotId: aws.String("snap-0a000000000000002"), Attribute: types.SnapshotAttributeNameCreateVolumePermission})
	wantCode(t, err, "UnauthorizedOperation")
}

// A generated region of 2,500 snapshots walked by the SDK's paginator at 1,000 a page.
func TestEC2SnapshotPagination(t *testing.T) {
	e := GenerateEstate(GenSpec{Accounts: 2, Regions: []string{"us-east-1"}, Snapshots: 5000, Images: 600, PublicFraction: 0.1})
	sim := startEstate(t, e, Options{})
	c := ec2.NewFromConfig(cfg(sim, GeneratedAccessKey, "us-east-1"))
	p := ec2.NewDescribeSnapshotsPaginator(c, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"}, MaxResults: aws.Int32(1000)})
	seen := map[string]bool{}
	pages := 0
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		must(t, err)
		pages++
		for _, s := range page.Snapshots {
			if seen[*s.SnapshotId] || *s.OwnerId != "100000000001" {
				t.Fatalf("duplicate or foreign %s", *s.SnapshotId)
			}
			seen[*s.SnapshotId] = true
		}
	}
	if len(seen) != 2500 || pages != 3 {
		t.Fatalf("%d snapshots in %d pages", len(seen), pages)
	}
	// Public ones of every owner, across the account boundary, in pages of 5.
	want := 0
	for _, a := range e.Accounts {
		for _, s := range a.Regions["us-east-1"].Snapshots {
			if snapPublic(&s) {
				want++
			}
		}
	}
	p = ec2.NewDescribeSnapshotsPaginator(c, &ec2.DescribeSnapshotsInput{RestorableByUserIds: []string{"all"}, MaxResults: aws.Int32(100)})
	got := 0
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		must(t, err)
		got += len(page.Snapshots)
	}
	if got != want || want < 300 {
		t.Fatalf("public: %d of %d", got, want)
	}
	ip := ec2.NewDescribeImagesPaginator(c, &ec2.DescribeImagesInput{Owners: []string{"self"}, MaxResults: aws.Int32(100)})
	got = 0
	for ip.HasMorePages() {
		page, err := ip.NextPage(ctx)
		must(t, err)
		got += len(page.Images)
	}
	if got != 300 {
		t.Fatalf("images %d", got)
	}
	_, err := c.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{NextToken: aws.String("bm90IGEgdG9rZW4")})
	wantCode(t, err, "InvalidPaginationToken")
}

func TestEC2Images(t *testing.T) {
	sim := start(t, Options{Now: func() time.Time { return time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC) }})
	prod := ec2.NewFromConfig(cfg(sim, keyProd, "us-east-1"))
	out, err := prod.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"self"}})
	must(t, err)
	// The owner sees its deprecated AMI; the disabled one only with IncludeDisabled.
	if got := imageIDs(out.Images); !slices.Equal(got, []string{"ami-0a000000000000001", "ami-0a000000000000002", "ami-0a000000000000003", "ami-0a000000000000004"}) {
		t.Fatalf("owned: %v", got)
	}
	out, err = prod.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"self"}, IncludeDisabled: aws.Bool(true), IncludeDeprecated: aws.Bool(true)})
	must(t, err)
	if len(out.Images) != 5 {
		t.Fatalf("with disabled: %v", imageIDs(out.Images))
	}
	for _, im := range out.Images {
		switch *im.ImageId {
		case "ami-0a000000000000001":
			if !*im.Public || *im.OwnerId != "222222222222" || *im.Name != "web-2023" || *im.CreationDate != "2023-01-16T00:00:00.000Z" ||
				len(im.BlockDeviceMappings) != 1 || *im.BlockDeviceMappings[0].Ebs.SnapshotId != "snap-0a000000000000001" ||
				*im.BlockDeviceMappings[0].Ebs.VolumeSize != 8 || *im.BlockDeviceMappings[0].DeviceName != "/dev/xvda" || im.State != types.ImageStateAvailable {
				t.Fatalf("image fields %+v", im)
			}
		case "ami-0a000000000000003":
			if len(im.BlockDeviceMappings) != 2 || !*im.BlockDeviceMappings[1].Ebs.Encrypted || *im.BlockDeviceMappings[1].DeviceName != "/dev/sdf" {
				t.Fatalf("bdm %+v", im.BlockDeviceMappings)
			}
		case "ami-0a000000000000004":
			if *im.DeprecationTime != "2024-01-01T00:00:00.000Z" {
				t.Fatal(*im.DeprecationTime)
			}
		case "ami-0a000000000000005":
			if im.State != types.ImageStateDisabled {
				t.Fatal(im.State)
			}
		}
	}
	out, err = prod.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"self"}, ExecutableUsers: []string{"all"}})
	must(t, err)
	if got := imageIDs(out.Images); !slices.Equal(got, []string{"ami-0a000000000000001", "ami-0a000000000000004"}) {
		t.Fatalf("public: %v", got)
	}
	out, err = prod.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"self"}, Filters: []types.Filter{{Name: aws.String("is-public"), Values: []string{"false"}}}})
	must(t, err)
	if got := imageIDs(out.Images); !slices.Equal(got, []string{"ami-0a000000000000002", "ami-0a000000000000003"}) {
		t.Fatalf("is-public=false: %v", got)
	}
	// Dev is in the org and in the Dev OU: it sees the org- and OU-shared AMIs through
	// ExecutableBy=self; the outsider does not. Deprecated public AMIs of others are hidden.
	dev := ec2.NewFromConfig(cfg(sim, keyDev, "us-east-1"))
	out, err = dev.DescribeImages(ctx, &ec2.DescribeImagesInput{ExecutableUsers: []string{"self"}})
	must(t, err)
	if got := imageIDs(out.Images); !slices.Equal(got, []string{"ami-0a000000000000002", "ami-0a000000000000003"}) {
		t.Fatalf("dev shared: %v", got)
	}
	outside := ec2.NewFromConfig(cfg(sim, keyOutside, "us-east-1"))
	out, err = outside.DescribeImages(ctx, &ec2.DescribeImagesInput{ExecutableUsers: []string{"all"}})
	must(t, err)
	if got := imageIDs(out.Images); !slices.Equal(got, []string{"ami-0a000000000000001", "ami-0e000000000000001", "ami-0f000000000000001"}) {
		t.Fatalf("outsider public: %v", got)
	}
	out, err = outside.DescribeImages(ctx, &ec2.DescribeImagesInput{ExecutableUsers: []string{"all"}, IncludeDeprecated: aws.Bool(true), Owners: []string{"222222222222"}})
	must(t, err)
	if got := imageIDs(out.Images); !slices.Equal(got, []string{"ami-0a000000000000001", "ami-0a000000000000004"}) {
		t.Fatalf("outsider with deprecated: %v", got)
	}
	out, err = outside.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"amazon"}})
	must(t, err)
	if len(out.Images) != 1 || *out.Images[0].ImageOwnerAlias != "amazon" || *out.Images[0].OwnerId != "137112412989" {
		t.Fatalf("amazon: %+v", out.Images)
	}
	_, err = outside.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{"ami-0a000000000000002"}})
	wantCode(t, err, "InvalidAMIID.NotFound")

	// Launch permissions with every kind of grantee.
	for id, want := range map[string]types.LaunchPermission{
		"ami-0a000000000000001": {Group: types.PermissionGroupAll},
		"ami-0a000000000000002": {OrganizationArn: aws.String("arn:aws:organizations::111111111111:organization/o-example0001")},
		"ami-0a000000000000003": {OrganizationalUnitArn: aws.String("arn:aws:organizations::111111111111:ou/o-example0001/ou-exam-dev00001")},
	} {
		a, err := prod.DescribeImageAttribute(ctx, &ec2.DescribeImageAttributeInput{ImageId: aws.String(id), Attribute: types.ImageAttributeNameLaunchPermission})
		must(t, err)
		if len(a.LaunchPermissions) != 1 || a.LaunchPermissions[0].Group != want.Group ||
			aws.ToString(a.LaunchPermissions[0].OrganizationArn) != aws.ToString(want.OrganizationArn) ||
			aws.ToString(a.LaunchPermissions[0].OrganizationalUnitArn) != aws.ToString(want.OrganizationalUnitArn) {
			t.Fatalf("%s: %+v", id, a.LaunchPermissions)
		}
	}
	_, err = prod.DescribeImageAttribute(ctx, &ec2.DescribeImageAttributeInput{ImageId: aws.String("ami-0f000000000000001"), Attribute: types.ImageAttributeNameLaunchPermission})
	wantCode(t, err, "AuthFailure")
}

func TestEC2VolumesInstancesTemplates(t *testing.T) {
	sim := start(t, Options{})
	c := ec2.NewFromConfig(cfg(sim, keyProd, "us-east-1"))
	vols, err := c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{})
	must(t, err)
	if len(vols.Volumes) != 2 || vols.Volumes[0].State != types.VolumeStateInUse || *vols.Volumes[0].Attachments[0].InstanceId != "i-0a000000000000001" ||
		vols.Volumes[1].State != types.VolumeStateAvailable || *vols.Volumes[1].Size != 16 {
		t.Fatalf("%+v", vols.Volumes)
	}
	vols, err = c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{Filters: []types.Filter{{Name: aws.String("snapshot-id"), Values: []string{"snap-0a000000000000001"}}}})
	must(t, err)
	if len(vols.Volumes) != 1 {
		t.Fatal(vols.Volumes)
	}
	_, err = c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{"vol-0deadbeef"}})
	wantCode(t, err, "InvalidVolume.NotFound")
	ins, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
	must(t, err)
	in := ins.Reservations[0].Instances[0]
	if *in.InstanceId != "i-0a000000000000001" || *in.ImageId != "ami-0a000000000000001" || in.State.Name != types.InstanceStateNameRunning ||
		*in.BlockDeviceMappings[0].Ebs.VolumeId != "vol-0a000000000000003" {
		t.Fatalf("%+v", in)
	}
	lt, err := c.DescribeLaunchTemplateVersions(ctx, &ec2.DescribeLaunchTemplateVersionsInput{Versions: []string{"$Latest", "$Default"}})
	must(t, err)
	if len(lt.LaunchTemplateVersions) != 1 || *lt.LaunchTemplateVersions[0].VersionNumber != 2 || !*lt.LaunchTemplateVersions[0].DefaultVersion ||
		*lt.LaunchTemplateVersions[0].LaunchTemplateData.BlockDeviceMappings[0].Ebs.SnapshotId != "snap-0a000000000000002" {
		t.Fatalf("%+v", lt.LaunchTemplateVersions)
	}
	lt, err = c.DescribeLaunchTemplateVersions(ctx, &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateName: aws.String("web")})
	must(t, err)
	if len(lt.LaunchTemplateVersions) != 2 {
		t.Fatal(lt.LaunchTemplateVersions)
	}
	_, err = c.DescribeLaunchTemplateVersions(ctx, &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateId: aws.String("lt-0nothere")})
	wantCode(t, err, "InvalidLaunchTemplateId.NotFound")
}

func TestEC2GuardsBinsTasks(t *testing.T) {
	sim := start(t, Options{})
	use1 := ec2.NewFromConfig(cfg(sim, keyProd, "us-east-1"))
	euw1 := ec2.NewFromConfig(cfg(sim, keyProd, "eu-west-1"))
	bpa, err := use1.GetSnapshotBlockPublicAccessState(ctx, &ec2.GetSnapshotBlockPublicAccessStateInput{})
	must(t, err)
	if bpa.State != types.SnapshotBlockPublicAccessStateUnblocked || bpa.ManagedBy != types.ManagedByAccount {
		t.Fatalf("%+v", bpa)
	}
	bpa, err = euw1.GetSnapshotBlockPublicAccessState(ctx, &ec2.GetSnapshotBlockPublicAccessStateInput{})
	must(t, err)
	if bpa.State != types.SnapshotBlockPublicAccessStateBlockAllSharing || bpa.ManagedBy != types.ManagedByDeclarativePolicy {
		t.Fatalf("%+v", bpa)
	}
	ibpa, err := euw1.GetImageBlockPublicAccessState(ctx, &ec2.GetImageBlockPublicAccessStateInput{})
	must(t, err)
	if *ibpa.ImageBlockPublicAccessState != "block-new-sharing" || ibpa.ManagedBy != types.ManagedByAccount {
		t.Fatalf("%+v", ibpa)
	}
	enc, err := euw1.GetEbsEncryptionByDefault(ctx, &ec2.GetEbsEncryptionByDefaultInput{})
	must(t, err)
	key, err2 := euw1.GetEbsDefaultKmsKeyId(ctx, &ec2.GetEbsDefaultKmsKeyIdInput{})
	must(t, err2)
	if !*enc.EbsEncryptionByDefault || enc.SseType != types.SSETypeSseEbs || *key.KmsKeyId != "arn:aws:kms:eu-west-1:222222222222:key/"+uuidFrom("222222222222eu-west-1aws/ebs") {
		t.Fatalf("%+v %v", enc, *key.KmsKeyId)
	}
	key, err = use1.GetEbsDefaultKmsKeyId(ctx, &ec2.GetEbsDefaultKmsKeyIdInput{})
	must(t, err)
	if *key.KmsKeyId != "alias/aws/ebs" {
		t.Fatal(*key.KmsKeyId)
	}

	rb, err := use1.ListSnapshotsInRecycleBin(ctx, &ec2.ListSnapshotsInRecycleBinInput{})
	must(t, err)
	ri, err2 := use1.ListImagesInRecycleBin(ctx, &ec2.ListImagesInRecycleBinInput{})
	must(t, err2)
	if len(rb.Snapshots) != 1 || *rb.Snapshots[0].SnapshotId != "snap-0a0000000000000d1" || rb.Snapshots[0].RecycleBinExitTime == nil ||
		len(ri.Images) != 1 || *ri.Images[0].Name != "deleted-web" {
		t.Fatalf("%+v %+v", rb.Snapshots, ri.Images)
	}
	st, err := use1.DescribeStoreImageTasks(ctx, &ec2.DescribeStoreImageTasksInput{})
	must(t, err)
	if len(st.StoreImageTaskResults) != 1 || *st.StoreImageTaskResults[0].Bucket != "prod-exports" || *st.StoreImageTaskResults[0].S3objectKey != "ami-0a000000000000001.bin" {
		t.Fatalf("%+v", st.StoreImageTaskResults)
	}
	ex, err := use1.DescribeExportImageTasks(ctx, &ec2.DescribeExportImageTasksInput{})
	must(t, err)
	if len(ex.ExportImageTasks) != 1 || *ex.ExportImageTasks[0].S3ExportLocation.S3Bucket != "prod-exports" || *ex.ExportImageTasks[0].S3ExportLocation.S3Prefix != "images/" {
		t.Fatalf("%+v", ex.ExportImageTasks)
	}
	et, err := use1.DescribeExportTasks(ctx, &ec2.DescribeExportTasksInput{})
	must(t, err)
	if len(et.ExportTasks) != 1 || *et.ExportTasks[0].ExportToS3Task.S3Bucket != "prod-exports" || *et.ExportTasks[0].InstanceExportDetails.InstanceId != "i-0a000000000000001" {
		t.Fatalf("%+v", et.ExportTasks)
	}
}

// The fix-side calls change the estate, obey the guards, and are logged as mutating; the
// describes are not.
func TestEC2Mutations(t *testing.T) {
	sim := start(t, Options{})
	c := ec2.NewFromConfig(cfg(sim, keyProd, "us-east-1"))
	euw1 := ec2.NewFromConfig(cfg(sim, keyProd, "eu-west-1"))
	must(t, func() error {
		_, err := c.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"}})
		return err
	}())
	if len(sim.MutatingCalls()) != 0 {
		t.Fatal("a describe was logged as mutating")
	}
	// Dry run: answered DryRunOperation, nothing changes, not a mutation.
	_, err := c.ModifySnapshotAttribute(ctx, &ec2.ModifySnapshotAttributeInput{SnapshotId: aws.String("snap-0a000000000000001"), DryRun: aws.Bool(true),
		CreateVolumePermission: &types.CreateVolumePermissionModifications{Remove: []types.CreateVolumePermission{{Group: types.PermissionGroupAll}}}})
	wantCode(t, err, "DryRunOperation")
	if len(sim.MutatingCalls()) != 0 {
		t.Fatal("dry run logged as mutating")
	}
	_, err = c.ModifySnapshotAttribute(ctx, &ec2.ModifySnapshotAttributeInput{SnapshotId: aws.String("snap-0a000000000000001"),
		CreateVolumePermission: &types.CreateVolumePermissionModifications{Remove: []types.CreateVolumePermission{{Group: types.PermissionGroupAll}}}})
	must(t, err)
	snap := &sim.Estate().Accounts[1].Regions["us-east-1"].Snapshots[0]
	if snapPublic(snap) {
		t.Fatal("still public")
	}
	// The flat OperationType form.
	_, err = c.ModifySnapshotAttribute(ctx, &ec2.ModifySnapshotAttributeInput{SnapshotId: aws.String("snap-0a000000000000002"),
		Attribute: types.SnapshotAttributeNameCreateVolumePermission, OperationType: types.OperationTypeRemove, UserIds: []string{"999999999999"}})
	must(t, err)
	a, _ := c.DescribeSnapshotAttribute(ctx, &ec2.DescribeSnapshotAttributeInput{SnapshotId: aws.String("snap-0a000000000000002"), Attribute: types.SnapshotAttributeNameCreateVolumePermission})
	if len(a.CreateVolumePermissions) != 1 || *a.CreateVolumePermissions[0].UserId != "333333333333" {
		t.Fatalf("%+v", a.CreateVolumePermissions)
	}
	// Encrypted snapshots cannot be made public.
	_, err = c.ModifySnapshotAttribute(ctx, &ec2.ModifySnapshotAttributeInput{SnapshotId: aws.String("snap-0a000000000000003"),
		CreateVolumePermission: &types.CreateVolumePermissionModifications{Add: []types.CreateVolumePermission{{Group: types.PermissionGroupAll}}}})
	wantCode(t, err, "InvalidParameterValue")
	_, err = c.ResetSnapshotAttribute(ctx, &ec2.ResetSnapshotAttributeInput{SnapshotId: aws.String("snap-0a000000000000004"), Attribute: types.SnapshotAttributeNameCreateVolumePermission})
	must(t, err)
	// AMIs: remove public, add an OU.
	_, err = c.ModifyImageAttribute(ctx, &ec2.ModifyImageAttributeInput{ImageId: aws.String("ami-0a000000000000001"),
		LaunchPermission: &types.LaunchPermissionModifications{
			Remove: []types.LaunchPermission{{Group: types.PermissionGroupAll}},
			Add:    []types.LaunchPermission{{OrganizationalUnitArn: aws.String("arn:aws:organizations::111111111111:ou/o-example0001/ou-exam-prod0001")}}}})
	must(t, err)
	ia, _ := c.DescribeImageAttribute(ctx, &ec2.DescribeImageAttributeInput{ImageId: aws.String("ami-0a000000000000001"), Attribute: types.ImageAttributeNameLaunchPermission})
	if len(ia.LaunchPermissions) != 1 || ia.LaunchPermissions[0].OrganizationalUnitArn == nil {
		t.Fatalf("%+v", ia.LaunchPermissions)
	}
	// Guards: enable in us-east-1; eu-west-1's are held by a declarative policy.
	eb, err := c.EnableSnapshotBlockPublicAccess(ctx, &ec2.EnableSnapshotBlockPublicAccessInput{State: types.SnapshotBlockPublicAccessStateBlockAllSharing})
	must(t, err)
	if eb.State != types.SnapshotBlockPublicAccessStateBlockAllSharing {
		t.Fatal(eb.State)
	}
	_, err = c.ModifySnapshotAttribute(ctx, &ec2.ModifySnapshotAttributeInput{SnapshotId: aws.String("snap-0a000000000000001"),
		CreateVolumePermission: &types.CreateVolumePermissionModifications{Add: []types.CreateVolumePermission{{Group: types.PermissionGroupAll}}}})
	wantCode(t, err, "OperationNotPermitted")
	_, err = euw1.EnableSnapshotBlockPublicAccess(ctx, &ec2.EnableSnapshotBlockPublicAccessInput{State: types.SnapshotBlockPublicAccessStateBlockNewSharing})
	wantCode(t, err, "UnauthorizedOperation")
	ib, err := c.EnableImageBlockPublicAccess(ctx, &ec2.EnableImageBlockPublicAccessInput{ImageBlockPublicAccessState: types.ImageBlockPublicAccessEnabledStateBlockNewSharing})
	must(t, err)
	if ib.ImageBlockPublicAccessState != types.ImageBlockPublicAccessEnabledStateBlockNewSharing {
		t.Fatal(ib.ImageBlockPublicAccessState)
	}
	ee, err := c.EnableEbsEncryptionByDefault(ctx, &ec2.EnableEbsEncryptionByDefaultInput{})
	must(t, err)
	if !*ee.EbsEncryptionByDefault || !sim.Estate().Accounts[1].Regions["us-east-1"].Guards.EncryptionByDefault {
		t.Fatal("encryption by default not on")
	}
	// A guard in a region without resources shows in the estate too.
	dev := ec2.NewFromConfig(cfg(sim, keyDev, "us-east-1"))
	_, err = dev.EnableSnapshotBlockPublicAccess(ctx, &ec2.EnableSnapshotBlockPublicAccessInput{State: types.SnapshotBlockPublicAccessStateBlockNewSharing})
	must(t, err)
	if sim.Estate().Accounts[2].Regions["us-east-1"].Guards.SnapshotBPA != "block-new-sharing" {
		t.Fatal("dev guard not in estate")
	}

	var muts []string
	for _, m := range sim.MutatingCalls() {
		muts = append(muts, m.Action)
		if m.Service != "ec2" || m.Region == "" || m.Account == "" || m.Time.IsZero() {
			t.Fatalf("%+v", m)
		}
	}
	want := []string{"ModifySnapshotAttribute", "ModifySnapshotAttribute", "ModifySnapshotAttribute", "ResetSnapshotAttribute", "ModifyImageAttribute",
		"EnableSnapshotBlockPublicAccess", "ModifySnapshotAttribute", "EnableSnapshotBlockPublicAccess", "EnableImageBlockPublicAccess",
		"EnableEbsEncryptionByDefault", "EnableSnapshotBlockPublicAccess"}
	if !slices.Equal(muts, want) {
		t.Fatalf("mutating calls %v", muts)
	}
	if n := sim.CallCounts()["ec2:DescribeSnapshotAttribute"]; n != 1 {
		t.Fatalf("counts %v", sim.CallCounts())
	}
}
