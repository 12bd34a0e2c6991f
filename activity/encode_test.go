package activity

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/activity-aware/ids/internal/jsonscan"
)

// stdMarshal is Marshal's reference: encoding/json without HTML escaping.
func stdMarshal(a *Activity) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(a); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// fill sets every field reachable from v (recursively) to a non-zero value
// built from text, so every field of the schema takes part in the identity
// test.
func fill(v reflect.Value, text string) {
	switch v.Kind() {
	case reflect.String:
		v.SetString(text)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), text)
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(time.Time{}) {
			v.Set(reflect.ValueOf(time.Date(2024, 2, 29, 23, 59, 58, 123456789, time.UTC)))
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), text+"-"+v.Type().Field(i).Name)
			}
		}
	case reflect.Slice:
		if v.Type() == reflect.TypeOf(json.RawMessage(nil)) {
			v.SetBytes([]byte(`{"k":"` + strings.ReplaceAll(text, `"`, `'`) + `","n":[1,-2.5e3,true,null]}`))
			return
		}
		s := reflect.MakeSlice(v.Type(), 2, 2)
		fill(s.Index(0), text+"0")
		fill(s.Index(1), text+"1")
		v.Set(s)
	default:
		panic("fill: unhandled kind " + v.Kind().String())
	}
}

func TestMarshalMatchesEncodingJSON(t *testing.T) {
	hostile := "<b>&amp; \"quoted\" back\\slash\t\n\r\b\f\x01\x1f é 한글 😀 \u2028\u2029 \xff\xfe end"
	full := func(text string) *Activity {
		a := &Activity{}
		fill(reflect.ValueOf(a).Elem(), text)
		return a
	}
	minimal := &Activity{SchemaVersion: "1.0", ID: "x", Source: "s", Subject: "y", Severity: Info, Time: time.Unix(0, 0).UTC()}
	f := false
	partial := &Activity{
		SchemaVersion: "1.0", ID: "id", Source: "cloudtrail", Subject: "s", Severity: Medium,
		Time:       time.Date(2021, 10, 19, 1, 6, 59, 0, time.FixedZone("x", 3600)),
		Account:    Account{Name: "only name"},
		Actor:      &Actor{MFA: &f},
		Action:     &Action{ReadOnly: &f, Outcome: Denied},
		Resources:  []Resource{{AccountID: "1"}, {ARN: "arn"}, {}},
		Origin:     &Origin{SubscriptionFilters: []string{"f"}},
		Permission: &Permission{Fixable: true, Statement: json.RawMessage(`{"Effect":"Allow"}`)},
		Detections: []Detection{{ID: "d", Title: "t"}},
	}
	emptyOrigin := &Activity{SchemaVersion: "1.0", Origin: &Origin{}, Actor: &Actor{}, Action: &Action{}, Permission: &Permission{}, Tags: []string{}}
	withDetail := func(d string) *Activity {
		c := *minimal
		c.Detail = json.RawMessage(d)
		return &c
	}
	deep := strings.Repeat("[", 400) + strings.Repeat("]", 400)
	tests := []struct {
		name string
		a    *Activity
	}{
		{"every field, plain text", full("plain")},
		{"every field, hostile text", full(hostile)},
		{"minimal", minimal},
		{"partial omitempty", partial},
		{"empty parts", emptyOrigin},
		{"detail compact", withDetail(`{"a":"b c","d":[1,2,{"e":null}],"f":"\"q\" \\ \u00e9"}`)},
		{"detail with whitespace", withDetail("{ \"a\" : [1, 2],\n\t\"b\":\"x y\" }")},
		{"detail string with spaces and escaped quotes", withDetail(`"a \" b \\" `)},
		{"detail scalar", withDetail(`123`)},
		{"detail deep", withDetail(deep)},
		{"detail non-ASCII and separators", withDetail("{\"k\":\"한글 😀 \u2028\"}")},
		{"year 10000", &Activity{SchemaVersion: "1.0", Time: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}},
		{"invalid detail NaN", withDetail(`{"a":NaN}`)},
		{"invalid detail control char", withDetail("{\"a\":\"x\x01\"}")},
		{"invalid detail control char before escape", withDetail("{\"a\":\"\x01\\n\"}")},
		{"invalid detail bad escape", withDetail(`{"a":"\x"}`)},
		{"invalid detail leading zero", withDetail(`{"a":01}`)},
		{"invalid detail truncated", withDetail(`{"a":"b`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sameAsEncodingJSON(t, tt.a)
		})
	}
}

