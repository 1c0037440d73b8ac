package event

import (
	"encoding/base64"
	"errors"
)

// The stream walk: top-level values one after another (JSON Lines, concatenated JSON, one file),
// each an array of records, an envelope whose records array is streamed element by element, or
// one record. Only one record is ever held in memory.

var (
	errUnknownRecord = errors.New("not a CloudTrail, Azure Activity Log or GCP audit record")
	errNotCloudTrail = errors.New("not a CloudTrail record")
	errNotAzure      = errors.New("not an Azure Activity Log record")
	errNotGCP        = errors.New("not a GCP audit LogEntry")
)

// maxNest bounds envelopes inside envelopes (an EventBridge event inside a Pub/Sub message...).
const maxNest = 4

func (ru *run) top() {
	s := ru.s
	for !ru.stopped {
		c, ok := s.peek()
		if !ok {
			return
		}
		switch c {
		case '[':
			ru.array()
		case '{':
			ru.walkObject(true)
		default:
			// Not JSON where a value should start: drop the line, the way JSON Lines recovers.
			if !ru.bad(ru.nextIndex(), errSyntax) {
				return
			}
			s.skipLine()
		}
	}
}

// array streams the elements of an array of records (or of envelopes).
func (ru *run) array() {
	s := ru.s
	empty, err := s.opened(']')
	if err != nil || empty {
		ru.structural(err)
		return
	}
	for !ru.stopped {
		if c, _ := s.peek(); c == '{' {
			if !ru.walkObject(false) {
				return
			}
		} else {
			s.startCapture()
			err := s.skipValue()
			raw := s.captured()
			switch {
			case err != nil:
				ru.structural(err)
				return
			case raw == nil:
				ru.bad(ru.nextIndex(), errTooLarge)
			default:
				ru.handle(raw, 0)
			}
		}
		if ru.stopped {
			return
		}
		more, err := s.next(']')
		if err != nil {
			ru.structural(err)
			return
		}
		if !more {
			return
		}
	}
}

// structural reports a break in the stream's structure. The rest of the current line is
// dropped so that JSON Lines input recovers at the next line; a broken array or object is
// abandoned.
func (ru *run) structural(err error) {
	if err == nil {
		return
	}
	if ru.bad(ru.nextIndex(), err) {
		ru.s.skipLine()
	}
}

// span locates a head member's value relative to the capture mark, while the object is walked.
type span struct {
	slot *[]byte
	a, b int
}

// walkObject walks the object at the scanner's position in one pass: it captures the object
// whole and notes where the members that say what it is lie, so a record's bytes are read once.
// At the top level (stream set) the well-known array members — Records, records, value,
// logEvents — are streamed record by record instead, and the envelope itself is not kept. It
// returns false if the stream broke.
func (ru *run) walkObject(stream bool) bool {
	s := ru.s
	var h head
	var spans [40]span
	ns := 0
	s.startCapture()
	empty, err := s.opened('}')
	if err != nil {
		s.mark = -1
		ru.structural(err)
		return false
	}
	streamed, control := false, false
	for !empty && !ru.stopped {
		k, err := s.key()
		if err != nil {
			s.mark = -1
			ru.structural(err)
			return false
		}
		// k is only valid until the next read: classify it before peeking at the value.
		const (
			plain = iota
			recordsKey
			logEventsKey
			messageTypeKey
		)
		kind := plain
		switch string(k) {
		case "Records", "records", "value":
			kind = recordsKey
		case "logEvents":
			kind = logEventsKey
		case "messageType":
			kind = messageTypeKey
		}
		slot := h.slot(k)
		c, _ := s.peek()
		consumed := false
		if stream {
			switch {
			case (kind == recordsKey || kind == logEventsKey) && c == '[':
				s.mark = -1 // the envelope is not kept: only its records are
				streamed, consumed = true, true
				if kind == recordsKey {
					ru.array()
				} else {
					ru.logEvents(control)
				}
			case kind == messageTypeKey && c == '"' && s.mark >= 0:
				// CloudWatch Logs writes it before logEvents; a CONTROL_MESSAGE carries no records.
				a := s.pos - s.mark
				v, err := s.smallString()
				if err != nil {
					s.mark = -1
					ru.structural(err)
					return false
				}
				control = string(v) == "CONTROL_MESSAGE"
				if s.mark >= 0 {
					spans[ns] = span{&h.messageType, a, s.pos - s.mark}
					ns++
				}
				consumed = true
			}
			if ru.stopped {
				return false
			}
		}
		if !consumed {
			a := s.pos - s.mark
			if err := s.skipValue(); err != nil {
				s.mark = -1
				ru.structural(err)
				return false
			}
			if slot != nil && s.mark >= 0 && !s.markLost && ns < len(spans) {
				spans[ns] = span{slot, a, s.pos - s.mark}
				ns++
			}
		}
		more, err := s.next('}')
		if err != nil {
			s.mark = -1
			ru.structural(err)
			return false
		}
		if !more {
			break
		}
	}
	if ru.stopped {
		return false
	}
	if streamed {
		s.mark = -1
		return true
	}
	raw := s.captured()
	switch {
	case h.digest:
		ru.d.stats.Digests++
	case raw == nil:
		ru.bad(ru.nextIndex(), errTooLarge)
	default:
		for _, sp := range spans[:ns] {
			*sp.slot = raw[sp.a:sp.b]
		}
		ru.dispatch(raw, &h, 0)
	}
	return true
}

