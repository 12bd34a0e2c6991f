package cloudtrail

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/activity-aware/ids/activity"
)

// sameActivities fails unless the one-pass reader (fromBatch) and the
// general parser (fromParsedBatch) standardize data identically, and
// reports whether the one-pass reader accepted it.
func sameActivities(t *testing.T, s *Source, data []byte) (scanned bool) {
	t.Helper()
	sc := newScratch()
	_, scanned = sc.scanBatch(data)
	got, gotErr := s.fromBatch(data)
	want, wantErr := s.fromParsedBatch(newScratch(), data)
	if (gotErr != nil) != (wantErr != nil) || !errors.Is(gotErr, ErrMalformedPayload) && gotErr != nil {
		t.Fatalf("errors differ: one pass %v, general %v", gotErr, wantErr)
	}
	if (got == nil) != (want == nil) {
		t.Fatalf("one pass gave nil %v, general nil %v", got == nil, want == nil)
	}
	sameJSON(t, got, want)
	return scanned
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

func TestScanBatchMatchesGeneralParser(t *testing.T) {
	rec := `{\"eventVersion\":\"1.08\",\"userIdentity\":{\"type\":\"IAMUser\",\"userName\":\"alice\"},\"eventTime\":\"2024-01-02T03:04:05Z\",\"eventSource\":\"iam.amazonaws.com\",\"eventName\":\"GetPolicy\",\"awsRegion\":\"us-east-1\",\"errorCode\":\"AccessDenied\",\"errorMessage\":\"User: \\u003cb\\u003e \\\"q\\\" \\\\ \\/ \\b\\f\\n\\r\\t é 😀 \\ud83d\\ude00\",\"eventID\":\"e1\"}`
	ev := func(id, msg string) string {
		return `{"id":"` + id + `","timestamp":1700000000000,"message":"` + msg + `"}`
	}
	batch := func(events ...string) string {
		return `{"messageType":"DATA_MESSAGE","owner":"123456789012","logGroup":"CloudTrail/DefaultLogGroup","logStream":"123456789012_CloudTrail_us-east-1","subscriptionFilters":["denials"],"logEvents":[` + strings.Join(events, ",") + `]}`
	}
	tests := []struct {
		name        string
		data        string
		wantScanned bool
	}{
		{"CloudWatch Logs shape", batch(ev("1", rec), ev("2", "not json"), ev("3", `{\"a\":1}`)), true},
		{"no log events", batch(), true},
		{"members in another order, whitespace", "{ \"logEvents\" : [ {\"message\":\"x\" , \"timestamp\": 5, \"id\":\"9\"} ] ,\n\"policyLevel\":\"ACCOUNT_LEVEL_POLICY\", \"messageType\" : \"DATA_MESSAGE\" }", true},
		{"escaped Unicode in header", `{"messageType":"DATA_MESSAGE","logGroup":"g\u00e9 \ud83d\ude00","subscriptionFilters":[],"logEvents":[{"message":"m"}]}`, true},
		{"negative timestamp", batch(`{"id":"1","timestamp":-5,"message":"x"}`), true},
		{"control message", `{"messageType":"CONTROL_MESSAGE","logEvents":[{"id":"","timestamp":1,"message":"CWL CONTROL MESSAGE: Checking health of destination Firehose."}]}`, false},
		{"unknown message type", `{"messageType":"OTHER","logEvents":[]}`, false},
		{"numeric id", batch(`{"id":42,"timestamp":1,"message":"x"}`), false},
		{"fractional timestamp", batch(`{"id":"1","timestamp":1.5,"message":"x"}`), false},
		{"huge timestamp", batch(`{"id":"1","timestamp":12345678901234567890,"message":"x"}`), false},
		{"unknown log event member", batch(`{"id":"1","extra":true,"message":"x"}`), false},
		{"unknown batch member", `{"messageType":"DATA_MESSAGE","extra":{},"logEvents":[]}`, false},
		{"repeated member", `{"messageType":"DATA_MESSAGE","logGroup":"a","logGroup":"b","logEvents":[{"message":"x"}]}`, false},
		{"repeated message", batch(`{"message":"a","message":"b"}`), false},
		{"message not a string", batch(`{"id":"1","message":{"a":1}}`), false},
		{"missing message", batch(`{"id":"1"}`), false},
		{"raw control byte in message", batch(ev("1", "a\tb")), false},
		{"unpaired surrogate", batch(ev("1", `\ud83d x`)), false},
		{"reversed surrogates", batch(ev("1", `\ude00\ud83d`)), false},
		{"invalid escape", batch(ev("1", `\x41`)), false},
		{"escaped member name", `{"messageType":"DATA_MESSAGE","logEvents":[{"\u006dessage":"x"}]}`, false},
		{"trailing data", batch(ev("1", "x")) + `x`, false},
		{"truncated", batch(ev("1", "x"))[:40], false},
		{"not an object", `[1]`, false},
		{"empty object", `{}`, false},
	}
	s := New(Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sameActivities(t, s, []byte(tt.data)); got != tt.wantScanned {
				t.Fatalf("scanBatch accepted = %v, want %v", got, tt.wantScanned)
			}
		})
	}
}

// TestScanBatchFixtures reads a maximum batch of the shared fixtures both
// ways.
func TestScanBatchFixtures(t *testing.T) {
	recs := loadFixtureRecords(t)
	s := New(Options{})
	for start := 0; start < len(recs); {
		batch, _, next := packBatch(t, recs, start)
		if !sameActivities(t, s, batch) {
			t.Fatalf("scanBatch refused the batch packed from record %d", start)
		}
		start = next
	}
}

func FuzzScanBatch(f *testing.F) {
	f.Add([]byte(`{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s","subscriptionFilters":["f"],"logEvents":[{"id":"1","timestamp":1700000000000,"message":"{\"eventName\":\"A\",\"eventTime\":\"2024-01-02T03:04:05Z\",\"userIdentity\":{\"type\":\"Root\"},\"x\":\"\\u00e9\\ud83d\\ude00\"}"}]}`))
	f.Add([]byte(`{"messageType":"DATA_MESSAGE","logEvents":[{"message":"x"},{"id":"2","message":"{\"a\":1}"}]}`))
	f.Add([]byte(`{"messageType":"CONTROL_MESSAGE","logEvents":[]}`))
	s := New(Options{})
	f.Fuzz(func(t *testing.T, data []byte) {
		sameActivities(t, s, data)
	})
}
