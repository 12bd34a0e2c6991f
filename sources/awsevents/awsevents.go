// Package awsevents reads the events AWS services deliver through
// EventBridge (GuardDuty, Security Hub and IAM Access Analyzer findings,
// CloudTrail records) and routes each to the source that turns it into
// activities. It is what those sources share: the envelope, the router, the
// Lambda handler and the AWS console links of a partition.
//
// An event is the EventBridge envelope as a rule delivers it to its target,
// {"version":"0","id":…,"detail-type":…,"source":…,"account":…,"time":…,
// "region":…,"resources":[…],"detail":{…}}. Input that is not such an
// envelope is an error wrapping ErrNotEvent. An envelope no configured source
// accepts, or whose detail its source cannot read, becomes an activity of its
// own (severity info, tag TagUnrecognized) carrying the trimmed event:
// nothing is dropped silently.
package awsevents

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/valyala/fastjson"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/internal/jsonscan"
)

// ErrNotEvent reports input that is not an EventBridge event envelope.
var ErrNotEvent = errors.New("awsevents: not an EventBridge event")

// TagUnrecognized labels the activity of an event no source could read.
const TagUnrecognized = "unrecognized"

// Event is the EventBridge envelope (aws-lambda-go's type).
type Event = events.EventBridgeEvent

// Limits on text copied from an event into an activity's display text.
const (
	MaxSubjectRunes = 256
	MaxFieldRunes   = 1024
	// maxUnrecognizedDetail bounds the event kept in an unrecognized event's
	// Detail; activity.NewEntry bounds it again for the bus.
	maxUnrecognizedDetail = 64 * 1024
)

// Decode reads one event envelope. It requires source, detail-type and an
// object detail.
func Decode(raw []byte) (*Event, error) {
	var ev Event
	if err := json.Unmarshal(raw, &ev); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotEvent, err)
	}
	switch {
	case ev.Source == "":
		return nil, fmt.Errorf("%w: no source", ErrNotEvent)
	case ev.DetailType == "":
		return nil, fmt.Errorf("%w: no detail-type", ErrNotEvent)
	case len(bytes.TrimSpace(ev.Detail)) == 0 || bytes.TrimSpace(ev.Detail)[0] != '{':
		return nil, fmt.Errorf("%w: detail is not an object", ErrNotEvent)
	}
	return &ev, nil
}

// IsEvent reports whether raw looks like an EventBridge envelope (an object
// with a detail-type member), so that readers of mixed input can tell events
// from CloudTrail records without decoding either fully. It answers as
// decoding raw with encoding/json into a struct of a *string detail-type and
// a json.RawMessage detail would (keys matched without regard to case, the
// last of a repeated key winning, a non-string detail-type refusing the
// whole): valid JSON, detail-type a string, detail present.
func IsEvent(raw []byte) bool {
	if !mayNameDetailType(raw) {
		return false // a CloudTrail record, mostly: told without a parse
	}
	p := probes.Get()
	defer probes.Put(p)
	v, err := p.ParseBytes(raw)
	if err != nil {
		return probeEvent(raw) // not JSON, or nested deeper than fastjson parses
	}
	if v.Type() != fastjson.TypeObject {
		return false
	}
	var detailType, detail, wrongType bool
	v.GetObject().Visit(func(k []byte, v *fastjson.Value) {
		switch {
		case bytes.EqualFold(k, []byte("detail-type")):
			// null leaves the *string nil; another type is an error.
			detailType = v.Type() == fastjson.TypeString
			wrongType = wrongType || (!detailType && v.Type() != fastjson.TypeNull)
		case bytes.EqualFold(k, []byte("detail")):
			detail = true // a RawMessage takes any value, null too
		}
	})
	if !detailType || !detail || wrongType {
		return false
	}
	// fastjson lets some invalid JSON through; encoding/json would not.
	valid, _ := jsonscan.Check(raw)
	return valid
}

// mayNameDetailType reports whether raw may hold a member name that
// encoding/json matches to detail-type: the name in any case of its ASCII
// letters (none of them has another fold), or any \u escape, which may spell
// a letter of it. Without either, raw is no event.
func mayNameDetailType(raw []byte) bool {
	if bytes.Contains(raw, []byte(`\u`)) {
		return true
	}
	const before, after = "detail", "type"
	for i := 0; ; i++ {
		j := bytes.IndexByte(raw[i:], '-')
		if j < 0 {
			return false
		}
		i += j // raw[i] is the hyphen
		if i >= len(before) && i+1+len(after) <= len(raw) &&
			bytes.EqualFold(raw[i-len(before):i], []byte(before)) && bytes.EqualFold(raw[i+1:i+1+len(after)], []byte(after)) {
			return true
		}
	}
}

// probes parse what IsEvent reads.
var probes fastjson.ParserPool

// probeEvent is IsEvent with encoding/json.
func probeEvent(raw []byte) bool {
	var probe struct {
		DetailType *string         `json:"detail-type"`
		Detail     json.RawMessage `json:"detail"`
	}
	return json.Unmarshal(raw, &probe) == nil && probe.DetailType != nil && len(probe.Detail) > 0
}

