// Package corpus generates synthetic CloudTrail logs for benchmarks: records shaped like real
// S3-delivered trail files (compact JSON, the field order CloudTrail writes), a mix of event
// names and sizes modelled on the Invictus dataset (about 1.2 KB a record on average, from 0.9
// to 5 KB), and a few leak events whose ids are returned as ground truth. Output is
// deterministic for a seed.
package corpus

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"
)

// Leak is one injected event a detector should flag.
type Leak struct {
	EventID   string `json:"event_id"`
	EventName string `json:"event_name"`
	Resource  string `json:"resource"`
	Grantee   string `json:"grantee"`
}

// Generator writes records. It is not safe for concurrent use.
type Generator struct {
	rng     *rand.Rand
	t       time.Time
	Account string
	Region  string
	// LeakEvery injects one leak event in about this many records (0: none).
	LeakEvery int
	Leaks     []Leak
	total     int
}

// New returns a generator for one account and region.
func New(seed uint64, account, region string, start time.Time) *Generator {
	return &Generator{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), t: start,
		Account: account, Region: region, LeakEvery: 20000}
}

// kind is one event name with its weight and request/response writer.
type kind struct {
	name, source string
	weight       int
	readOnly     bool
	write        func(g *Generator, b []byte) []byte // appends `"requestParameters":...,"responseElements":...`
}

// The mix: mostly reads, KMS and STS noise, some writes; the image/snapshot events are rare, as
// in a real account.
var kinds = []kind{
	{"Decrypt", "kms.amazonaws.com", 180, true, kmsReq},
	{"DescribeRouteTables", "ec2.amazonaws.com", 160, true, describeReq("routeTableIdSet")},
	{"GetUser", "iam.amazonaws.com", 130, true, nameReq("userName")},
	{"DescribeParameters", "ssm.amazonaws.com", 120, true, describeReq("parameterFilters")},
	{"ListTagsForResource", "rds.amazonaws.com", 90, true, nameReq("resourceName")},
	{"GetParameter", "ssm.amazonaws.com", 80, true, nameReq("name")},
	{"PutParameter", "ssm.amazonaws.com", 70, false, putParamReq},
	{"GetSecretValue", "secretsmanager.amazonaws.com", 60, true, nameReq("secretId")},
	{"AssumeRole", "sts.amazonaws.com", 50, false, assumeRoleReq},
	{"DescribeInstances", "ec2.amazonaws.com", 50, true, describeReq("instancesSet")},
	{"GetBucketAcl", "s3.amazonaws.com", 40, true, bucketReq},
	{"Encrypt", "kms.amazonaws.com", 40, true, kmsReq},
	{"DescribeSecurityGroups", "ec2.amazonaws.com", 30, true, describeReq("securityGroupIdSet")},
	{"GetObject", "s3.amazonaws.com", 60, true, bucketReq},
	{"PutObject", "s3.amazonaws.com", 30, false, bucketReq},
	{"RunInstances", "ec2.amazonaws.com", 4, false, runInstancesReq},
	{"DescribeSnapshots", "ec2.amazonaws.com", 9, true, describeReq("snapshotSet")},
	{"DescribeImages", "ec2.amazonaws.com", 20, true, describeReq("imagesSet")},
	{"CreateSnapshot", "ec2.amazonaws.com", 2, false, createSnapshotReq},
	{"DeleteSnapshot", "ec2.amazonaws.com", 2, false, snapshotReq},
	{"CopySnapshot", "ec2.amazonaws.com", 1, false, copySnapshotReq},
	{"CreateDBSnapshot", "rds.amazonaws.com", 1, false, nameReq("dBSnapshotIdentifier")},
}

var totalWeight = func() int {
	n := 0
	for _, k := range kinds {
		n += k.weight
	}
	return n
}()

const hexdigits = "0123456789abcdef"

func (g *Generator) uuid(b []byte) []byte {
	for i := range 36 {
		switch i {
		case 8, 13, 18, 23:
			b = append(b, '-')
		default:
			b = append(b, hexdigits[g.rng.IntN(16)])
		}
	}
	return b
}

