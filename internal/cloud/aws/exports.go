package aws

import (
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/snapwatch/snapwatch/internal/inventory"
)

// readExports lists the tasks that wrote an AMI or instance to S3: store-image tasks (listed
// for 31 days only), export-image tasks and instance export tasks. Who owns each bucket, and
// whether it is public, is resolved once for the whole audit (resolveBuckets).
func (s *scope) readExports(ctx context.Context) {
	var out []inventory.ExportTask
	add := func(t inventory.ExportTask) {
		t.Provider, t.Account, t.Region = inventory.AWS, s.account, s.region
		out = append(out, t)
	}
	ps := ec2.NewDescribeStoreImageTasksPaginator(s.ec2, &ec2.DescribeStoreImageTasksInput{MaxResults: aws.Int32(200)})
	for ps.HasMorePages() {
		page, err := ps.NextPage(ctx)
		if err != nil {
			s.fail("ec2:DescribeStoreImageTasks", err)
			break
		}
		for _, t := range page.StoreImageTaskResults {
			img := aws.ToString(t.AmiId)
			add(inventory.ExportTask{ID: "store-" + img + "-" + aws.ToTime(t.TaskStartTime).UTC().Format("20060102T150405"),
				Kind: inventory.ExportStoreImage, Source: img, Bucket: aws.ToString(t.Bucket), Key: aws.ToString(t.S3objectKey),
				State: aws.ToString(t.StoreTaskState), Created: aws.ToTime(t.TaskStartTime)})
		}
	}
	pe := ec2.NewDescribeExportImageTasksPaginator(s.ec2, &ec2.DescribeExportImageTasksInput{MaxResults: aws.Int32(500)})
	for pe.HasMorePages() {
		page, err := pe.NextPage(ctx)
		if err != nil {
			s.fail("ec2:DescribeExportImageTasks", err)
			break
		}
		for _, t := range page.ExportImageTasks {
			var bucket, key string
			if l := t.S3ExportLocation; l != nil {
				bucket, key = aws.ToString(l.S3Bucket), aws.ToString(l.S3Prefix)
			}
			add(inventory.ExportTask{ID: aws.ToString(t.ExportImageTaskId), Kind: inventory.ExportImage, Source: aws.ToString(t.ImageId),
				Bucket: bucket, Key: key, State: aws.ToString(t.Status)})
		}
	}
	// DescribeExportTasks has no pagination: one call answers every instance export task.
	it, err := s.ec2.DescribeExportTasks(ctx, &ec2.DescribeExportTasksInput{})
	if err != nil {
		s.fail("ec2:DescribeExportTasks", err)
	} else {
		for _, t := range it.ExportTasks {
			var bucket, key, src string
			if l := t.ExportToS3Task; l != nil {
				bucket, key = aws.ToString(l.S3Bucket), aws.ToString(l.S3Key)
			}
			if x := t.InstanceExportDetails; x != nil {
				src = aws.ToString(x.InstanceId)
			}
			add(inventory.ExportTask{ID: aws.ToString(t.ExportTaskId), Kind: inventory.ExportInstance, Source: src,
				Bucket: bucket, Key: key, State: strings.ToLower(string(t.State))})
		}
	}
	s.mu.Lock()
	s.inv.Exports = append(s.inv.Exports, out...)
	s.mu.Unlock()
}