// Source turns the events it accepts into activities.
type Source interface {
	// Name is the activity source name, e.g. "guardduty".
	Name() string
	// Accepts reports whether the source reads events of this EventBridge
	// source and detail-type.
	Accepts(source, detailType string) bool
	// Activities standardizes one event. An event whose detail the source
	// cannot read is an error wrapping ErrUnreadable: the router turns it
	// into an unrecognized-event activity.
	Activities(ev *Event) ([]*activity.Activity, error)
}

// ErrUnreadable reports an event whose detail its source cannot read.
var ErrUnreadable = errors.New("awsevents: unreadable detail")

// Router hands each event to the first source that accepts it.
type Router struct {
	Sources []Source
}

// FromEvent standardizes one event envelope (its JSON bytes). Input that is
// not an envelope is an error wrapping ErrNotEvent; any envelope yields
// activities (possibly none, when its source skips it on purpose).
func (r *Router) FromEvent(raw []byte) ([]*activity.Activity, error) {
	ev, err := Decode(raw)
	if err != nil {
		return nil, err
	}
	return r.Route(ev), nil
}

// Route standardizes a decoded event.
func (r *Router) Route(ev *Event) []*activity.Activity {
	for _, s := range r.Sources {
		if !s.Accepts(ev.Source, ev.DetailType) {
			continue
		}
		acts, err := s.Activities(ev)
		if err != nil {
			return []*activity.Activity{Unrecognized(ev, s.Name(), err.Error())}
		}
		return acts
	}
	return []*activity.Activity{Unrecognized(ev, "events", "no source reads "+ev.Source+" "+ev.DetailType+" events")}
}

// Unrecognized is the activity of an event that source could not read, for
// reason. Its id derives from the event's id, so a redelivered event keeps it.
func Unrecognized(ev *Event, source, reason string) *activity.Activity {
	id := ev.ID
	if id == "" {
		sum := sha256.Sum256(ev.Detail)
		id = hex.EncodeToString(sum[:16])
	}
	at := ev.Time.UTC()
	if at.IsZero() {
		at = time.Now().UTC()
	}
	raw, _ := json.Marshal(ev)
	text := strings.ToValidUTF8(string(raw), "\uFFFD")
	detail, _ := json.Marshal(activity.Truncate(text, maxUnrecognizedDetail))
	return &activity.Activity{
		SchemaVersion: activity.SchemaVersion,
		ID:            "unrecognized-" + id,
		Source:        source,
		Subject:       activity.Truncate("Unrecognized event: "+ev.Source+" "+ev.DetailType, MaxSubjectRunes),
		Severity:      activity.Info,
		Time:          at,
		Account:       activity.Account{ID: ev.AccountID},
		Region:        ev.Region,
		Fields: []activity.Field{
			{Key: "Event source", Value: activity.Truncate(ev.Source, MaxFieldRunes)},
			{Key: "Detail type", Value: activity.Truncate(ev.DetailType, MaxFieldRunes)},
			{Key: "Reason", Value: activity.Truncate(reason, MaxFieldRunes)},
		},
		Tags:      []string{TagUnrecognized},
		Detail:    detail,
		Truncated: len(text) > maxUnrecognizedDetail,
	}
}

// CompactDetail returns the event's detail without insignificant
// whitespace, for Activity.Detail.
func CompactDetail(ev *Event) json.RawMessage {
	var b bytes.Buffer
	if err := json.Compact(&b, ev.Detail); err != nil {
		return ev.Detail
	}
	return b.Bytes()
}

// Partition returns the AWS partition of a region ("aws", "aws-cn",
// "aws-us-gov"), or of an ARN when the region says nothing.
func Partition(region, arn string) string {
	switch {
	case strings.HasPrefix(region, "us-gov-"), strings.HasPrefix(arn, "arn:aws-us-gov:"):
		return "aws-us-gov"
	case strings.HasPrefix(region, "cn-"), strings.HasPrefix(arn, "arn:aws-cn:"):
		return "aws-cn"
	}
	return "aws"
}

// ConsoleURL returns the AWS console URL of service's page in region, on the
// console host of the region's partition, with query and fragment as given
// (the caller escapes what it puts in them). It reports false for a region
// that is not shaped like one, so that no event text ever chooses the host.
func ConsoleURL(region, service, query, fragment string) (string, bool) {
	if !ValidRegion(region) {
		return "", false
	}
	var host string
	switch Partition(region, "") {
	case "aws-us-gov":
		host = "console.amazonaws-us-gov.com"
	case "aws-cn":
		host = "console.amazonaws.cn"
	default:
		host = region + ".console.aws.amazon.com"
	}
	u := url.URL{Scheme: "https", Host: host, Path: "/" + service + "/home", RawQuery: query}
	if f, err := url.PathUnescape(fragment); err == nil {
		// RawFragment keeps the caller's escaping (String re-escapes '%').
		u.Fragment, u.RawFragment = f, fragment
	}
	return u.String(), true
}

