package cloudsim

import (
	"encoding/xml"
	"net/http"
	"strconv"
	"strings"
)

// S3 is served by the s3 package (ListObjectsV2, GetObject, HeadObject, path-style only); this
// file puts it behind the shared endpoint so that S3 calls meet the same credentials, faults,
// throttling, latency and call log as the rest. Buckets come from the estate's s3_buckets.
// ListBuckets and GetBucketPolicyStatus are answered here, because they need the bucket's
// owning account, which the s3 package does not know.
func init() {
	h := func(c *call) {
		sw := &statusWriter{ResponseWriter: c.w, status: http.StatusOK}
		c.a.s3.ServeHTTP(sw, c.r)
		c.done = true
		c.rec.Status = sw.status
		if sw.status >= 300 {
			c.rec.Error = http.StatusText(sw.status)
		}
	}
	register(&service{
		name: "s3", proto: protoS3, global: true,
		actions: map[string]handler{"ListObjectsV2": h, "GetObject": h, "HeadObject": h, "Unsupported": h,
			"ListBuckets": s3ListBuckets, "GetBucketPolicyStatus": s3GetBucketPolicyStatus,
			"GetBucketAcl": s3GetBucketAcl, "GetPublicAccessBlock": s3GetPublicAccessBlock},
		throttle:  errSpec{http.StatusServiceUnavailable, "SlowDown"},
		internal:  errSpec{http.StatusInternalServerError, "InternalError"},
		denied:    errSpec{http.StatusForbidden, "AccessDenied"},
		authFail:  errSpec{http.StatusForbidden, "InvalidAccessKeyId"},
		notFoundA: "NotImplemented",
	})
}