func (g *Generator) hexID(b []byte, prefix string, n int) []byte {
	b = append(b, prefix...)
	for range n {
		b = append(b, hexdigits[g.rng.IntN(16)])
	}
	return b
}

func (g *Generator) acct(b []byte) []byte {
	for range 12 {
		b = append(b, byte('0'+g.rng.IntN(10)))
	}
	return b
}

// Record appends one record to b.
func (g *Generator) Record(b []byte) []byte {
	g.total++
	g.t = g.t.Add(time.Duration(g.rng.IntN(400)) * time.Millisecond)
	if g.LeakEvery > 0 && g.rng.IntN(g.LeakEvery) == 0 {
		return g.leak(b)
	}
	w := g.rng.IntN(totalWeight)
	k := &kinds[0]
	for i := range kinds {
		if w < kinds[i].weight {
			k = &kinds[i]
			break
		}
		w -= kinds[i].weight
	}
	return g.record(b, k.name, k.source, k.readOnly, k.write, "")
}

// record writes the common envelope around a request/response writer.
func (g *Generator) record(b []byte, name, source string, readOnly bool, write func(*Generator, []byte) []byte, id string) []byte {
	b = append(b, `{"eventVersion":"1.08","userIdentity":`...)
	b = g.identity(b)
	b = append(b, `,"eventTime":"`...)
	b = g.t.UTC().AppendFormat(b, "2006-01-02T15:04:05Z")
	b = append(b, `","eventSource":"`...)
	b = append(b, source...)
	b = append(b, `","eventName":"`...)
	b = append(b, name...)
	b = append(b, `","awsRegion":"`...)
	b = append(b, g.Region...)
	b = append(b, `","sourceIPAddress":"`...)
	b = fmt.Appendf(b, "%d.%d.%d.%d", 1+g.rng.IntN(220), g.rng.IntN(256), g.rng.IntN(256), g.rng.IntN(256))
	b = append(b, `","userAgent":"`...)
	b = append(b, userAgents[g.rng.IntN(len(userAgents))]...)
	b = append(b, `",`...)
	b = write(g, b)
	b = append(b, `,"requestID":"`...)
	b = g.uuid(b)
	b = append(b, `","eventID":"`...)
	if id != "" {
		b = append(b, id...)
	} else {
		b = g.uuid(b)
	}
	b = append(b, `","readOnly":`...)
	b = strconv.AppendBool(b, readOnly)
	b = append(b, `,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"`...)
	b = append(b, g.Account...)
	b = append(b, `","eventCategory":"Management","tlsDetails":{"tlsVersion":"TLSv1.2","cipherSuite":"ECDHE-RSA-AES128-GCM-SHA256","clientProvidedHostHeader":"`...)
	b = append(b, source[:len(source)-len(".amazonaws.com")]...)
	b = append(b, '.')
	b = append(b, g.Region...)
	b = append(b, `.amazonaws.com"}}`...)
	return b
}

var userAgents = []string{
	"aws-cli/2.13.0 Python/3.11.4 Linux/5.15.0 exe/x86_64.ubuntu.22 prompt/off command/ec2.describe-instances",
	"Boto3/1.28.1 md/Botocore#1.31.1 ua/2.0 os/linux#5.10.184 md/arch#x86_64 lang/python#3.9.16 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.31.1",
	"aws-sdk-go-v2/1.18.1 os/linux lang/go#1.20.5 md/GOOS#linux md/GOARCH#amd64 api/ssm#1.36.6",
	"console.ec2.amazonaws.com",
	"AWS Internal",
	"Terraform/1.5.2 (+https://www.terraform.io) terraform-provider-aws/5.6.2 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go/1.44.294 (go1.20.5; linux; amd64)",
}

