package cloudtrail

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/internal/jsonscan"
)

// sameAsReference fails unless fromBatch standardizes data exactly as
// FromRecord does each log event (and FromLogsData the batch) after
// encoding/json, the reference decoder, decodes it:
// the same activities, or an error (ErrMalformedPayload) where encoding/json
// fails or the batch is neither a data nor a control message. fromBatch
// builds them in b, which the caller passes batch after batch, as the Handler
// does.
func sameAsReference(t *testing.T, s *Source, b *Batch, data []byte) {
	t.Helper()
	got, gotErr := s.fromBatch(data, b)
	var d events.CloudwatchLogsData
	wantErr := json.Unmarshal(data, &d)
	var want []*activity.Activity
	switch {
	case wantErr != nil:
	case d.MessageType == dataMessage:
		// Record by record, each in memory of its own: the reference shares
		// none of the batch's memory handling.
		for _, le := range d.LogEvents {
			origin := activity.Origin{LogGroup: d.LogGroup, LogStream: d.LogStream, SubscriptionFilters: d.SubscriptionFilters, Owner: d.Owner, LogEventID: le.ID}
			want = append(want, s.FromRecord([]byte(le.Message), &origin, logTime(le.Timestamp)))
		}
		sameJSON(t, s.FromLogsData(&d), want)
	case d.MessageType != controlMessage:
		wantErr = errors.New("message type")
	}
	if (gotErr != nil) != (wantErr != nil) || gotErr != nil && !errors.Is(gotErr, ErrMalformedPayload) {
		t.Fatalf("error %v, encoding/json: %v, for %q", gotErr, wantErr, data)
	}
	sameJSON(t, got, want)
	if wantErr == nil && d.MessageType == dataMessage {
		// The messages as records (aaids replay's log files), in b now
		// that got is checked: as FromRecord reads each, without origin,
		// with Check's answers for those without a backslash or none.
		fallback := time.Unix(1700000000, 0).UTC()
		var records [][]byte
		var checked jsonscan.Verdicts
		want = want[:0]
		for _, le := range d.LogEvents {
			records = append(records, []byte(le.Message))
			var v jsonscan.Verdict
			if !strings.Contains(le.Message, `\`) {
				v.Known = true
				v.Valid, v.Compact = jsonscan.Check(records[len(records)-1])
			}
			checked = append(checked, v)
			want = append(want, s.FromRecord([]byte(le.Message), nil, fallback))
		}
		sameJSON(t, s.FromRecords(records, nil, fallback, b), want)
		sameJSON(t, s.FromRecords(records, checked, fallback, b), want)
	}
}

// TestFromRecordsSharesRecords checks that FromRecords builds each Detail
// in its record's memory, as it says, not in a copy.
func TestFromRecordsSharesRecords(t *testing.T) {
	records := [][]byte{
		[]byte(`{"eventVersion":"1.08","eventName":"GetObject","eventID":"1"}`),
		[]byte(`{"eventVersion":"1.08","eventName":"ListBuckets","eventID":"2"}`),
	}
	acts := New(Options{}).FromRecords(records, nil, time.Time{}, new(Batch))
	for i, a := range acts {
		if len(a.Detail) == 0 || &a.Detail[0] != &records[i][0] || a.ID != string(rune('1'+i)) {
			t.Errorf("activity %d: id %q, Detail %q not in its record's memory", i, a.ID, a.Detail)
		}
	}
}

// sameJSON fails unless got and want encode identically, activity by
// activity. A log event without timestamp or eventTime is stamped with the
// current time, which may differ by a little between the two.
func sameJSON(t *testing.T, got, want []*activity.Activity) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d activities, want %d", len(got), len(want))
	}
	for i := range got {
		if d := got[i].Time.Sub(want[i].Time); d > -time.Second && d < time.Second {
			got[i].Time = want[i].Time
		}
		g, err1 := activity.Marshal(got[i])
		w, err2 := activity.Marshal(want[i])
		if err1 != nil || err2 != nil || !bytes.Equal(g, w) {
			t.Fatalf("activity %d differs:\n got %s (%v)\nwant %s (%v)", i, g, err1, w, err2)
		}
	}
}

func TestBatchMatchesReference(t *testing.T) {
	rec := `{\"eventVersion\":\"1.08\",\"userIdentity\":{\"type\":\"IAMUser\",\"userName\":\"alice\"},\"eventTime\":\"2024-01-02T03:04:05Z\",\"eventSource\":\"iam.amazonaws.com\",\"eventName\":\"GetPolicy\",\"awsRegion\":\"us-east-1\",\"errorCode\":\"AccessDenied\",\"errorMessage\":\"User: \\u003cb\\u003e \\\"q\\\" \\\\ \\/ \\b\\f\\n\\r\\t é 😀 \\ud83d\\ude00\",\"eventID\":\"e1\"}`
	ev := func(id, msg string) string {
		return `{"id":"` + id + `","timestamp":1700000000000,"message":"` + msg + `"}`
	}
	batch := func(events ...string) string {
		return `{"messageType":"DATA_MESSAGE","owner":"123456789012","logGroup":"CloudTrail/DefaultLogGroup","logStream":"123456789012_CloudTrail_us-east-1","subscriptionFilters":["denials"],"logEvents":[` + strings.Join(events, ",") + `]}`
	}
	tests := []struct {
		name string
		data string
	}{
		{"CloudWatch Logs shape", batch(ev("1", rec), ev("2", "not json"), ev("3", `{\"a\":1}`))},
		{"records without a backslash, valid or not", batch(ev("1", `{\"eventName\":\"A\",\"userIdentity\":{\"type\":\"Root\"},\"n\":NaN}`), ev("2", `{\"eventName\": \"A\", \"userIdentity\":{\"type\":\"Root\"}, \"n\":[1,-0.5e3]}`),
			ev("3", `{\"eventName\":\"A\",\"userIdentity\":{\"type\":\"Root\"},\"n\":01}`), ev("4", `{\"eventName\":\"A\",\"userIdentity\":{\"type\":\"Root\"}} `), ev("5", `{\"eventName\":\"A\",\"userIdentity\":{\"type\":\"Root\"}}}`))},
		{"no log events", batch()},
		{"members in another order, whitespace", "{ \"logEvents\" : [ {\"message\":\"x\" , \"timestamp\": 5, \"id\":\"9\"} ] ,\n\"policyLevel\":\"ACCOUNT_LEVEL_POLICY\", \"messageType\" : \"DATA_MESSAGE\" }"},
		{"escaped Unicode in header", `{"messageType":"DATA_MESSAGE","logGroup":"g\u00e9 \ud83d\ude00","subscriptionFilters":[],"logEvents":[{"message":"m"}]}`},
		{"negative timestamp", batch(`{"id":"1","timestamp":-5,"message":"x"}`)},
		{"control message", `{"messageType":"CONTROL_MESSAGE","logEvents":[{"id":"","timestamp":1,"message":"CWL CONTROL MESSAGE: Checking health of destination Firehose."}]}`},
		{"unknown message type", `{"messageType":"OTHER","logEvents":[]}`},
		{"numeric id", batch(`{"id":42,"timestamp":1,"message":"x"}`)},
		{"fractional timestamp", batch(`{"id":"1","timestamp":1.5,"message":"x"}`)},
		{"huge timestamp", batch(`{"id":"1","timestamp":12345678901234567890,"message":"x"}`)},
		{"unknown log event member", batch(`{"id":"1","extra":true,"message":"x"}`)},
		{"unknown batch member", `{"messageType":"DATA_MESSAGE","extra":{},"logEvents":[]}`},
		{"repeated member", `{"messageType":"DATA_MESSAGE","logGroup":"a","logGroup":"b","logEvents":[{"message":"x"}]}`},
		{"repeated message", batch(`{"message":"a","message":"b"}`)},
		{"message not a string", batch(`{"id":"1","message":{"a":1}}`)},
		{"missing message", batch(`{"id":"1"}`)},
		{"raw control byte in message", batch(ev("1", "a\tb"))},
		{"unpaired surrogate", batch(ev("1", `\ud83d x`))},
		{"reversed surrogates", batch(ev("1", `\ude00\ud83d`))},
		{"invalid escape", batch(ev("1", `\x41`))},
		{"escaped member name", `{"messageType":"DATA_MESSAGE","logEvents":[{"\u006dessage":"x"}]}`},
		{"trailing data", batch(ev("1", "x")) + `x`},
		{"truncated", batch(ev("1", "x"))[:40]},
		{"not an object", `[1]`},
		{"empty object", `{}`},
	}
	s, b := deployedSource(t), new(Batch)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { sameAsReference(t, s, b, []byte(tt.data)) })
	}
}

// TestBatchFixtures reads maximum batches of the fixtures both ways, twice
// in the same Batch, which needs no more memory the second time.
func TestBatchFixtures(t *testing.T) {
	recs := loadFixtureRecords(t)
	s, b := deployedSource(t), new(Batch)
	chunks := 0
	for pass := range 2 {
		for start := 0; start < len(recs); {
			batch, _, next := packBatch(t, recs, start)
			sameAsReference(t, s, b, batch)
			start = next
		}
		if pass == 0 {
			chunks = len(b.chunks)
		} else if len(b.chunks) != chunks {
			t.Errorf("the arena of the batch grew from %d to %d chunks for the same batches", chunks, len(b.chunks))
		}
	}
}

// userRecord is a CloudTrail record of the IAM user u-<id>, with event id id.
func userRecord(id string) string {
	return `{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","userName":"u-` + id + `"},"eventTime":"2024-01-02T03:04:05Z","eventSource":"iam.amazonaws.com","eventName":"GetPolicy","eventID":"` + id + `"}`
}

// TestBatchMemoryOfItsOwn: a batch's memory starts zero when used again, and
// the source never builds an activity outside a batch (FromRecord) in it.
func TestBatchMemoryOfItsOwn(t *testing.T) {
	batch := func(ids ...string) []byte {
		var msgs []string
		for _, id := range ids {
			msgs = append(msgs, userRecord(id))
		}
		return testBatch.JSON(msgs...)
	}
	s, b := New(Options{}), new(Batch)
	if _, err := s.fromBatch(batch("a1", "a2"), b); err != nil {
		t.Fatal(err)
	}
	alone := s.FromRecord([]byte(userRecord("alone")), nil, time.Time{})
	before, err := activity.Marshal(alone)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.fromBatch(batch("b1-overwriting", "b2-overwriting"), b); err != nil {
		t.Fatal(err)
	}
	if after, _ := activity.Marshal(alone); !bytes.Equal(after, before) {
		t.Fatalf("an activity of FromRecord changed when a batch was built:\n%s\nwas\n%s", after, before)
	}
	b.build(0, nil)
	for i, blk := range b.blocks[:cap(b.blocks)] {
		if !reflect.ValueOf(blk).IsZero() {
			t.Fatalf("block %d of a batch used again is not zero: %+v", i, blk.activity)
		}
	}
}

func FuzzBatch(f *testing.F) {
	f.Add([]byte(`{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s","subscriptionFilters":["f"],"logEvents":[{"id":"1","timestamp":1700000000000,"message":"{\"eventName\":\"A\",\"eventTime\":\"2024-01-02T03:04:05Z\",\"userIdentity\":{\"type\":\"Root\"},\"x\":\"\\u00e9\\ud83d\\ude00\"}"}]}`))
	f.Add([]byte(`{"messageType":"DATA_MESSAGE","logEvents":[{"message":"x"},{"id":"2","message":"{\"a\":1}"}]}`))
	f.Add([]byte(`{"messageType":"CONTROL_MESSAGE","logEvents":[]}`))
	f.Add([]byte(`{"messageType":"DATA_MESSAGE","logEvents":[{"message":"{\"eventName\":\"A\",\"userIdentity\":{\"type\":\"Root\"},\"n\":[NaN, 1]}"}]}`))
	s, b := deployedSource(f), new(Batch)
	f.Fuzz(func(t *testing.T, data []byte) {
		sameAsReference(t, s, b, data)
	})
}