// s3Action names the S3 operation as the s3 package routes it.
func s3Action(r *http.Request) string {
	p := strings.TrimPrefix(r.URL.EscapedPath(), "/")
	_, key, _ := strings.Cut(p, "/")
	q := r.URL.Query()
	switch {
	case r.Method == http.MethodGet && p == "":
		return "ListBuckets"
	case r.Method == http.MethodGet && key == "" && q.Has("policyStatus"):
		return "GetBucketPolicyStatus"
	case r.Method == http.MethodGet && key == "" && q.Has("acl"):
		return "GetBucketAcl"
	case r.Method == http.MethodGet && key == "" && q.Has("publicAccessBlock"):
		return "GetPublicAccessBlock"
	case r.Method == http.MethodGet && key == "" && q.Get("list-type") == "2":
		return "ListObjectsV2"
	case r.Method == http.MethodGet && key != "":
		return "GetObject"
	case r.Method == http.MethodHead && key != "":
		return "HeadObject"
	}
	return "Unsupported"
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(s int) { w.status = s; w.ResponseWriter.WriteHeader(s) }

func writeS3Error(w http.ResponseWriter, r *http.Request, status int, code, msg, reqID string) {
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("x-amz-request-id", reqID)
	w.WriteHeader(status)
	if r.Method == http.MethodHead {
		return
	}
	w.Write([]byte(xmlHeader))
	xml.NewEncoder(w).Encode(struct {
		XMLName   xml.Name `xml:"Error"`
		Code      string   `xml:"Code"`
		Message   string   `xml:"Message"`
		RequestID string   `xml:"RequestId"`
	}{Code: code, Message: msg, RequestID: reqID})
}

const s3NS = "http://s3.amazonaws.com/doc/2006-03-01/"

// bucketOwner finds an estate bucket and the account that owns it.
func (a *AWS) bucketOwner(name string) (*Bucket, string) {
	for _, acct := range a.order {
		for i := range acct.est.Buckets {
			if acct.est.Buckets[i].Name == name {
				return &acct.est.Buckets[i], acct.id
			}
		}
	}
	return nil, ""
}

// s3ListBuckets lists the caller's own buckets (GET /).
func s3ListBuckets(c *call) {
	var b strings.Builder
	b.WriteString(xmlHeader + `<ListAllMyBucketsResult xmlns="` + s3NS + `"><Owner><ID>` + shortHash(c.acct.id, 64) +
		`</ID></Owner><Buckets>`)
	for _, bk := range c.acct.est.Buckets {
		b.WriteString("<Bucket><Name>")
		xml.EscapeText(&b, []byte(bk.Name))
		b.WriteString("</Name><CreationDate>2024-01-01T00:00:00.000Z</CreationDate><BucketRegion>" + orDefault(bk.Region, "us-east-1") +
			"</BucketRegion></Bucket>")
	}
	b.WriteString("</Buckets></ListAllMyBucketsResult>")
	c.ok()
	c.w.Header().Set("Content-Type", "application/xml")
	c.w.Header().Set("x-amz-request-id", c.reqID)
	c.w.Write([]byte(b.String()))
}

// ownBucket finds the bucket named in the path when the caller owns it; others are refused, as
// S3 refuses them without a bucket policy granting the call.
func (c *call) ownBucket() *Bucket {
	name, _, _ := strings.Cut(strings.TrimPrefix(c.r.URL.EscapedPath(), "/"), "/")
	bk, owner := c.a.bucketOwner(name)
	switch {
	case bk == nil:
		c.fail(http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist")
		return nil
	case owner != c.acct.id:
		c.fail(http.StatusForbidden, "AccessDenied", "Access Denied")
		return nil
	}
	return bk
}

func (c *call) sendS3XML(body string) {
	c.ok()
	c.w.Header().Set("Content-Type", "application/xml")
	c.w.Header().Set("x-amz-request-id", c.reqID)
	c.w.Write([]byte(xmlHeader + body))
}

// aclGroups are the URIs of S3's predefined groups.
var aclGroups = map[string]string{
	"AllUsers":           "http://acs.amazonaws.com/groups/global/AllUsers",
	"AuthenticatedUsers": "http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
	"LogDelivery":        "http://acs.amazonaws.com/groups/s3/LogDelivery",
}

// s3GetBucketAcl answers the bucket's ACL (GET /bucket?acl): the owner's FULL_CONTROL, then
// the estate's grants, groups as xsi:type="Group" with their URI.
func s3GetBucketAcl(c *call) {
	bk := c.ownBucket()
	if bk == nil {
		return
	}
	owner := shortHash(c.acct.id, 64)
	const xsi = `xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"`
	var b strings.Builder
	b.WriteString(`<AccessControlPolicy xmlns="` + s3NS + `"><Owner><ID>` + owner + `</ID></Owner><AccessControlList>`)
	b.WriteString(`<Grant><Grantee ` + xsi + ` xsi:type="CanonicalUser"><ID>` + owner + `</ID></Grantee><Permission>FULL_CONTROL</Permission></Grant>`)
	for _, g := range bk.ACL {
		b.WriteString("<Grant>")
		if uri, ok := aclGroups[g.Group]; ok {
			b.WriteString(`<Grantee ` + xsi + ` xsi:type="Group"><URI>` + uri + `</URI></Grantee>`)
		} else {
			b.WriteString(`<Grantee ` + xsi + ` xsi:type="CanonicalUser"><ID>`)
			xml.EscapeText(&b, []byte(g.User))
			b.WriteString(`</ID></Grantee>`)
		}
		b.WriteString("<Permission>")
		xml.EscapeText(&b, []byte(g.Permission))
		b.WriteString("</Permission></Grant>")
	}
	b.WriteString("</AccessControlList></AccessControlPolicy>")
	c.sendS3XML(b.String())
}

func publicAccessBlockXML(ns string, p *PublicAccessBlock) string {
	return `<PublicAccessBlockConfiguration xmlns="` + ns + `"><BlockPublicAcls>` + strconv.FormatBool(p.BlockPublicAcls) +
		`</BlockPublicAcls><IgnorePublicAcls>` + strconv.FormatBool(p.IgnorePublicAcls) +
		`</IgnorePublicAcls><BlockPublicPolicy>` + strconv.FormatBool(p.BlockPublicPolicy) +
		`</BlockPublicPolicy><RestrictPublicBuckets>` + strconv.FormatBool(p.RestrictPublicBuckets) +
		`</RestrictPublicBuckets></PublicAccessBlockConfiguration>`
}

// s3GetPublicAccessBlock answers the bucket's Block Public Access (GET /bucket?publicAccessBlock);
// a bucket without one is NoSuchPublicAccessBlockConfiguration, as S3 answers.
func s3GetPublicAccessBlock(c *call) {
	bk := c.ownBucket()
	if bk == nil {
		return
	}
	if bk.PublicAccessBlock == nil {
		c.fail(http.StatusNotFound, "NoSuchPublicAccessBlockConfiguration", "The public access block configuration was not found")
		return
	}
	c.sendS3XML(publicAccessBlockXML(s3NS, bk.PublicAccessBlock))
}

// s3GetBucketPolicyStatus answers IsPublic for the bucket's owner; others are refused, as S3
// refuses them without a bucket policy granting the call.
func s3GetBucketPolicyStatus(c *call) {
	bk := c.ownBucket()
	if bk == nil {
		return
	}
	c.sendS3XML(`<PolicyStatus xmlns="` + s3NS + `"><IsPublic>` + strconv.FormatBool(bk.Public) + `</IsPublic></PolicyStatus>`)
}

// S3 Control (restXml, 2018-08-20): the account's S3 Block Public Access. Requests are signed
// for "s3"; the path (/v20180820/...) tells them from bucket requests, and x-amz-account-id
// names the account, which must be the caller's. The SDK puts the account id in front of the
// host; the collector strips it for a custom endpoint, as path-style does for buckets.
func init() {
	register(&service{
		name: "s3control", proto: protoS3Control, global: true,
		actions:   map[string]handler{"GetPublicAccessBlock": s3controlGetPublicAccessBlock},
		throttle:  errSpec{http.StatusServiceUnavailable, "SlowDown"},
		internal:  errSpec{http.StatusInternalServerError, "InternalError"},
		denied:    errSpec{http.StatusForbidden, "AccessDenied"},
		authFail:  errSpec{http.StatusForbidden, "InvalidAccessKeyId"},
		notFoundA: "NotImplemented",
	})
}

const s3controlNS = "http://awss3control.amazonaws.com/doc/2018-08-20/"

// s3controlAction names the S3 Control operation of a request.
func s3controlAction(r *http.Request) string {
	if r.Method == http.MethodGet && strings.TrimSuffix(r.URL.Path, "/") == "/v20180820/configuration/publicAccessBlock" {
		return "GetPublicAccessBlock"
	}
	return "Unsupported"
}

func s3controlGetPublicAccessBlock(c *call) {
	if id := c.r.Header.Get("x-amz-account-id"); id != c.acct.id {
		c.fail(http.StatusForbidden, "AccessDenied", "Access Denied")
		return
	}
	p := c.acct.est.S3PublicAccessBlock
	if p == nil {
		c.fail(http.StatusNotFound, "NoSuchPublicAccessBlockConfiguration", "The public access block configuration was not found")
		return
	}
	c.sendS3XML(publicAccessBlockXML(s3controlNS, p))
}

// writeS3ControlError writes S3 Control's error: the S3 error wrapped in <ErrorResponse>.
func writeS3ControlError(w http.ResponseWriter, status int, code, msg, reqID string) {
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("x-amz-request-id", reqID)
	w.WriteHeader(status)
	w.Write([]byte(xmlHeader))
	xml.NewEncoder(w).Encode(struct {
		XMLName xml.Name `xml:"ErrorResponse"`
		Err     struct {
			Code    string `xml:"Code"`
			Message string `xml:"Message"`
		} `xml:"Error"`
		RequestID string `xml:"RequestId"`
	}{Err: struct {
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	}{code, msg}, RequestID: reqID})
}