func (g *Generator) identity(b []byte) []byte {
	switch g.rng.IntN(10) {
	case 0, 1, 2: // assumed role, with session context
		b = append(b, `{"type":"AssumedRole","principalId":"AROA`...)
		b = g.hexID(b, "", 16)
		b = append(b, `:session-`...)
		b = g.hexID(b, "", 8)
		b = append(b, `","arn":"arn:aws:sts::`...)
		b = append(b, g.Account...)
		b = append(b, `:assumed-role/app-role/session","accountId":"`...)
		b = append(b, g.Account...)
		b = append(b, `","accessKeyId":"ASIA`...)
		b = g.hexID(b, "", 16)
		b = append(b, `","sessionContext":{"sessionIssuer":{"type":"Role","principalId":"AROA`...)
		b = g.hexID(b, "", 16)
		b = append(b, `","arn":"arn:aws:iam::`...)
		b = append(b, g.Account...)
		b = append(b, `:role/app-role","accountId":"`...)
		b = append(b, g.Account...)
		b = append(b, `","userName":"app-role"},"webIdFederationData":{},"attributes":{"creationDate":"`...)
		b = g.t.UTC().AppendFormat(b, "2006-01-02T15:04:05Z")
		b = append(b, `","mfaAuthenticated":"false"}}}`...)
	case 3: // AWS service
		b = append(b, `{"type":"AWSService","invokedBy":"ec2.amazonaws.com"}`...)
	default:
		b = append(b, `{"type":"IAMUser","principalId":"AIDA`...)
		b = g.hexID(b, "", 16)
		b = append(b, `","arn":"arn:aws:iam::`...)
		b = append(b, g.Account...)
		b = append(b, `:user/deploy","accountId":"`...)
		b = append(b, g.Account...)
		b = append(b, `","accessKeyId":"AKIA`...)
		b = g.hexID(b, "", 16)
		b = append(b, `","userName":"deploy"}`...)
	}
	return b
}

func kmsReq(g *Generator, b []byte) []byte {
	b = append(b, `"requestParameters":{"encryptionContext":{"aws:ssm:parameter-name":"/app/config/`...)
	b = g.hexID(b, "", 12)
	b = append(b, `"},"encryptionAlgorithm":"SYMMETRIC_DEFAULT"},"responseElements":null,"resources":[{"accountId":"`...)
	b = append(b, g.Account...)
	b = append(b, `","type":"AWS::KMS::Key","ARN":"arn:aws:kms:`...)
	b = append(b, g.Region...)
	b = append(b, ':')
	b = append(b, g.Account...)
	b = append(b, `:key/`...)
	b = g.uuid(b)
	b = append(b, `"}]`...)
	return b
}

func describeReq(set string) func(*Generator, []byte) []byte {
	return func(g *Generator, b []byte) []byte {
		b = append(b, `"requestParameters":{"`...)
		b = append(b, set...)
		b = append(b, `":{},"filterSet":{"items":[{"name":"vpc-id","valueSet":{"items":[{"value":"`...)
		b = g.hexID(b, "vpc-", 17)
		b = append(b, `"}]}}]}},"responseElements":null`...)
		return b
	}
}

func nameReq(key string) func(*Generator, []byte) []byte {
	return func(g *Generator, b []byte) []byte {
		b = append(b, `"requestParameters":{"`...)
		b = append(b, key...)
		b = append(b, `":"`...)
		b = g.hexID(b, "app-", 10)
		b = append(b, `"},"responseElements":null`...)
		return b
	}
}

func putParamReq(g *Generator, b []byte) []byte {
	b = append(b, `"requestParameters":{"name":"/app/config/`...)
	b = g.hexID(b, "", 12)
	b = append(b, `","type":"SecureString","value":"HIDDEN_DUE_TO_SECURITY_REASONS","overwrite":true},"responseElements":{"version":`...)
	b = strconv.AppendInt(b, int64(1+g.rng.IntN(40)), 10)
	b = append(b, `,"tier":"Standard"}`...)
	return b
}

