package cloudsim

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Writers and readers for the wire protocols. XML answers are written by hand into a pooled
// buffer rather than through encoding/xml's reflection: a DescribeSnapshots page holds up to
// 1,000 items and the simulator must serve thousands of requests a second on two cores.

const (
	xmlnsEC2      = "http://ec2.amazonaws.com/doc/2016-11-15/"
	xmlnsRDS      = "http://rds.amazonaws.com/doc/2014-10-31/"
	xmlnsRedshift = "http://redshift.amazonaws.com/doc/2012-12-01/"
	xmlnsSTS      = "https://sts.amazonaws.com/doc/2011-06-15/"
	xmlHeader     = `<?xml version="1.0" encoding="UTF-8"?>` + "\n"
)

// xw builds an XML document.
type xw struct{ buf []byte }

var xwPool = sync.Pool{New: func() any { return &xw{buf: make([]byte, 0, 64<<10)} }}

func newXW() *xw { x := xwPool.Get().(*xw); x.buf = x.buf[:0]; return x }

func (x *xw) release() {
	if cap(x.buf) <= 4<<20 {
		xwPool.Put(x)
	}
}

func (x *xw) open(name string) *xw {
	x.buf = append(x.buf, '<')
	x.buf = append(x.buf, name...)
	x.buf = append(x.buf, '>')
	return x
}

func (x *xw) openNS(name, ns string) *xw {
	x.buf = append(x.buf, '<')
	x.buf = append(x.buf, name...)
	x.buf = append(x.buf, ` xmlns="`...)
	x.buf = append(x.buf, ns...)
	x.buf = append(x.buf, `">`...)
	return x
}

func (x *xw) end(name string) *xw {
	x.buf = append(x.buf, '<', '/')
	x.buf = append(x.buf, name...)
	x.buf = append(x.buf, '>')
	return x
}

// str writes <name>v</name>, or nothing when v is empty (absent and empty read the same to
// the SDK: a nil pointer).
func (x *xw) str(name, v string) *xw {
	if v == "" {
		return x
	}
	return x.strAlways(name, v)
}

func (x *xw) strAlways(name, v string) *xw {
	x.open(name)
	x.escape(v)
	return x.end(name)
}

func (x *xw) boolean(name string, v bool) *xw {
	if v {
		return x.raw(name, "true")
	}
	return x.raw(name, "false")
}

func (x *xw) num(name string, v int64) *xw {
	x.open(name)
	x.buf = strconv.AppendInt(x.buf, v, 10)
	return x.end(name)
}

// tm writes an ISO 8601 timestamp with milliseconds, as the Query services do; zero is omitted.
func (x *xw) tm(name string, t time.Time) *xw {
	if t.IsZero() {
		return x
	}
	x.open(name)
	x.buf = t.UTC().AppendFormat(x.buf, "2006-01-02T15:04:05.000Z")
	return x.end(name)
}

func (x *xw) raw(name, v string) *xw {
	x.open(name)
	x.buf = append(x.buf, v...)
	return x.end(name)
}

func (x *xw) escape(s string) {
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n == 1 {
				x.buf = append(x.buf, "\uFFFD"...)
			} else {
				x.buf = append(x.buf, s[i:i+n]...)
			}
			i += n
			continue
		}
		switch c {
		case '<':
			x.buf = append(x.buf, "&lt;"...)
		case '>':
			x.buf = append(x.buf, "&gt;"...)
		case '&':
			x.buf = append(x.buf, "&amp;"...)
		case '"':
			x.buf = append(x.buf, "&quot;"...)
		case '\'':
			x.buf = append(x.buf, "&apos;"...)
		case '\r':
			x.buf = append(x.buf, "&#xD;"...)
		default:
			if c < 0x20 && c != '\n' && c != '\t' {
				x.buf = append(x.buf, "\uFFFD"...)
			} else {
				x.buf = append(x.buf, c)
			}
		}
		i++
	}
}

// ec2Begin starts an EC2 answer: <ActionResponse xmlns=...><requestId>.
func (c *call) ec2Begin() *xw {
	x := newXW()
	x.buf = append(x.buf, xmlHeader...)
	x.openNS(c.action+"Response", xmlnsEC2)
	x.strAlways("requestId", c.reqID)
	return x
}