// logEvents streams a CloudWatch Logs subscription payload's events; each message is one record.
func (ru *run) logEvents(control bool) {
	s := ru.s
	empty, err := s.opened(']')
	if err != nil || empty {
		ru.structural(err)
		return
	}
	for !ru.stopped {
		s.startCapture()
		err := s.skipValue()
		raw := s.captured()
		switch {
		case err != nil:
			ru.structural(err)
			return
		case raw == nil:
			ru.bad(ru.nextIndex(), errTooLarge)
		case control:
			ru.d.stats.Skipped++
		default:
			ru.logEvent(raw, 0)
		}
		more, err := s.next(']')
		if err != nil {
			ru.structural(err)
			return
		}
		if !more {
			return
		}
	}
}

// logEvent handles one CloudWatch Logs event: its message is a record as a JSON string.
func (ru *run) logEvent(raw []byte, depth int) {
	var msg []byte
	eachMember(raw, func(k, v []byte) bool {
		if string(k) == "message" {
			msg, _ = rawStr(v)
			return false
		}
		return true
	})
	if len(msg) == 0 || msg[0] != '{' {
		// Not a JSON record: a control message or a plain log line.
		ru.d.stats.Skipped++
		return
	}
	ru.handle(msg, depth+1)
}

// handle dispatches one captured value: a record, or an envelope holding records. raw is only
// valid during the call.
func (ru *run) handle(raw []byte, depth int) {
	if ru.stopped {
		return
	}
	if depth > maxNest {
		ru.bad(ru.nextIndex(), errors.New("envelopes nested too deep"))
		return
	}
	var h head
	if !h.read(raw) {
		ru.bad(ru.nextIndex(), errSyntax)
		return
	}
	ru.dispatch(raw, &h, depth)
}

// dispatch acts on a value whose head is read: a record of one of the clouds, or an envelope.
func (ru *run) dispatch(raw []byte, h *head, depth int) {
	switch {
	case h.protoPayload != nil:
		if ru.format != formatAuto && ru.format != formatGCP {
			ru.bad(ru.nextIndex(), ru.formatErr())
			return
		}
		ru.gcp(raw, h)
	case h.operationName != nil:
		if ru.format != formatAuto && ru.format != formatAzure {
			ru.bad(ru.nextIndex(), ru.formatErr())
			return
		}
		ru.azure(raw, h)
	case h.eventName != nil && h.eventSource != nil:
		if ru.format != formatAuto && ru.format != formatCloudTrail {
			ru.bad(ru.nextIndex(), ru.formatErr())
			return
		}
		ru.cloudTrail(raw, h)
	case h.detail != nil && h.detailType != nil:
		// EventBridge: CloudTrail-backed detail types carry one CloudTrail record.
		if dt, _ := rawStr(h.detailType); !containsFold(dt, "CloudTrail") || len(h.detail) == 0 || h.detail[0] != '{' {
			ru.d.stats.Skipped++
			return
		}
		ru.handle(h.detail, depth+1)
	case len(h.message) > 0 && h.message[0] == '{':
		// Pub/Sub push: {"message":{"data":base64,...},"subscription":...}
		var data []byte
		eachMember(h.message, func(k, v []byte) bool {
			if string(k) == "data" {
				data = v
				return false
			}
			return true
		})
		ru.pubsubData(data, depth)
	case h.data != nil && (h.messageID != nil || h.publishTime != nil):
		ru.pubsubData(h.data, depth)
	case h.logEvents != nil:
		if ctl, _ := rawStr(h.messageType); string(ctl) == "CONTROL_MESSAGE" {
			ru.d.stats.Skipped++
			return
		}
		eachElem(h.logEvents, func(e []byte) bool {
			ru.logEvent(e, depth)
			return !ru.stopped
		})
	case len(h.records) > 0 && h.records[0] == '[':
		eachElem(h.records, func(e []byte) bool {
			ru.handle(e, depth+1)
			return !ru.stopped
		})
	case h.digest:
		ru.d.stats.Digests++
	default:
		ru.bad(ru.nextIndex(), ru.formatErr())
	}
}

func (ru *run) formatErr() error {
	switch ru.format {
	case formatCloudTrail:
		return errNotCloudTrail
	case formatAzure:
		return errNotAzure
	case formatGCP:
		return errNotGCP
	}
	return errUnknownRecord
}

