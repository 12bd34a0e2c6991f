package cloudtrail

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"

	"github.com/valyala/fastjson"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/internal/jsonscan"
)

// SourceName is the activity source name; the EventBridge Source of its
// entries is "activity-aware-ids.cloudtrail".
const SourceName = "cloudtrail"

// Enricher adds to an activity after standardization: detections label it and
// raise its severity, the denial explainer sets Permission. raw is the log
// event's text and rec the record the source parsed from it, the one parse
// every reader shares (nil for a log event that is not a CloudTrail record).
// An enricher must not modify or keep either: both are reused for the next
// record.
type Enricher interface {
	Enrich(a *activity.Activity, raw []byte, rec *fastjson.Value)
}

// Options configure a Source.
type Options struct {
	// Enrichers run in order on every activity, recognized or not.
	Enrichers []Enricher
	// AccountNames maps an account id to a name for Account.Name. It must
	// not be modified after New.
	AccountNames map[string]string
}

// Source turns CloudTrail records into activities. It is safe for concurrent
// use.
type Source struct {
	enrichers    []Enricher
	accountNames map[string]string
}

// New returns a Source configured by opts.
func New(opts Options) *Source {
	return &Source{
		enrichers:    append([]Enricher(nil), opts.Enrichers...),
		accountNames: opts.AccountNames,
	}
}

// Limits on what the source copies from a record into display text; the full
// record stays in Activity.Detail (bounded later by activity.NewEntry).
const (
	maxSubjectRunes = 256
	maxFieldRunes   = 4096
	// maxUnrecognizedRunes bounds the raw text kept for an unrecognized log
	// event in its display field; maxUnrecognizedDetail bounds it in Detail.
	maxUnrecognizedRunes  = 1000
	maxUnrecognizedDetail = 64 * 1024
	// maxDepth is the nesting a record keeps; deeper objects and arrays
	// become text previews of previewBytes (fastjson parses 300 levels).
	maxDepth     = 64
	previewBytes = 1024
)

// TagUnrecognized labels the activity of a log event that is not a CloudTrail
// record.
const TagUnrecognized = "unrecognized"

// TagOmitted labels the activity of a record in which CloudTrail omitted
// members for size ("omitted": true).
const TagOmitted = "cloudtrail-omitted"

// FromRecord standardizes one CloudTrail record (its JSON bytes) into one
// activity. It never returns nil and never panics: input that is not a
// CloudTrail record becomes an unrecognized-log-event activity. origin may be
// nil. fallback is the time used when the record has no usable eventTime
// (time.Now when fallback is zero). FromRecord keeps no reference to raw.
func (s *Source) FromRecord(raw []byte, origin *activity.Origin, fallback time.Time) *activity.Activity {
	sc := scratches.Get().(*scratch)
	defer putScratch(sc)
	return s.fromRecord(sc, raw, false, jsonscan.Verdict{}, origin, fallback)
}

// fromRecord is FromRecord with the caller's scratch. When owned is set, raw
// is the caller's to give: the activity's Detail may be a slice of it. A
// known verdict is jsonscan.Check's answer for raw, which has no backslash.
//
// The record is parsed once, with fastjson, into the value the activity
// builder, the detections and the denial explanation all read. fastjson's
// parser is lenient (NaN, raw control characters, 01); jsonscan.Check keeps
// Detail to what encoding/json and EventBridge accept.
func (s *Source) fromRecord(sc *scratch, raw []byte, owned bool, checked jsonscan.Verdict, origin *activity.Origin, fallback time.Time) *activity.Activity {
	if fallback.IsZero() {
		fallback = time.Now().UTC()
	}
	text := bytes.TrimSpace(raw)
	if len(text) == 0 || text[0] != '{' {
		return s.unrecognized(raw, origin, fallback)
	}
	if len(text) != len(raw) {
		checked = jsonscan.Verdict{} // it was given for raw
	}
	valid, compact := checked.Check(text)
	if !valid {
		return s.unrecognized(raw, origin, fallback)
	}
	// fastjson keeps a lone surrogate escape as text; encoding/json (and so
	// every consumer of the activity) reads U+FFFD: the parser reads a copy
	// with those escapes written \ufffd, the Detail stays the record.
	parsed := text
	if !checked.Known { // else there is no escape
		parsed, _ = jsonscan.FixLoneSurrogates(text)
	}
	v, err := sc.record.ParseBytes(parsed)
	summarized := false
	if err != nil {
		// Valid JSON nested deeper than the parser goes: an attacker's
		// requestParameters must not cost the alert. The deep part becomes
		// a preview; everything above it is read as usual.
		text, summarized = jsonscan.Summarize(parsed, maxDepth, previewBytes)
		owned = true
		if v, err = sc.record.ParseBytes(text); err != nil {
			return s.unrecognized(raw, origin, fallback)
		}
	}
	r := &sc.rec
	r.find(v)
	if !r.recognized() {
		return s.unrecognized(raw, origin, fallback)
	}
	a := r.activity(sc, origin, fallback)
	if a.ID == "" {
		a.ID = derivedID("logevent-", "record-", origin, text)
	}
	detail := text[:len(text):len(text)] // capped: an append by its owner copies
	if !owned {
		detail = bytes.Clone(text)
	}
	a.Detail = detail
	if compact && !summarized {
		a.SetCheckedDetail(detail) // encoded without a second check
	}
	a.Truncated = a.Truncated || summarized
	if name, ok := s.accountNames[a.Account.ID]; ok {
		a.Account.Name = name
	}
	for _, e := range s.enrichers {
		e.Enrich(a, text, v)
	}
	return a
}

// derivedID is the id of an activity whose record has none: from the log
// event id when the record came through a subscription, so that a retried
// batch keeps its ids, else from the record's text.
func derivedID(logEventPrefix, textPrefix string, origin *activity.Origin, text []byte) string {
	if origin != nil && origin.LogEventID != "" {
		return logEventPrefix + origin.LogEventID
	}
	sum := sha256.Sum256(text)
	return textPrefix + hex.EncodeToString(sum[:16])
}

// unrecognized is the activity of a log event that is not a CloudTrail
// record.
func (s *Source) unrecognized(raw []byte, origin *activity.Origin, at time.Time) *activity.Activity {
	text := strings.ToValidUTF8(string(raw), "\uFFFD")
	subject := "Unrecognized log event"
	fields := make([]activity.Field, 0, 3)
	if origin != nil && origin.LogGroup != "" {
		subject += " in " + origin.LogGroup
		fields = append(fields, activity.Field{Key: "Log Group", Value: origin.LogGroup})
	}
	if origin != nil && origin.LogStream != "" {
		fields = append(fields, activity.Field{Key: "Log Stream", Value: origin.LogStream})
	}
	short := activity.Truncate(text, maxUnrecognizedRunes)
	fields = append(fields, activity.Field{Key: "Message", Value: short})
	detail, _ := json.Marshal(activity.Truncate(text, maxUnrecognizedDetail))
	a := &activity.Activity{
		SchemaVersion: activity.SchemaVersion,
		ID:            derivedID("unrecognized-", "unrecognized-", origin, raw),
		Source:        SourceName,
		Subject:       activity.Truncate(subject, maxSubjectRunes),
		Severity:      activity.Info,
		Time:          at,
		Fields:        fields,
		Tags:          []string{TagUnrecognized},
		Origin:        origin,
		Detail:        detail,
		Truncated:     len(short) < len(text),
	}
	for _, e := range s.enrichers {
		e.Enrich(a, raw, nil)
	}
	return a
}
