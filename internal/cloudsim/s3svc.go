package cloudsim

import (
	"encoding/xml"
	"net/http"
	"strings"
)

// S3 is served by the s3 package (ListObjectsV2, GetObject, HeadObject, path-style only); this
// file puts it behind the shared endpoint so that S3 calls meet the same credentials, faults,
// throttling, latency and call log as the rest. Buckets come from the estate's s3_buckets.
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
		actions:   map[string]handler{"ListObjectsV2": h, "GetObject": h, "HeadObject": h, "Unsupported": h},
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
	switch {
	case r.Method == http.MethodGet && key == "" && r.URL.Query().Get("list-type") == "2":
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