// ValidRegion accepts region names shaped like "us-east-1" or
// "us-gov-west-1": lower-case words joined by '-', ending in a number. It
// allocates nothing: the CloudTrail source asks it of every record.
func ValidRegion(r string) bool {
	if len(r) > 32 {
		return false
	}
	for parts := 1; ; parts++ {
		p, rest, more := strings.Cut(r, "-")
		if p == "" {
			return false
		}
		for j := 0; j < len(p); j++ {
			c := p[j]
			if !more && (c < '0' || c > '9') || more && (c < 'a' || c > 'z') {
				return false
			}
		}
		if !more {
			return parts >= 3
		}
		r = rest
	}
}

// ParseTime reads an RFC 3339 time as AWS services write it; the zero time
// when s is not one.
func ParseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s))
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}

// EventTime returns the first of ts that is set, else the envelope's time,
// else now.
func EventTime(ev *Event, ts ...time.Time) time.Time {
	for _, t := range ts {
		if !t.IsZero() {
			return t
		}
	}
	if !ev.Time.IsZero() {
		return ev.Time.UTC()
	}
	return time.Now().UTC()
}

// Fields collects display fields, skipping empty values and trimming each
// value to MaxFieldRunes.
type Fields []activity.Field

// Add appends key: value unless value is blank.
func (f *Fields) Add(key, value string) {
	if strings.TrimSpace(value) == "" {
		return
	}
	*f = append(*f, activity.Field{Key: key, Value: activity.Truncate(value, MaxFieldRunes)})
}

// IsConsoleURL reports whether u is an https URL on an AWS console host:
// "<region>.console.aws.amazon.com", "console.amazonaws.cn" or
// "console.amazonaws-us-gov.com".
func IsConsoleURL(u string) bool {
	p, err := url.Parse(u)
	if err != nil || p.Scheme != "https" || p.User != nil || p.Port() != "" {
		return false
	}
	switch host := p.Host; host {
	case "console.amazonaws.cn", "console.amazonaws-us-gov.com":
		return true
	default:
		region, ok := strings.CutSuffix(host, ".console.aws.amazon.com")
		return ok && ValidRegion(region)
	}
}

// FirstOf returns the first of vs that is not blank, trimmed, or "".
func FirstOf(vs ...string) string {
	for _, v := range vs {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return ""
}

// ARNField returns field i of an ARN (3 the region, 4 the account id, 5 the
// resource), or "" when arn is not one. It allocates nothing.
func ARNField(arn string, i int) string {
	var parts [6]string
	rest := arn
	for n := range 5 {
		var ok bool
		if parts[n], rest, ok = strings.Cut(rest, ":"); !ok {
			return ""
		}
	}
	parts[5] = rest
	if parts[0] != "arn" || i < 0 || i >= len(parts) {
		return ""
	}
	return parts[i]
}

// Finding is what the activities of the finding sources (GuardDuty,
// Security Hub, IAM Access Analyzer) share: each update of a finding is one
// activity, identified by the source, the finding and the time it was last
// updated (else created), and stamped with that time.
type Finding struct {
	// Source is the source's name, the id's prefix.
	Source string
	// ID, UpdatedAt and CreatedAt are the finding's own.
	ID, UpdatedAt, CreatedAt string
	// AccountID is the finding's account; the envelope's when blank.
	AccountID string
	// Subject is the activity's subject before truncation.
	Subject  string
	Severity activity.Severity
	Region   string
}

// Activity returns the activity of f in ev: id Source-ID@UpdatedAt (else
// CreatedAt, else none), time UpdatedAt, else CreatedAt, else the
// envelope's (EventTime), the subject truncated to MaxSubjectRunes.
func (f Finding) Activity(ev *Event) *activity.Activity {
	id := f.Source + "-" + f.ID
	if v := FirstOf(f.UpdatedAt, f.CreatedAt); v != "" {
		id += "@" + v
	}
	return &activity.Activity{
		SchemaVersion: activity.SchemaVersion,
		ID:            id,
		Source:        f.Source,
		Subject:       activity.Truncate(f.Subject, MaxSubjectRunes),
		Severity:      f.Severity,
		Time:          EventTime(ev, ParseTime(f.UpdatedAt), ParseTime(f.CreatedAt)),
		Account:       activity.Account{ID: FirstOf(f.AccountID, ev.AccountID)},
		Region:        f.Region,
	}
}

// Band is one step of a service's severity scale: scores from Min up rank
// Severity.
type Band struct {
	Min      float64
	Severity activity.Severity
}

// Rank returns the severity of the first of bands (highest first) that v
// reaches, else floor (also for NaN).
func Rank(v float64, floor activity.Severity, bands ...Band) activity.Severity {
	for _, b := range bands {
		if v >= b.Min {
			return b.Severity
		}
	}
	return floor
}
