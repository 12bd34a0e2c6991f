package activity

import (
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"unicode/utf8"
	"unsafe"

	gojson "github.com/goccy/go-json"
	"github.com/valyala/fastjson"

	"github.com/activity-aware/ids/internal/jsonscan"
)

// DefaultMaxEntrySize is EventBridge's PutEvents entry size limit as the API
// reference states it (256 KB). AWS announced 1 MB in 2026; callers that know
// their bus accepts more pass a larger limit.
const DefaultMaxEntrySize = 256 * 1024

// entryTimeBytes is what EventBridge counts for an entry's Time field.
const entryTimeBytes = 14

// Entry is an activity as an EventBridge PutEvents request entry, without the
// bus name.
type Entry struct {
	Source     string
	DetailType string
	Detail     []byte
}

// Size is the entry's size as EventBridge computes it: 14 bytes for Time plus
// the UTF-8 bytes of Source, DetailType and Detail (it carries no Resources).
func (e *Entry) Size() int {
	return entryTimeBytes + len(e.Source) + len(e.DetailType) + len(e.Detail)
}

// AppendJSON appends the entry as the JSON object
// {"Source":…,"DetailType":…,"Detail":…}, Detail as a JSON string, exactly as
// encoding/json writes a struct of those three string fields without HTML
// escaping: how aaids replay prints what the source would publish.
func (e *Entry) AppendJSON(b []byte) ([]byte, error) {
	enc := encoders.Get().(*encoder)
	defer enc.release()
	detail := unsafe.String(unsafe.SliceData(e.Detail), len(e.Detail)) // read in place
	enc.entry = struct{ Source, DetailType, Detail string }{e.Source, e.DetailType, detail}
	return enc.appendJSON(b, &enc.entry)
}

// encoder is a goccy/go-json encoder without HTML escaping, the buffer it
// writes to, room for what it encodes and for an activity's head; encoders
// pools them, so an encoding allocates only what it returns.
type encoder struct {
	buf, head []byte
	enc       *gojson.Encoder
	act       Activity
	entry     struct{ Source, DetailType, Detail string }
}

var encoders = sync.Pool{New: func() any {
	e := new(encoder)
	e.enc = gojson.NewEncoder(e)
	e.enc.SetEscapeHTML(false)
	return e
}}

func (e *encoder) Write(p []byte) (int, error) { e.buf = append(e.buf, p...); return len(p), nil }

// appendJSON appends the JSON of v to dst: goccy/go-json writes it there.
func (e *encoder) appendJSON(dst []byte, v any) ([]byte, error) {
	e.buf = dst
	if err := e.enc.Encode(v); err != nil {
		return dst, fmt.Errorf("activity: encode: %w", err)
	}
	return e.buf[:len(e.buf)-1], nil // Encode ends with a newline
}

// release returns e to the pool without the references it held, unless a
// huge value grew its buffer.
func (e *encoder) release() {
	e.buf, e.act, e.entry.Detail = nil, Activity{}, ""
	if cap(e.head) <= 4*DefaultMaxEntrySize {
		encoders.Put(e)
	}
}

// Marshal encodes the activity as JSON without HTML escaping (EventBridge and
// destinations read it as data, and escaping would inflate hostile text),
// byte for byte as encoding/json with SetEscapeHTML(false) does, with
// goccy/go-json (see TestMarshalMatchesEncodingJSON and the package doc of
// sources/cloudtrail for why). A Detail set by SetCheckedDetail is copied
// into place without being checked again.
func Marshal(a *Activity) ([]byte, error) { return appendActivity(nil, a) }

// appendActivity appends Marshal's encoding of a to dst, or to a new slice
// of its size when dst is nil.
func appendActivity(dst []byte, a *Activity) ([]byte, error) {
	e := encoders.Get().(*encoder)
	defer e.release()
	detail := a.Detail
	if len(detail) == 0 || len(detail) != len(a.checkedDetail) || unsafe.SliceData(detail) != unsafe.SliceData(a.checkedDetail) {
		return e.appendJSON(dst, a)
	}
	e.act = *a
	e.act.Detail = nil
	head, err := e.appendJSON(e.head[:0], &e.act)
	if e.head = head; err != nil {
		return nil, err
	}
	// Detail is the last member before "truncated".
	const key = `,"detail":`
	tail := "}"
	if a.Truncated {
		tail = `,"truncated":true}`
	}
	head = head[:len(head)-len(tail)]
	if dst == nil { // a slice of its size, which make clears only when needed
		dst = make([]byte, 0, len(head)+len(key)+len(detail)+len(tail))
	}
	return append(append(append(append(dst, head...), key...), detail...), tail...), nil
}

// NewEntry validates the activity and encodes it as an EventBridge entry of at
// most maxSize bytes (DefaultMaxEntrySize when maxSize <= 0), bounding it with
// Bound when needed. The activity is not modified.
func NewEntry(a *Activity, maxSize int) (Entry, error) { return AppendEntry(nil, a, maxSize) }