// ec2End closes and sends an EC2 answer.
func (c *call) ec2End(x *xw) {
	x.end(c.action + "Response")
	c.sendXML(x)
}

// queryBegin starts an awsQuery answer: <ActionResponse xmlns=...><ActionResult>.
func (c *call) queryBegin() *xw {
	x := newXW()
	x.buf = append(x.buf, xmlHeader...)
	x.openNS(c.action+"Response", c.svc.xmlns)
	x.open(c.action + "Result")
	return x
}

// queryEnd closes the result, adds the ResponseMetadata and sends.
func (c *call) queryEnd(x *xw) {
	x.end(c.action + "Result")
	x.open("ResponseMetadata").strAlways("RequestId", c.reqID).end("ResponseMetadata")
	x.end(c.action + "Response")
	c.sendXML(x)
}

func (c *call) sendXML(x *xw) {
	h := c.w.Header()
	h.Set("Content-Type", "text/xml;charset=UTF-8")
	h.Set("Content-Length", strconv.Itoa(len(x.buf)))
	h.Set("x-amzn-RequestId", c.reqID)
	c.w.WriteHeader(http.StatusOK)
	c.w.Write(x.buf)
	x.release()
	c.ok()
}

func writeEC2Error(w http.ResponseWriter, status int, code, msg, reqID string) {
	x := newXW()
	x.buf = append(x.buf, xmlHeader...)
	x.open("Response").open("Errors").open("Error").strAlways("Code", code).strAlways("Message", msg).end("Error").end("Errors")
	x.strAlways("RequestID", reqID).end("Response")
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.WriteHeader(status)
	w.Write(x.buf)
	x.release()
}

func writeQueryError(w http.ResponseWriter, ns string, status int, code, msg, reqID string) {
	typ := "Sender"
	if status >= 500 {
		typ = "Receiver"
	}
	x := newXW()
	x.buf = append(x.buf, xmlHeader...)
	x.openNS("ErrorResponse", ns).open("Error").strAlways("Type", typ).strAlways("Code", code).strAlways("Message", msg).end("Error")
	x.strAlways("RequestId", reqID).end("ErrorResponse")
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("x-amzn-RequestId", reqID)
	w.WriteHeader(status)
	w.Write(x.buf)
	x.release()
}

// writeJSONError answers an awsJson1.1 or restJson1 error: the code in X-Amzn-ErrorType and
// __type, the message, and (EBS) the reason.
func writeJSONError(w http.ResponseWriter, status int, code, msg, reason, reqID string) {
	body := map[string]string{"__type": code, "message": msg}
	if reason != "" {
		body["Reason"] = reason
	}
	b, _ := json.Marshal(body)
	h := w.Header()
	h.Set("Content-Type", "application/x-amz-json-1.1")
	h.Set("X-Amzn-ErrorType", code)
	h.Set("x-amzn-RequestId", reqID)
	w.WriteHeader(status)
	w.Write(b)
}

// sendJSON answers a JSON protocol call.
func (c *call) sendJSON(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		c.fail(http.StatusInternalServerError, c.svc.internal.code, err.Error())
		return
	}
	h := c.w.Header()
	if c.svc.proto == protoJSON {
		h.Set("Content-Type", "application/x-amz-json-1.1")
	} else {
		h.Set("Content-Type", "application/json")
	}
	h.Set("Content-Length", strconv.Itoa(len(b)))
	h.Set("x-amzn-RequestId", c.reqID)
	c.w.WriteHeader(http.StatusOK)
	c.w.Write(b)
	c.ok()
}

// decodeJSON reads a JSON request body into v.
func (c *call) decodeJSON(v any) bool {
	if len(c.body) == 0 {
		return true
	}
	if err := json.Unmarshal(c.body, v); err != nil {
		c.fail(http.StatusBadRequest, "SerializationException", err.Error())
		return false
	}
	return true
}

func readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	return io.ReadAll(io.LimitReader(r.Body, 16<<20))
}