// pubsubData decodes a Pub/Sub message's base64 data and handles what it holds.
func (ru *run) pubsubData(v []byte, depth int) {
	b64, ok := rawStr(v)
	if !ok {
		ru.bad(ru.nextIndex(), errors.New("Pub/Sub message without data"))
		return
	}
	buf := make([]byte, base64.StdEncoding.DecodedLen(len(b64)))
	n, err := base64.StdEncoding.Decode(buf, b64)
	if err != nil {
		// Some publishers use the URL alphabet.
		n, err = base64.URLEncoding.Decode(buf, b64)
	}
	if err != nil {
		ru.bad(ru.nextIndex(), errors.New("Pub/Sub data is not base64"))
		return
	}
	ru.handle(buf[:n], depth+1)
}

// head holds a record's top-level members that say what it is, raw (slices of the record).
type head struct {
	// CloudTrail
	eventName, eventSource, eventID, eventTime, awsRegion, recipient, eventCategory, eventType, readOnly, identity, errorCode []byte
	// EventBridge
	detailType, detail []byte
	// Pub/Sub
	message, data, messageID, publishTime []byte
	// CloudWatch Logs payload, or a Records array inside a nested payload
	logEvents, messageType, records []byte
	digest                          bool
	// Azure (diagnostic-settings schema and REST EventData)
	operationName, time, resourceID, correlationID, resultType, category, eventDataID, eventTimestamp, status, subscriptionID []byte
	// GCP LogEntry
	protoPayload, insertID, logName, timestamp []byte
}

// read fills h from the top-level members of raw; false if raw is not an object.
func (h *head) read(raw []byte) bool {
	return eachMember(raw, func(k, v []byte) bool {
		if p := h.slot(k); p != nil {
			*p = v
		}
		return true
	})
}

// slot returns where a member's value goes, nil for members that do not matter. Digest keys
// only set the digest flag.
func (h *head) slot(k []byte) *[]byte {
	switch string(k) {
	case "eventName":
		return &h.eventName
	case "eventSource":
		return &h.eventSource
	case "eventID":
		return &h.eventID
	case "eventTime":
		return &h.eventTime
	case "awsRegion":
		return &h.awsRegion
	case "recipientAccountId":
		return &h.recipient
	case "eventCategory":
		return &h.eventCategory
	case "eventType":
		return &h.eventType
	case "readOnly":
		return &h.readOnly
	case "userIdentity":
		return &h.identity
	case "errorCode":
		return &h.errorCode
	case "detail-type":
		return &h.detailType
	case "detail":
		return &h.detail
	case "message":
		return &h.message
	case "data":
		return &h.data
	case "messageId":
		return &h.messageID
	case "publishTime":
		return &h.publishTime
	case "logEvents":
		return &h.logEvents
	case "messageType":
		return &h.messageType
	case "Records", "records", "value":
		return &h.records
	case "digestStartTime", "digestEndTime", "digestS3Object", "previousDigestSignature":
		h.digest = true
	case "operationName":
		return &h.operationName
	case "time":
		return &h.time
	case "resourceId":
		return &h.resourceID
	case "correlationId":
		return &h.correlationID
	case "resultType":
		return &h.resultType
	case "category":
		return &h.category
	case "eventDataId":
		return &h.eventDataID
	case "eventTimestamp":
		return &h.eventTimestamp
	case "status":
		return &h.status
	case "subscriptionId":
		return &h.subscriptionID
	case "protoPayload":
		return &h.protoPayload
	case "insertId":
		return &h.insertID
	case "logName":
		return &h.logName
	case "timestamp":
		return &h.timestamp
	}
	return nil
}

// eachElem calls fn with each element (raw) of the JSON array in b until fn returns false.
func eachElem(b []byte, fn func(elem []byte) bool) bool {
	i := skipWS(b, 0)
	if i >= len(b) || b[i] != '[' {
		return false
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == ']' {
		return true
	}
	for i < len(b) {
		e := valueEnd(b, i)
		if e < 0 {
			return false
		}
		if !fn(b[i:e]) {
			return true
		}
		i = skipWS(b, e)
		if i >= len(b) {
			return false
		}
		if b[i] == ']' {
			return true
		}
		if b[i] != ',' {
			return false
		}
		i = skipWS(b, i+1)
	}
	return false
}

// containsFold reports whether b contains sub, ASCII case-insensitively.
func containsFold(b []byte, sub string) bool {
	n := len(sub)
	for i := 0; i+n <= len(b); i++ {
		if equalFoldASCII(b[i:i+n], sub) {
			return true
		}
	}
	return false
}

func equalFoldASCII(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		x, y := b[i], s[i]
		if x|0x20 != y|0x20 || (x|0x20 < 'a' || x|0x20 > 'z') && x != y {
			return false
		}
	}
	return true
}