func assumeRoleReq(g *Generator, b []byte) []byte {
	b = append(b, `"requestParameters":{"roleArn":"arn:aws:iam::`...)
	b = append(b, g.Account...)
	b = append(b, `:role/app-role","roleSessionName":"`...)
	b = g.hexID(b, "session-", 8)
	b = append(b, `","durationSeconds":3600},"responseElements":{"credentials":{"accessKeyId":"ASIA`...)
	b = g.hexID(b, "", 16)
	b = append(b, `","sessionToken":"`...)
	b = g.hexID(b, "IQoJb3JpZ2luX2Vj", 600)
	b = append(b, `","expiration":"Jul 10, 2023, 1:42:57 PM"},"assumedRoleUser":{"assumedRoleId":"AROA`...)
	b = g.hexID(b, "", 16)
	b = append(b, `:session","arn":"arn:aws:sts::`...)
	b = append(b, g.Account...)
	b = append(b, `:assumed-role/app-role/session"}}`...)
	return b
}

func bucketReq(g *Generator, b []byte) []byte {
	b = append(b, `"requestParameters":{"bucketName":"`...)
	b = g.hexID(b, "data-", 8)
	b = append(b, `","Host":"s3.amazonaws.com","key":"`...)
	b = g.hexID(b, "objects/", 24)
	b = append(b, `"},"responseElements":null,"additionalEventData":{"SignatureVersion":"SigV4","CipherSuite":"ECDHE-RSA-AES128-GCM-SHA256","bytesTransferredIn":0,"AuthenticationMethod":"AuthHeader","x-amz-id-2":"`...)
	b = g.hexID(b, "", 76)
	b = append(b, `","bytesTransferredOut":`...)
	b = strconv.AppendInt(b, int64(g.rng.IntN(1<<20)), 10)
	b = append(b, '}')
	return b
}

func runInstancesReq(g *Generator, b []byte) []byte {
	b = append(b, `"requestParameters":{"instancesSet":{"items":[{"imageId":"`...)
	b = g.hexID(b, "ami-", 17)
	b = append(b, `","minCount":1,"maxCount":1}]},"instanceType":"t3.micro","blockDeviceMapping":{},"monitoring":{"enabled":false},"disableApiTermination":false,"disableApiStop":false,"clientToken":"`...)
	b = g.uuid(b)
	b = append(b, `"},"responseElements":{"requestId":"`...)
	b = g.uuid(b)
	b = append(b, `","reservationId":"`...)
	b = g.hexID(b, "r-", 17)
	b = append(b, `","ownerId":"`...)
	b = append(b, g.Account...)
	b = append(b, `","groupSet":{},"instancesSet":{"items":[`...)
	for i := range 3 {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"instanceId":"`...)
		b = g.hexID(b, "i-", 17)
		b = append(b, `","imageId":"ami-0abcdef1234567890","currentInstanceBootMode":"legacy-bios","instanceState":{"code":0,"name":"pending"},"privateDnsName":"ip-10-0-1-23.ec2.internal","amiLaunchIndex":0,"productCodes":{},"instanceType":"t3.micro","launchTime":1688989362000,"placement":{"availabilityZone":"us-east-1a","tenancy":"default"},"monitoring":{"state":"disabled"},"subnetId":"subnet-0123456789abcdef0","vpcId":"vpc-0123456789abcdef0","privateIpAddress":"10.0.1.23","stateReason":{"code":"pending","message":"pending"},"architecture":"x86_64","rootDeviceType":"ebs","rootDeviceName":"/dev/xvda","blockDeviceMapping":{},"virtualizationType":"hvm","hypervisor":"xen","groupSet":{"items":[{"groupId":"sg-0123456789abcdef0","groupName":"default"}]},"networkInterfaceSet":{"items":[{"networkInterfaceId":"eni-0123456789abcdef0","subnetId":"subnet-0123456789abcdef0","vpcId":"vpc-0123456789abcdef0","ownerId":"`...)
		b = append(b, g.Account...)
		b = append(b, `","status":"in-use","privateIpAddress":"10.0.1.23","sourceDestCheck":true,"interfaceType":"interface"}]},"ebsOptimized":false,"enaSupport":true}`...)
	}
	b = append(b, `]}}`...)
	return b
}