// sameAsEncodingJSON fails unless Marshal writes what encoding/json writes
// for a, and, when a's Detail is valid compact JSON (what a source checks
// before it calls SetCheckedDetail), also for a with that Detail set by
// SetCheckedDetail, truncated and not.
func sameAsEncodingJSON(t *testing.T, a *Activity) {
	t.Helper()
	want, wantErr := stdMarshal(a)
	got, gotErr := Marshal(a)
	if (wantErr != nil) != (gotErr != nil) {
		t.Fatalf("error mismatch: Marshal %v, encoding/json %v", gotErr, wantErr)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("Marshal differs from encoding/json:\n got %s\nwant %s", got, want)
	}
	if valid, compact := jsonscan.Check(a.Detail); !valid || !compact {
		return
	}
	for _, truncated := range []bool{false, true} {
		c := *a
		c.SetCheckedDetail(a.Detail)
		c.Truncated = truncated
		want, wantErr := stdMarshal(&c)
		got, gotErr := Marshal(&c)
		if (wantErr != nil) != (gotErr != nil) || !bytes.Equal(got, want) {
			t.Fatalf("Marshal of a checked Detail differs from encoding/json (errors %v, %v):\n got %s\nwant %s", gotErr, wantErr, got, want)
		}
	}
}

// TestReplacedCheckedDetail: a Detail replaced after SetCheckedDetail is
// checked again, as encoding/json checks it.
func TestReplacedCheckedDetail(t *testing.T) {
	a := &Activity{SchemaVersion: "1.0", ID: "x", Source: "s", Subject: "y", Severity: Info, Time: time.Unix(0, 0).UTC()}
	a.SetCheckedDetail(json.RawMessage(`{"a":1}`))
	for _, d := range []string{`{"a":NaN}`, `{"a":01}`} {
		a.Detail = json.RawMessage(d)
		if _, err := Marshal(a); err == nil {
			t.Errorf("Marshal with the replaced Detail %s: no error, want encoding/json's", d)
		}
	}
	a.Detail = json.RawMessage("{ \"a\" : 1 }")
	sameAsEncodingJSON(t, a)
}

func FuzzMarshalMatchesEncodingJSON(f *testing.F) {
	f.Add("alice", `{"a":"b"}`, true)
	f.Add("<&>\u2028\xff", "{ \"a\" : 1 }", false)
	f.Add("", `NaN`, true)
	f.Fuzz(func(t *testing.T, text, detail string, flag bool) {
		a := &Activity{}
		fill(reflect.ValueOf(a).Elem(), text)
		a.Actor.MFA = &flag
		a.Truncated = flag
		a.Detail = json.RawMessage(detail)
		if detail == "" {
			a.Detail = nil
		}
		sameAsEncodingJSON(t, a)
	})
}

// TestEntryAppendJSON: AppendJSON writes what encoding/json writes for the
// entry's three strings without HTML escaping, whatever the detail holds,
// after what the buffer held.
func TestEntryAppendJSON(t *testing.T) {
	for _, detail := range []string{`{"a":"<b>&\u2028"}`, "{\"k\":\"é\xff\x01\t\\\"\"}", "", "plain \u2029 text"} {
		sameEntryJSON(t, "activity-aware-ids.cloudtrail", detail)
	}
}

