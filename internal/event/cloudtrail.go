package event

import (
	"encoding/json"
	"errors"
	"strings"
)

// ctRecord is a CloudTrail record's fixed top level. Nested members stay raw and are decoded
// only by the handler of the event that needs them.
type ctRecord struct {
	EventTime           string          `json:"eventTime"`
	EventSource         string          `json:"eventSource"`
	EventName           string          `json:"eventName"`
	AwsRegion           string          `json:"awsRegion"`
	SourceIPAddress     string          `json:"sourceIPAddress"`
	UserAgent           string          `json:"userAgent"`
	UserIdentity        ctIdentity      `json:"userIdentity"`
	RequestParameters   json.RawMessage `json:"requestParameters"`
	ResponseElements    json.RawMessage `json:"responseElements"`
	AdditionalEventData json.RawMessage `json:"additionalEventData"`
	ServiceEventDetails json.RawMessage `json:"serviceEventDetails"`
	ErrorCode           string          `json:"errorCode"`
	ErrorMessage        string          `json:"errorMessage"`
	EventID             string          `json:"eventID"`
	ReadOnly            any             `json:"readOnly"`
	EventType           string          `json:"eventType"`
	RecipientAccountID  string          `json:"recipientAccountId"`
	SharedEventID       string          `json:"sharedEventID"`
	EventCategory       string          `json:"eventCategory"`
	RequestID           string          `json:"requestID"`
}

type ctIdentity struct {
	Type           string `json:"type"`
	PrincipalID    string `json:"principalId"`
	ARN            string `json:"arn"`
	AccountID      string `json:"accountId"`
	AccessKeyID    string `json:"accessKeyId"`
	UserName       string `json:"userName"`
	InvokedBy      string `json:"invokedBy"`
	SessionContext struct {
		SessionIssuer struct {
			ARN      string `json:"arn"`
			UserName string `json:"userName"`
		} `json:"sessionIssuer"`
		Attributes struct {
			MFAAuthenticated any `json:"mfaAuthenticated"`
		} `json:"attributes"`
	} `json:"sessionContext"`
}

// ctHandler normalizes one event name: it sets Resource, Grants and Facts from the request and
// response.
type ctHandler func(ev *Event, req, resp any, rec *ctRecord)

// cloudTrail turns one CloudTrail record into an Event: a partial one straight from the head
// when the pre-filter says the event name cannot matter, a full one otherwise.
func (ru *run) cloudTrail(raw []byte, h *head) {
	idx := ru.nextIndex()
	if ru.stopped {
		return
	}
	name, _ := rawStr(h.eventName)
	handler, interesting := ctHandlers[string(name)]
	if !interesting && !ru.d.opt.All {
		// Built in place and yielded by pointer: an Event is large, and this path runs for
		// almost every record.
		ev := &ru.ev
		if !ru.ctPartial(ev, h, name) {
			ru.bad(idx, errors.New("CloudTrail record without eventName or eventTime"))
			return
		}
		ev.Origin = Origin{Source: ru.source, Index: idx}
		ru.emit(ev)
		return
	}
	var rec ctRecord
	if err := unmarshal(raw, &rec); err != nil {
		var te *json.UnmarshalTypeError
		if !errors.As(err, &te) {
			ru.bad(idx, err)
			return
		}
		// A member of an unexpected type was left empty; the rest decoded. Keep the event.
	}
	ev, err := ru.ctFull(&rec, handler)
	if err != nil {
		ru.bad(idx, err)
		return
	}
	ev.Raw = append(json.RawMessage(nil), raw...)
	ev.Origin = Origin{Source: ru.source, Index: idx}
	ru.emit(&ev)
}