// AppendEntry is NewEntry with the Detail (unless Bound trims it) appended to
// dst, a buffer the caller reuses once done with the entry (aaids replay).
func AppendEntry(dst []byte, a *Activity, maxSize int) (Entry, error) {
	if err := a.Validate(); err != nil {
		return Entry{}, err
	}
	if maxSize <= 0 {
		maxSize = DefaultMaxEntrySize
	}
	e := Entry{Source: entrySource(a.Source), DetailType: DetailType}
	detail, err := appendActivity(dst, a)
	if err == nil && len(detail) > maxSize-e.Size() {
		detail, err = Bound(a, maxSize-e.Size()) // encodes it again, trimmed
	}
	e.Detail = detail
	return e, err
}

// lastSource caches the EventBridge Source of the last source name seen: a
// process publishes for one source, and the concatenation would otherwise
// allocate once per entry.
var lastSource atomic.Pointer[[2]string]

// entrySource is SourcePrefix + name, from lastSource when it matches.
func entrySource(name string) string {
	if p := lastSource.Load(); p != nil && p[0] == name {
		return p[1]
	}
	full := SourcePrefix + name
	lastSource.Store(&[2]string{name, full})
	return full
}

// Bound encodes the activity in at most maxBytes bytes. When the plain encoding
// is larger it trims, in this order, and marks the result truncated:
//  1. detail, the original record: its largest members first become shortened
//     text previews, then, if need be, the whole record becomes one preview;
//  2. the longest display field values;
//  3. the longest remaining strings (user agent, error message, resources, …);
//  4. the detail, whole;
//  5. lists, when trimming strings was not enough (a denial naming thousands
//     of resources): resources, keeping how many there were in a first
//     display field ResourcesNotShownKey; then display fields, links, tags
//     and all but the first detection.
//
// It never drops the id, subject, severity, actor or action; if even their
// trimmed form does not fit it returns ErrTooLarge. The activity is not
// modified.
func Bound(a *Activity, maxBytes int) ([]byte, error) {
	enc, err := Marshal(a)
	if err != nil || len(enc) <= maxBytes {
		return enc, err
	}
	c := cloneForTrim(a)
	c.Truncated = true
	// fits encodes c again and reports whether Bound is done: c fits, or
	// encoding failed.
	fits := func() bool {
		enc, err = Marshal(c)
		return err != nil || len(enc) <= maxBytes
	}
	if len(c.Detail) > 0 {
		c.Detail = trimDetail(c.Detail, len(c.Detail)-(len(enc)-maxBytes))
		if fits() {
			return enc, err
		}
	}
	// Fields, then every other string: halve the longest until it fits.
	for _, group := range [][]*string{fieldValues(c), otherStrings(c)} {
		for range 200 {
			longest := longestString(group)
			if longest == nil || utf8.RuneCountInString(*longest) <= minKeptRunes {
				break
			}
			*longest = Truncate(*longest, utf8.RuneCountInString(*longest)/2)
			if fits() {
				return enc, err
			}
		}
	}
	c.Detail = nil
	if fits() || shedLists(c, fits) {
		return enc, err
	}
	return nil, fmt.Errorf("%w: activity %s needs %d bytes, limit %d", ErrTooLarge, a.ID, len(enc), maxBytes)
}

// ResourcesNotShownKey is the display field Bound adds when it sheds
// resources: "N of M" resources are not in the activity.
const ResourcesNotShownKey = "Resources not shown"

// shedLists halves c's lists until fits (Bound's) reports done: resources
// first (the count of those shed goes in a first display field), then
// display fields (from the end), then links, tags and all detections but
// the first.
func shedLists(c *Activity, fits func() bool) bool {
	// halve shrinks a list of n to half its length (0 from 1) until fits.
	halve := func(n int, cut func(keep int)) bool {
		for n > 0 {
			n /= 2
			cut(n)
			if fits() {
				return true
			}
		}
		return false
	}
	total, first := len(c.Resources), 0
	if total > 0 {
		c.Fields = append([]Field{{Key: ResourcesNotShownKey}}, c.Fields...)
		first = 1 // the count of shed resources stays
		if halve(total, func(keep int) {
			c.Resources = c.Resources[:keep]
			c.Fields[0].Value = fmt.Sprintf("%d of %d", total-keep, total)
		}) {
			return true
		}
	}
	if halve(len(c.Fields)-first, func(keep int) { c.Fields = c.Fields[:first+keep] }) {
		return true
	}
	c.Links, c.Tags = nil, nil
	if len(c.Detections) > 1 {
		c.Detections = c.Detections[:1]
	}
	return fits()
}

// minKeptRunes is the shortest a string is trimmed to.
const minKeptRunes = 64

