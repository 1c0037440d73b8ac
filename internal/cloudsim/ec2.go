package cloudsim

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// EC2 speaks the EC2 Query protocol: a form POST with Action and Version, an XML answer whose
// root is <ActionResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"> with a <requestId>,
// lists as <xxxSet><item>, and errors as <Response><Errors><Error><Code>. The handlers live in
// ec2_*.go by resource.
func init() {
	register(&service{
		name: "ec2", proto: protoEC2, xmlns: xmlnsEC2,
		actions: map[string]handler{
			"DescribeRegions":                   ec2DescribeRegions,
			"DescribeSnapshots":                 ec2DescribeSnapshots,
			"DescribeSnapshotAttribute":         ec2DescribeSnapshotAttribute,
			"ModifySnapshotAttribute":           ec2ModifySnapshotAttribute,
			"ResetSnapshotAttribute":            ec2ResetSnapshotAttribute,
			"DescribeImages":                    ec2DescribeImages,
			"DescribeImageAttribute":            ec2DescribeImageAttribute,
			"ModifyImageAttribute":              ec2ModifyImageAttribute,
			"ResetImageAttribute":               ec2ResetImageAttribute,
			"DescribeVolumes":                   ec2DescribeVolumes,
			"DescribeInstances":                 ec2DescribeInstances,
			"DescribeLaunchTemplateVersions":    ec2DescribeLaunchTemplateVersions,
			"GetSnapshotBlockPublicAccessState": ec2GetSnapshotBPA,
			"EnableSnapshotBlockPublicAccess":   ec2EnableSnapshotBPA,
			"DisableSnapshotBlockPublicAccess":  ec2DisableSnapshotBPA,
			"GetImageBlockPublicAccessState":    ec2GetImageBPA,
			"EnableImageBlockPublicAccess":      ec2EnableImageBPA,
			"DisableImageBlockPublicAccess":     ec2DisableImageBPA,
			"GetEbsEncryptionByDefault":         ec2GetEbsEncryptionByDefault,
			"EnableEbsEncryptionByDefault":      ec2EnableEbsEncryptionByDefault,
			"GetEbsDefaultKmsKeyId":             ec2GetEbsDefaultKmsKeyID,
			"ModifyEbsDefaultKmsKeyId":          ec2ModifyEbsDefaultKmsKeyID,
			"ListSnapshotsInRecycleBin":         ec2ListSnapshotsInRecycleBin,
			"ListImagesInRecycleBin":            ec2ListImagesInRecycleBin,
			"DescribeStoreImageTasks":           ec2DescribeStoreImageTasks,
			"DescribeExportImageTasks":          ec2DescribeExportImageTasks,
			"DescribeExportTasks":               ec2DescribeExportTasks,
		},
		mutating: set("ModifySnapshotAttribute", "ResetSnapshotAttribute", "ModifyImageAttribute", "ResetImageAttribute",
			"EnableSnapshotBlockPublicAccess", "DisableSnapshotBlockPublicAccess", "EnableImageBlockPublicAccess",
			"DisableImageBlockPublicAccess", "EnableEbsEncryptionByDefault", "ModifyEbsDefaultKmsKeyId"),
		throttle:  errSpec{http.StatusServiceUnavailable, "RequestLimitExceeded"},
		internal:  errSpec{http.StatusInternalServerError, "InternalError"},
		denied:    errSpec{http.StatusForbidden, "UnauthorizedOperation"},
		authFail:  errSpec{http.StatusUnauthorized, "AuthFailure"},
		notFoundA: "InvalidAction",
	})
}

func set(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// invalid answers EC2's generic 400.
func (c *call) invalid(code, format string, args ...any) {
	c.fail(http.StatusBadRequest, code, fmt.Sprintf(format, args...))
}

// maxResults reads MaxResults: absent → 0 (the caller decides what "all" means); below lo is an
// error; above hi is cut to hi, as EC2 does.
func (c *call) maxResults(lo, hi int) (int, bool) {
	v := c.form.Get("MaxResults")
	if v == "" {
		return 0, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo {
		c.invalid("InvalidParameterValue", "Value ( %s ) for parameter maxResults is invalid. Expecting a value greater than %d.", v, lo-1)
		return 0, false
	}
	return min(n, hi), true
}

// nextToken reads NextToken for the action; a foreign or garbled token is an error.
func (c *call) nextToken() (int, bool) {
	pos, ok := parsePageToken(c.action, c.form.Get("NextToken"))
	if !ok {
		c.invalid("InvalidPaginationToken", "The specified pagination token is not valid or is expired.")
	}
	return pos, ok
}

// pageOf pages a list of n already-filtered entries: it returns the window and the next token.
func (c *call) pageOf(n int, limit int) (start, end int, next string, ok bool) {
	start, ok = c.nextToken()
	if !ok {
		return
	}
	start = min(start, n)
	end = n
	if limit > 0 && start+limit < n {
		end = start + limit
		next = pageToken(c.action, end)
	}
	return start, end, next, true
}

// checkFilters refuses filter names the action does not know, as EC2 does.
func (c *call) checkFilters(fs []filter, known ...string) bool {
	for _, f := range fs {
		if strings.HasPrefix(f.name, "tag:") {
			continue
		}
		ok := false
		for _, k := range known {
			if f.name == k {
				ok = true
				break
			}
		}
		if !ok {
			c.invalid("InvalidParameterValue", "The filter '%s' is invalid", f.name)
			return false
		}
	}
	return true
}

// tagFilter evaluates tag:KEY and tag-key filters; handled reports whether f was one.
func tagFilter(f filter, tags Tags) (match, handled bool) {
	if k, ok := strings.CutPrefix(f.name, "tag:"); ok {
		v, has := tags.Get(k)
		return has && anyMatch(f, v), true
	}
	if f.name == "tag-key" {
		for _, t := range tags {
			if anyMatch(f, t.Key) {
				return true, true
			}
		}
		return false, true
	}
	return false, false
}

func writeTags(x *xw, name string, tags Tags) {
	if len(tags) == 0 {
		return
	}
	x.open(name)
	for _, t := range tags {
		x.open("item").strAlways("key", t.Key).strAlways("value", t.Value).end("item")
	}
	x.end(name)
}

// ec2Time is the text form EC2 uses in string-typed date fields (creationDate, deprecationTime).
func ec2Time(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

func (c *call) az() string { return c.region + "a" }

func ec2Return(c *call) {
	x := c.ec2Begin()
	x.raw("return", "true")
	c.ec2End(x)
}
