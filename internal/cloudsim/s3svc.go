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
			"ListBuckets": s3ListBuckets, "GetBucketPolicyStatus": s3GetBucketPolicyStatus},
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

// s3GetBucketPolicyStatus answers IsPublic for the bucket's owner; others are refused, as S3
// refuses them without a bucket policy granting the call.
func s3GetBucketPolicyStatus(c *call) {
	name, _, _ := strings.Cut(strings.TrimPrefix(c.r.URL.EscapedPath(), "/"), "/")
	bk, owner := c.a.bucketOwner(name)
	switch {
	case bk == nil:
		c.fail(http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist")
		return
	case owner != c.acct.id:
		c.fail(http.StatusForbidden, "AccessDenied", "Access Denied")
		return
	}
	c.ok()
	c.w.Header().Set("Content-Type", "application/xml")
	c.w.Header().Set("x-amz-request-id", c.reqID)
	c.w.Write([]byte(xmlHeader + `<PolicyStatus xmlns="` + s3NS + `"><IsPublic>` + strconv.FormatBool(bk.Public) + `</IsPublic></PolicyStatus>`))
}
