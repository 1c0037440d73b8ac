// Package s3 is a minimal, wire-compatible Amazon S3 for tests: an HTTP server on 127.0.0.1
// answering ListObjectsV2 (prefix, delimiter, start-after, max-keys, continuation tokens),
// GetObject (with byte ranges) and HeadObject in S3's REST/XML format with path-style
// addressing, so that the real aws-sdk-go-v2 client runs against it. Every request is recorded,
// which lets tests prove what a reader did (and did not) call. Anything else is answered
// NotImplemented.
package s3

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"hash/crc32"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Call is one recorded request.
type Call struct {
	Op     string // "ListObjectsV2", "GetObject", "HeadObject", or "Unsupported"
	Method string
	Bucket string
	Key    string
	Query  url.Values
}

type object struct {
	data    []byte
	etag    string
	crc     string
	modTime time.Time
}

// Server is the simulated S3. Its zero value is not usable; call New.
type Server struct {
	// URL is the endpoint to give the SDK (BaseEndpoint, with UsePathStyle).
	URL string
	// PageSize caps the keys of one ListObjectsV2 page below what the client asks, so tests
	// exercise pagination with few objects. 0 means S3's 1000.
	PageSize int

	mu      sync.Mutex
	buckets map[string]map[string]*object
	calls   []Call
	ln      net.Listener
	srv     *http.Server
}

// New starts a server on 127.0.0.1 on a free port.
func New() (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{URL: "http://" + ln.Addr().String(), buckets: map[string]map[string]*object{}, ln: ln}
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go s.srv.Serve(ln)
	return s, nil
}

// NewHandler returns a server that does not listen: an http.Handler to mount behind another
// endpoint (internal/cloudsim serves S3 beside the other AWS services on one port). URL is "".
func NewHandler() *Server { return &Server{buckets: map[string]map[string]*object{}} }

// Close stops the server.
func (s *Server) Close() error {
	if s.srv == nil {
		return nil
	}
	return s.srv.Close()
}

// CreateBucket makes an empty bucket.
func (s *Server) CreateBucket(bucket string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.buckets[bucket] == nil {
		s.buckets[bucket] = map[string]*object{}
	}
}

// Put stores an object (creating the bucket if needed).
func (s *Server) Put(bucket, key string, data []byte) {
	sum := md5.Sum(data)
	c := crc32.ChecksumIEEE(data)
	crc := base64.StdEncoding.EncodeToString([]byte{byte(c >> 24), byte(c >> 16), byte(c >> 8), byte(c)})
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.buckets[bucket] == nil {
		s.buckets[bucket] = map[string]*object{}
	}
	s.buckets[bucket][key] = &object{data: bytes.Clone(data), etag: `"` + hex.EncodeToString(sum[:]) + `"`,
		crc: crc, modTime: time.Now().UTC().Truncate(time.Second)}
}

// Calls returns the requests recorded so far.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// ResetCalls forgets the recorded requests.
func (s *Server) ResetCalls() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = nil
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Path style: /bucket/key...; the key keeps its slashes.
	p := strings.TrimPrefix(r.URL.EscapedPath(), "/")
	bucketPart, keyPart, _ := strings.Cut(p, "/")
	bucket, _ := url.PathUnescape(bucketPart)
	key, _ := url.PathUnescape(keyPart)
	q := r.URL.Query()
	call := Call{Method: r.Method, Bucket: bucket, Key: key, Query: q}
	switch {
	case r.Method == http.MethodGet && key == "" && q.Get("list-type") == "2":
		call.Op = "ListObjectsV2"
	case r.Method == http.MethodGet && key != "":
		call.Op = "GetObject"
	case r.Method == http.MethodHead && key != "":
		call.Op = "HeadObject"
	default:
		call.Op = "Unsupported"
	}
	s.mu.Lock()
	s.calls = append(s.calls, call)
	objs, ok := s.buckets[bucket]
	var obj *object
	if ok && key != "" {
		obj = objs[key]
	}
	var keys []string
	if call.Op == "ListObjectsV2" && ok {
		keys = make([]string, 0, len(objs))
		for k := range objs {
			keys = append(keys, k)
		}
	}
	s.mu.Unlock()

	w.Header().Set("x-amz-request-id", strconv.FormatInt(time.Now().UnixNano(), 36))
	switch {
	case call.Op == "Unsupported":
		writeError(w, r, http.StatusNotImplemented, "NotImplemented", "A header or query you provided implies functionality that is not implemented.", bucket, key)
	case !ok:
		writeError(w, r, http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist", bucket, key)
	case call.Op == "ListObjectsV2":
		s.list(w, r, bucket, keys, objs)
	case obj == nil:
		writeError(w, r, http.StatusNotFound, "NoSuchKey", "The specified key does not exist.", bucket, key)
	default:
		serveObject(w, r, obj)
	}
}

type listResult struct {
	XMLName               xml.Name       `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListBucketResult"`
	Name                  string         `xml:"Name"`
	Prefix                string         `xml:"Prefix"`
	Delimiter             string         `xml:"Delimiter,omitempty"`
	MaxKeys               int            `xml:"MaxKeys"`
	KeyCount              int            `xml:"KeyCount"`
	IsTruncated           bool           `xml:"IsTruncated"`
	ContinuationToken     string         `xml:"ContinuationToken,omitempty"`
	NextContinuationToken string         `xml:"NextContinuationToken,omitempty"`
	StartAfter            string         `xml:"StartAfter,omitempty"`
	Contents              []listContent  `xml:"Contents"`
	CommonPrefixes        []commonPrefix `xml:"CommonPrefixes"`
}