func createSnapshotReq(g *Generator, b []byte) []byte {
	b = append(b, `"requestParameters":{"volumeId":"`...)
	b = g.hexID(b, "vol-", 17)
	b = append(b, `"},"responseElements":{"requestId":"`...)
	b = g.uuid(b)
	b = append(b, `","snapshotId":"`...)
	b = g.hexID(b, "snap-", 17)
	b = append(b, `","volumeSize":8,"status":"pending","encrypted":false,"ownerId":"`...)
	b = append(b, g.Account...)
	b = append(b, `"}`...)
	return b
}

func snapshotReq(g *Generator, b []byte) []byte {
	b = append(b, `"requestParameters":{"snapshotId":"`...)
	b = g.hexID(b, "snap-", 17)
	b = append(b, `"},"responseElements":{"requestId":"`...)
	b = g.uuid(b)
	b = append(b, `","_return":true}`...)
	return b
}

func copySnapshotReq(g *Generator, b []byte) []byte {
	b = append(b, `"requestParameters":{"sourceRegion":"eu-west-1","sourceSnapshotId":"`...)
	b = g.hexID(b, "snap-", 17)
	b = append(b, `","encrypted":false},"responseElements":{"requestId":"`...)
	b = g.uuid(b)
	b = append(b, `","snapshotId":"`...)
	b = g.hexID(b, "snap-", 17)
	b = append(b, `"}`...)
	return b
}

// leak writes one sharing event and records it as ground truth.
func (g *Generator) leak(b []byte) []byte {
	id := string(g.uuid(nil))
	grantee := string(g.acct(nil))
	var l Leak
	var write func(*Generator, []byte) []byte
	var source string
	switch g.rng.IntN(3) {
	case 0:
		res := string(g.hexID(nil, "snap-", 17))
		l = Leak{id, "ModifySnapshotAttribute", res, grantee}
		source = "ec2.amazonaws.com"
		write = func(g *Generator, b []byte) []byte {
			return fmt.Appendf(b, `"requestParameters":{"snapshotId":"%s","createVolumePermission":{"add":{"items":[{"userId":"%s"}]}},"attributeType":"CREATE_VOLUME_PERMISSION"},"responseElements":{"requestId":"%s","_return":true}`, res, grantee, g.uuid(nil))
		}
	case 1:
		res := string(g.hexID(nil, "ami-", 17))
		l = Leak{id, "ModifyImageAttribute", res, grantee}
		source = "ec2.amazonaws.com"
		write = func(g *Generator, b []byte) []byte {
			return fmt.Appendf(b, `"requestParameters":{"imageId":"%s","launchPermission":{"add":{"items":[{"userId":"%s"}]}},"attributeType":"launchPermission"},"responseElements":{"requestId":"%s","_return":true}`, res, grantee, g.uuid(nil))
		}
	default:
		res := string(g.hexID(nil, "db-snap-", 8))
		l = Leak{id, "ModifyDBSnapshotAttribute", res, grantee}
		source = "rds.amazonaws.com"
		write = func(g *Generator, b []byte) []byte {
			return fmt.Appendf(b, `"requestParameters":{"dBSnapshotIdentifier":"%s","attributeName":"restore","valuesToAdd":["%s"]},"responseElements":{"dBSnapshotIdentifier":"%s","dBSnapshotAttributes":[{"attributeName":"restore","attributeValues":["%s"]}]}`, res, grantee, res, grantee)
		}
	}
	g.Leaks = append(g.Leaks, l)
	return g.record(b, l.EventName, source, false, write, id)
}

// File appends a trail file body, {"Records":[...]} with n records, to b.
func (g *Generator) File(b []byte, n int) []byte {
	b = append(b, `{"Records":[`...)
	for i := range n {
		if i > 0 {
			b = append(b, ',')
		}
		b = g.Record(b)
	}
	return append(b, `]}`...)
}

// Time is the generator's clock (the last record's time).
func (g *Generator) Time() time.Time { return g.t }

// Total is the number of records written.
func (g *Generator) Total() int { return g.total }