// epoch renders a time as JSON epoch seconds (awsJson and restJson bodies).
type epoch time.Time

func (e epoch) MarshalJSON() ([]byte, error) {
	t := time.Time(e)
	return strconv.AppendFloat(nil, float64(t.UnixMilli())/1000, 'f', -1, 64), nil
}

func epochPtr(t time.Time) *epoch {
	if t.IsZero() {
		return nil
	}
	e := epoch(t)
	return &e
}

// qItems splits the flattened query list under prefix into its items in index order. Each
// item holds the keys after "prefix.N." ("" for a scalar "prefix.N"). A member name between
// prefix and N, as awsQuery writes ("Filters.Filter.1", "ValuesToAdd.AttributeValue.1"), is
// skipped, so one reader serves EC2's flat lists and awsQuery's wrapped ones.
func qItems(f url.Values, prefix string) []url.Values {
	byIdx := map[int]url.Values{}
	for k, vs := range f {
		rest, ok := strings.CutPrefix(k, prefix+".")
		if !ok {
			continue
		}
		first, after, _ := strings.Cut(rest, ".")
		n, err := strconv.Atoi(first)
		if err != nil {
			// "member.N..." form
			second, after2, _ := strings.Cut(after, ".")
			if n, err = strconv.Atoi(second); err != nil {
				continue
			}
			after = after2
		}
		it := byIdx[n]
		if it == nil {
			it = url.Values{}
			byIdx[n] = it
		}
		it[after] = vs
	}
	idx := make([]int, 0, len(byIdx))
	for n := range byIdx {
		idx = append(idx, n)
	}
	sort.Ints(idx)
	out := make([]url.Values, len(idx))
	for i, n := range idx {
		out[i] = byIdx[n]
	}
	return out
}

// qList reads a flattened list of strings.
func qList(f url.Values, prefix string) []string {
	items := qItems(f, prefix)
	out := make([]string, 0, len(items))
	for _, it := range items {
		out = append(out, it.Get(""))
	}
	return out
}

// filter is one EC2 or RDS filter: a name and the values any of which may match.
type filter struct {
	name   string
	values []string
}

// qFilters reads EC2 "Filter.N.Name/Value.M" or RDS "Filters.Filter.N.Name/Values.Value.M".
func qFilters(f url.Values, prefix, valuesKey string) []filter {
	var out []filter
	for _, it := range qItems(f, prefix) {
		out = append(out, filter{name: it.Get("Name"), values: qList(it, valuesKey)})
	}
	return out
}

// matchWild matches EC2 filter values, where * is any run and ? any one character.
func matchWild(pattern, s string) bool {
	if !strings.ContainsAny(pattern, "*?") {
		return pattern == s
	}
	for len(pattern) > 0 {
		switch pattern[0] {
		case '*':
			for i := len(s); i >= 0; i-- {
				if matchWild(pattern[1:], s[i:]) {
					return true
				}
			}
			return false
		case '?':
			if s == "" {
				return false
			}
			_, n := utf8.DecodeRuneInString(s)
			pattern, s = pattern[1:], s[n:]
		default:
			if s == "" || pattern[0] != s[0] {
				return false
			}
			pattern, s = pattern[1:], s[1:]
		}
	}
	return s == ""
}

// anyMatch reports whether one of the filter's values matches one of the resource's values.
func anyMatch(f filter, have ...string) bool {
	for _, want := range f.values {
		for _, h := range have {
			if matchWild(want, h) {
				return true
			}
		}
	}
	return false
}

// Pagination tokens are opaque to clients; inside they are "action:position" so that a token
// from another action or a made-up one is refused, as AWS does.
func pageToken(action string, pos int) string {
	return base64.RawURLEncoding.EncodeToString([]byte(action + ":" + strconv.Itoa(pos)))
}

func parsePageToken(action, tok string) (int, bool) {
	if tok == "" {
		return 0, true
	}
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return 0, false
	}
	rest, ok := strings.CutPrefix(string(b), action+":")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(rest)
	return n, err == nil && n >= 0
}

func boolParam(f url.Values, k string) bool { return strings.EqualFold(f.Get(k), "true") }

func fmtBool(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