type listContent struct {
	Key          string `xml:"Key"`
	LastModified string `xml:"LastModified"`
	ETag         string `xml:"ETag"`
	Size         int64  `xml:"Size"`
	StorageClass string `xml:"StorageClass"`
}

type commonPrefix struct {
	Prefix string `xml:"Prefix"`
}

func (s *Server) list(w http.ResponseWriter, r *http.Request, bucket string, keys []string, objs map[string]*object) {
	q := r.URL.Query()
	prefix, delim := q.Get("prefix"), q.Get("delimiter")
	maxKeys := 1000
	if v, err := strconv.Atoi(q.Get("max-keys")); err == nil && v >= 0 && v < maxKeys {
		maxKeys = v
	}
	if s.PageSize > 0 && s.PageSize < maxKeys {
		maxKeys = s.PageSize
	}
	after := q.Get("start-after")
	token := q.Get("continuation-token")
	if token != "" {
		b, err := base64.RawURLEncoding.DecodeString(token)
		if err != nil {
			writeError(w, r, http.StatusBadRequest, "InvalidArgument", "The continuation token provided is incorrect", bucket, "")
			return
		}
		after = string(b) // the token is the last key or common prefix returned
	}
	sort.Strings(keys)
	res := listResult{Name: bucket, Prefix: prefix, Delimiter: delim, MaxKeys: maxKeys, ContinuationToken: token,
		StartAfter: q.Get("start-after")}
	seenPrefix := map[string]bool{}
	last := ""
	for _, k := range keys {
		if !strings.HasPrefix(k, prefix) || k <= after {
			continue
		}
		if delim != "" {
			if i := strings.Index(k[len(prefix):], delim); i >= 0 {
				cp := k[:len(prefix)+i+len(delim)]
				if seenPrefix[cp] || cp <= after {
					continue
				}
				if res.KeyCount == maxKeys {
					res.IsTruncated = true
					break
				}
				seenPrefix[cp] = true
				res.CommonPrefixes = append(res.CommonPrefixes, commonPrefix{cp})
				res.KeyCount++
				// Skip the rest of this prefix by making it the resume point.
				last = cp + "\U0010FFFF"
				continue
			}
		}
		if res.KeyCount == maxKeys {
			res.IsTruncated = true
			break
		}
		o := objs[k]
		res.Contents = append(res.Contents, listContent{Key: k, LastModified: o.modTime.Format("2006-01-02T15:04:05.000Z"),
			ETag: o.etag, Size: int64(len(o.data)), StorageClass: "STANDARD"})
		res.KeyCount++
		last = k
	}
	if res.IsTruncated {
		res.NextContinuationToken = base64.RawURLEncoding.EncodeToString([]byte(last))
	}
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(http.StatusOK)
	w.Write([]byte(xml.Header))
	xml.NewEncoder(w).Encode(res)
}

func serveObject(w http.ResponseWriter, r *http.Request, o *object) {
	h := w.Header()
	h.Set("ETag", o.etag)
	h.Set("Last-Modified", o.modTime.Format(http.TimeFormat))
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Accept-Ranges", "bytes")
	data := o.data
	status := http.StatusOK
	if rg := r.Header.Get("Range"); rg != "" {
		start, end, ok := parseRange(rg, int64(len(data)))
		if !ok {
			h.Set("Content-Range", fmt.Sprintf("bytes */%d", len(data)))
			writeError(w, r, http.StatusRequestedRangeNotSatisfiable, "InvalidRange", "The requested range is not satisfiable", "", "")
			return
		}
		h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, end, len(data)))
		data = data[start : end+1]
		status = http.StatusPartialContent
	} else {
		// A whole object carries its checksum, as S3 does for objects uploaded with one, so
		// the SDK's response validation has something to check.
		h.Set("x-amz-checksum-crc32", o.crc)
	}
	h.Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(data)
	}
}

// parseRange reads "bytes=a-b", "bytes=a-" or "bytes=-n".
func parseRange(v string, size int64) (start, end int64, ok bool) {
	spec, found := strings.CutPrefix(v, "bytes=")
	if !found || strings.Contains(spec, ",") {
		return 0, 0, false
	}
	a, b, _ := strings.Cut(spec, "-")
	var err error
	switch {
	case a == "":
		n, err := strconv.ParseInt(b, 10, 64)
		if err != nil || n <= 0 {
			return 0, 0, false
		}
		start, end = max(size-n, 0), size-1
	default:
		if start, err = strconv.ParseInt(a, 10, 64); err != nil {
			return 0, 0, false
		}
		end = size - 1
		if b != "" {
			if end, err = strconv.ParseInt(b, 10, 64); err != nil {
				return 0, 0, false
			}
			end = min(end, size-1)
		}
	}
	if start < 0 || start >= size || end < start {
		return 0, 0, false
	}
	return start, end, true
}

type errorBody struct {
	XMLName   xml.Name `xml:"Error"`
	Code      string   `xml:"Code"`
	Message   string   `xml:"Message"`
	BucketN   string   `xml:"BucketName,omitempty"`
	Key       string   `xml:"Key,omitempty"`
	RequestID string   `xml:"RequestId"`
}

func writeError(w http.ResponseWriter, r *http.Request, status int, code, msg, bucket, key string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	if r.Method == http.MethodHead {
		return // HEAD responses have no body; the SDK maps the status code
	}
	w.Write([]byte(xml.Header))
	xml.NewEncoder(w).Encode(errorBody{Code: code, Message: msg, BucketN: bucket, Key: key, RequestID: w.Header().Get("x-amz-request-id")})
}