func FuzzEntryAppendJSON(f *testing.F) {
	f.Add("activity-aware-ids.cloudtrail", `{"a":"<b>&\u2028"}`)
	f.Add("s\u2029", "{\"k\":\"é\xff\x01\t\\\"\"}")
	f.Add("", "\xe2\x80\xa8\xe2\x80")
	f.Fuzz(sameEntryJSON)
}

// sameEntryJSON fails unless AppendJSON appends what encoding/json writes
// for the entry, to an empty buffer and to one with room after a prefix.
func sameEntryJSON(t *testing.T, source, detail string) {
	e := Entry{Source: source, DetailType: DetailType, Detail: []byte(detail)}
	var want bytes.Buffer
	enc := json.NewEncoder(&want)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(struct{ Source, DetailType, Detail string }{e.Source, e.DetailType, string(e.Detail)}); err != nil {
		t.Fatal(err)
	}
	wantLine := bytes.TrimSuffix(want.Bytes(), []byte("\n"))
	for _, prefix := range [][]byte{nil, append(make([]byte, 0, 2*len(wantLine)+8), "line\n"...)} {
		got, err := e.AppendJSON(prefix)
		if err != nil || !bytes.Equal(got, append(bytes.Clone(prefix), wantLine...)) {
			t.Fatalf("AppendJSON(%q) = %q, %v; want %s", prefix, got, err, wantLine)
		}
	}
}

// TestAppendEntry: AppendEntry gives NewEntry's entry, its Detail encoded in
// the buffer given when it fits (without allocating) and trimmed by Bound
// when it does not.
func TestAppendEntry(t *testing.T) {
	a := sample()
	a.SetCheckedDetail(json.RawMessage(`{"eventName":"GetPolicy","requestParameters":{"policyArn":"` + strings.Repeat("x", 2000) + `"}}`))
	buf := make([]byte, 0, 64<<10)
	for _, limit := range []int{0, 1500} {
		want, wantErr := NewEntry(a, limit)
		got, err := AppendEntry(buf, a, limit)
		if err != nil || wantErr != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("limit %d: AppendEntry = %+v, %v; NewEntry = %+v, %v", limit, got, err, want, wantErr)
		}
		if inBuf := unsafe.SliceData(got.Detail) == unsafe.SliceData(buf); inBuf != (limit == 0) {
			t.Errorf("limit %d: Detail in the buffer given: %v (truncated %v)", limit, inBuf, bytes.Contains(got.Detail, []byte(`"truncated":true`)))
		}
	}
	var line []byte
	allocs := testing.AllocsPerRun(100, func() {
		e, err := AppendEntry(buf, a, 0)
		if err != nil {
			t.Fatal(err)
		}
		if line, err = e.AppendJSON(line[:0]); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 && !raceEnabled {
		t.Errorf("AppendEntry and AppendJSON into reused buffers: %v allocations, want 0", allocs)
	}
}

// TestTrimDetailKeepsMembers: trimming shortens the large members of a
// detail and keeps every key as encoding/json reads it (escapes, a lone
// surrogate) and the small members as they were.
func TestTrimDetailKeepsMembers(t *testing.T) {
	detail := `{"a<\ud800":"` + strings.Repeat("x", 2000) + `","b":{"c":[1,2.5,"\u00e9"]},"k\u00e9":"` + strings.Repeat("y", 2000) + `"}`
	got := trimDetail(json.RawMessage(detail), 1500)
	var want, trimmed map[string]any
	if err := json.Unmarshal([]byte(detail), &want); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(got, &trimmed); err != nil || len(got) > 1600 {
		t.Fatalf("trimDetail = %s (%d bytes): %v", got, len(got), err)
	}
	for k := range want {
		if _, ok := trimmed[k]; !ok {
			t.Errorf("key %q lost: %s", k, got)
		}
	}
	if !reflect.DeepEqual(trimmed["b"], want["b"]) {
		t.Errorf("small member b = %v, want %v", trimmed["b"], want["b"])
	}
}