// ctPartial builds a partial event from the record's head alone.
func (ru *run) ctPartial(ev *Event, h *head, name []byte) bool {
	ts, _ := strVal(h.eventTime)
	t, ok := parseTime(ts)
	if !ok || len(name) == 0 {
		return false
	}
	in := &ru.d.names
	*ev = Event{Cloud: "aws", Time: t, Action: in.get(name), Partial: true}
	if b, ok := rawStr(h.eventID); ok {
		ev.ID = string(b)
	}
	if b, ok := rawStr(h.eventSource); ok {
		ev.Service = in.get(b)
	}
	if b, ok := rawStr(h.awsRegion); ok {
		ev.Region = in.get(b)
	}
	if b, ok := rawStr(h.recipient); ok {
		ev.Account = in.get(b)
	} else if h.identity != nil {
		// Fall back to the caller's account, as the full decode does.
		eachMember(h.identity, func(k, v []byte) bool {
			if string(k) == "accountId" {
				if b, ok := rawStr(v); ok {
					ev.Account = in.get(b)
				}
				return false
			}
			return true
		})
	}
	cat, _ := rawStr(h.eventCategory)
	typ, _ := rawStr(h.eventType)
	ev.Category = ctCategory(string(cat), string(typ))
	ev.ReadOnly = string(h.readOnly) == "true" || string(h.readOnly) == `"true"`
	ev.Success = true
	if b, ok := rawStr(h.errorCode); ok && len(b) > 0 {
		ev.Success, ev.ErrorCode = false, in.get(b)
	}
	return true
}

func ctCategory(cat, typ string) string {
	if typ == "AwsServiceEvent" {
		return "service"
	}
	switch cat {
	case "Management", "":
		return "management"
	case "Data":
		return "data"
	case "Insight":
		return "insight"
	}
	return strings.ToLower(cat)
}

// ctFull builds a full event from a decoded record.
func (ru *run) ctFull(rec *ctRecord, handler ctHandler) (Event, error) {
	if rec.EventName == "" {
		return Event{}, errors.New("CloudTrail record without eventName")
	}
	t, ok := parseTime(rec.EventTime)
	if !ok {
		return Event{}, errors.New("CloudTrail record with a bad eventTime")
	}
	id := &rec.UserIdentity
	ev := Event{
		ID:           rec.EventID,
		Time:         t,
		Cloud:        "aws",
		Account:      rec.RecipientAccountID,
		Region:       rec.AwsRegion,
		Service:      rec.EventSource,
		Action:       rec.EventName,
		Category:     ctCategory(rec.EventCategory, rec.EventType),
		ReadOnly:     rec.ReadOnly == true || rec.ReadOnly == "true",
		SourceIP:     rec.SourceIPAddress,
		UserAgent:    rec.UserAgent,
		Success:      rec.ErrorCode == "",
		ErrorCode:    rec.ErrorCode,
		ErrorMessage: rec.ErrorMessage,
		Actor: Actor{
			Type:          id.Type,
			ID:            id.PrincipalID,
			ARN:           id.ARN,
			Name:          actorName(id),
			Account:       id.AccountID,
			AccessKeyID:   id.AccessKeyID,
			MFA:           id.SessionContext.Attributes.MFAAuthenticated == "true" || id.SessionContext.Attributes.MFAAuthenticated == true,
			SessionIssuer: id.SessionContext.SessionIssuer.ARN,
			InvokedBy:     id.InvokedBy,
		},
	}
	if ev.Account == "" {
		ev.Account = id.AccountID
	}
	setFact(&ev, "shared_event_id", rec.SharedEventID)
	setFact(&ev, "request_id", rec.RequestID)
	if handler != nil {
		req := decodeAny(rec.RequestParameters)
		resp := decodeAny(rec.ResponseElements)
		handler(&ev, req, resp, rec)
		if ev.Resource.Account == "" && ev.Resource.Type != "" {
			ev.Resource.Account = ev.Account
		}
		if ev.Resource.Region == "" && ev.Resource.Type != "" && ev.Resource.Type != "kms-key" {
			ev.Resource.Region = ev.Region
		}
	}
	return ev, nil
}

// actorName is the human name of the caller: the IAM user name, the role session name, "root".
func actorName(id *ctIdentity) string {
	switch {
	case id.UserName != "":
		return id.UserName
	case id.Type == "Root":
		return "root"
	case id.Type == "AssumedRole" && id.ARN != "":
		return lastSegment(id.ARN, '/')
	}
	return ""
}
