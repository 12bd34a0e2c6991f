package cloudtrail

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"runtime"
	"strings"
	"time"

	"github.com/activity-aware/ids/activity"
)

// SourceName is the activity source name; the EventBridge Source of its
// entries is "activity-aware-ids.cloudtrail".
const SourceName = "cloudtrail"

// Enricher adds to an activity after standardization: detections label it and
// raise its severity, the denial explainer sets Permission. raw is the
// original CloudTrail record's JSON bytes; an enricher must not modify or keep
// it.
type Enricher interface {
	Enrich(a *activity.Activity, raw []byte)
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
	// scratch holds idle working states. Unlike a sync.Pool it survives
	// garbage collections, which a busy source runs every few batches, so
	// the interned strings and the batch buffers are kept.
	scratch chan *scratch
}

// New returns a Source configured by opts.
func New(opts Options) *Source {
	return &Source{
		enrichers:    append([]Enricher(nil), opts.Enrichers...),
		accountNames: opts.AccountNames,
		scratch:      make(chan *scratch, max(runtime.GOMAXPROCS(0), 2)),
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
	sc := s.getScratch()
	defer s.putScratch(sc)
	return s.fromRecord(sc, raw, false, origin, fallback)
}

// fromRecord is FromRecord with the caller's scratch. When owned is set, raw
// is the caller's to give: the activity's Detail may be a slice of it.
func (s *Source) fromRecord(sc *scratch, raw []byte, owned bool, origin *activity.Origin, fallback time.Time) *activity.Activity {
	if fallback.IsZero() {
		fallback = time.Now().UTC()
	}
	text := bytes.TrimSpace(raw)
	if len(text) == 0 || text[0] != '{' {
		return s.unrecognized(raw, origin, fallback)
	}
	m := &sc.members
	m.reset()
	sc.vals = sc.vals[:0]
	compact := sc.readRecord(text, m, origin)
	if !compact {
		var valid bool
		if valid, compact = sc.readGeneral(text, m, origin); !valid {
			return s.unrecognized(raw, origin, fallback)
		}
	}
	if !m.recognized() {
		return s.unrecognized(raw, origin, fallback)
	}
	a := m.activity(sc, origin, fallback)
	detail := text[:len(text):len(text)] // capped: an append by its owner copies
	if !owned {
		detail = bytes.Clone(text)
	}
	if compact {
		// Checked here, so the encoder need not check it again.
		a.SetCheckedDetail(detail)
	} else {
		a.Detail = detail
	}
	if name, ok := s.accountNames[a.Account.ID]; ok {
		a.Account.Name = name
	}
	s.enrich(a)
	return a
}

// readGeneral reads text into m with the general parser: anything the
// one-pass reader does not take (whitespace, escaped member names, deep
// nesting, invalid JSON). It reports whether text is strictly valid JSON and
// whether it is compact; m is filled only when it is valid. fastjson's parser
// is lenient (NaN, raw control characters); the strict check keeps Detail
// acceptable to encoding/json and EventBridge.
func (sc *scratch) readGeneral(text []byte, m *members, origin *activity.Origin) (valid, compact bool) {
	m.reset()
	sc.vals = sc.vals[:0]
	v, err := sc.record.ParseBytes(text)
	if err != nil {
		return false, false
	}
	if valid, compact = strictAfterParse(text); !valid {
		return false, false
	}
	r := record{sc: sc}
	r.read(m, v, origin)
	return true, compact
}

func (s *Source) getScratch() *scratch {
	select {
	case sc := <-s.scratch:
		return sc
	default:
		return newScratch()
	}
}

// putScratch keeps sc for the next call, unless enough are kept or a hostile
// batch made its buffers huge.
func (s *Source) putScratch(sc *scratch) {
	if cap(sc.msgs) > maxInflated || cap(sc.ids) > maxInflated || cap(sc.vals) > maxInflated || cap(sc.text) > maxInflated {
		return
	}
	select {
	case s.scratch <- sc:
	default:
	}
}

func (s *Source) enrich(a *activity.Activity) {
	for _, e := range s.enrichers {
		e.Enrich(a, a.Detail)
	}
}

// unrecognized is the activity of a log event that is not a CloudTrail
// record. Its id derives from the log event id when known (so a retried batch
// keeps its ids), else from the text.
func (s *Source) unrecognized(raw []byte, origin *activity.Origin, at time.Time) *activity.Activity {
	text := strings.ToValidUTF8(string(raw), "\uFFFD")
	subject := "Unrecognized log event"
	var id string
	fields := make([]activity.Field, 0, 3)
	if origin != nil {
		if origin.LogGroup != "" {
			subject += " in " + origin.LogGroup
			fields = append(fields, activity.Field{Key: "Log Group", Value: origin.LogGroup})
		}
		if origin.LogStream != "" {
			fields = append(fields, activity.Field{Key: "Log Stream", Value: origin.LogStream})
		}
		if origin.LogEventID != "" {
			id = "unrecognized-" + origin.LogEventID
		}
	}
	if id == "" {
		sum := sha256.Sum256(raw)
		id = "unrecognized-" + hex.EncodeToString(sum[:16])
	}
	short := activity.Truncate(text, maxUnrecognizedRunes)
	fields = append(fields, activity.Field{Key: "Message", Value: short})
	detail, _ := json.Marshal(activity.Truncate(text, maxUnrecognizedDetail))
	a := &activity.Activity{
		SchemaVersion: activity.SchemaVersion,
		ID:            id,
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
	s.enrich(a)
	return a
}