// Truncate shortens s to at most n runes, ending it with "…" when it cut.
func Truncate(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if len(s) <= n { // fewer bytes than n means fewer runes too
		return s
	}
	cut, count := 0, 0
	for i := range s {
		if count == n-1 {
			cut = i // the n-th rune, which "…" replaces if more follow
		} else if count == n {
			return s[:cut] + "…"
		}
		count++
	}
	return s
}

func cloneForTrim(a *Activity) *Activity {
	c := *a
	c.Actor, c.Action, c.Permission, c.Origin = clone(a.Actor), clone(a.Action), clone(a.Permission), clone(a.Origin)
	c.Fields = append([]Field(nil), a.Fields...)
	c.Resources = append([]Resource(nil), a.Resources...)
	c.Links = append([]Link(nil), a.Links...)
	c.Tags = append([]string(nil), a.Tags...)
	return &c
}

// clone returns a copy of *p, or nil.
func clone[T any](p *T) *T {
	if p == nil {
		return nil
	}
	c := *p
	return &c
}

func fieldValues(c *Activity) []*string {
	out := make([]*string, 0, len(c.Fields))
	for i := range c.Fields {
		out = append(out, &c.Fields[i].Value)
	}
	return out
}

func otherStrings(c *Activity) []*string {
	out := []*string{&c.Subject}
	if c.Actor != nil {
		out = append(out, &c.Actor.Name, &c.Actor.ARN, &c.Actor.UserAgent, &c.Actor.SessionIssuer, &c.Actor.SourceIP, &c.Actor.InvokedBy, &c.Actor.PrincipalID)
	}
	if c.Action != nil {
		out = append(out, &c.Action.ErrorMessage, &c.Action.Name, &c.Action.ErrorCode, &c.Action.Service)
	}
	if c.Permission != nil {
		out = append(out, &c.Permission.Resource, &c.Permission.Action)
		if len(c.Permission.Statement) > 4096 {
			c.Permission.Statement = nil
		}
	}
	for i := range c.Resources {
		out = append(out, &c.Resources[i].ARN, &c.Resources[i].Type)
	}
	for i := range c.Links {
		out = append(out, &c.Links[i].URL, &c.Links[i].Title)
	}
	for i := range c.Tags {
		out = append(out, &c.Tags[i])
	}
	if c.Origin != nil {
		out = append(out, &c.Origin.LogGroup, &c.Origin.LogStream)
	}
	return out
}

func longestString(ps []*string) *string {
	var best *string
	for _, p := range ps {
		if best == nil || len(*p) > len(*best) {
			best = p
		}
	}
	return best
}

// trimDetail shrinks a JSON value to about budget bytes. For an object it
// replaces its largest members with text previews, keeping member order; any
// other value, or an object still too large, becomes one text preview.
func trimDetail(detail json.RawMessage, budget int) json.RawMessage {
	budget = max(budget, 64)
	members, ok := objectMembers(detail)
	if ok {
		size := len(detail)
		order := make([]*member, len(members))
		for i := range members {
			order[i] = &members[i]
		}
		slices.SortStableFunc(order, func(a, b *member) int { return len(b.value) - len(a.value) }) // largest first
		for _, m := range order {
			if size <= budget || len(m.value) <= 256 {
				break
			}
			preview := preview(m.value, max(len(m.value)-(size-budget)-64, 128))
			size += len(preview) - len(m.value)
			m.value = preview
		}
		if size <= budget {
			return joinMembers(members)
		}
	}
	return preview(detail, budget-32)
}

// preview is a JSON string holding the start of raw, cut on a rune boundary
// so that its encoding stays within about n bytes.
func preview(raw []byte, n int) json.RawMessage {
	n = max(n, 16)
	s := string(raw)
	// JSON escaping of quotes and backslashes can double the text; cut by
	// encoded size.
	for {
		b, _ := json.Marshal(Truncate(s, n))
		if len(b) <= n+8 || n <= 16 {
			return b
		}
		n = n * 2 / 3
	}
}

type member struct{ key, value json.RawMessage }

// objectMembers splits a JSON object into its members, in order: each key
// encoded again as encoding/json writes it, each value as it was (compact).
func objectMembers(raw json.RawMessage) ([]member, bool) {
	fixed, _ := jsonscan.FixLoneSurrogates(raw) // keys read as encoding/json reads them
	v, err := fastjson.ParseBytes(fixed)
	if err != nil || v.Type() != fastjson.TypeObject {
		return nil, false
	}
	var out []member
	v.GetObject().Visit(func(k []byte, v *fastjson.Value) {
		key, _ := json.Marshal(string(k))
		out = append(out, member{key: key, value: v.MarshalTo(nil)})
	})
	return out, true
}

func joinMembers(ms []member) json.RawMessage {
	b := []byte{'{'}
	for i, m := range ms {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(append(append(b, m.key...), ':'), m.value...)
	}
	return append(b, '}')
}
