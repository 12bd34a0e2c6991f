package cloudtrail

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/internal/sourcetest"
	"github.com/activity-aware/ids/internal/subscriptiontest"
)

// testBatch is where the tests' batches come from.
var testBatch = subscriptiontest.Batch{Filters: []string{"denials"}}

// compactRecord returns a testdata record as CloudTrail writes it to
// CloudWatch Logs: one line of compact JSON.
func compactRecord(t *testing.T, name string) string {
	var b bytes.Buffer
	if err := json.Compact(&b, sourcetest.Read(t, name)); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestFromSubscription(t *testing.T) {
	s := New(Options{})
	batch := testBatch.JSON(compactRecord(t, "iamuser.json"), "not a record", compactRecord(t, "assumedrole.json"), compactRecord(t, "missing.json"))
	acts, err := s.FromSubscription(subscriptiontest.Event(batch), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(acts) != 4 {
		t.Fatalf("%d activities, want 4", len(acts))
	}
	wantSubjects := []string{
		"Access denied: IAMUser alice → iam:GetPolicy",
		"Unrecognized log event in CloudTrail/DefaultLogGroup",
		"Access denied: AssumedRole role/Admin (session alice@corp) → ec2:DescribeInstances",
		"unknown identity → iam:GetPolicy",
	}
	for i, a := range acts {
		checkEntry(t, a)
		if a.Subject != wantSubjects[i] {
			t.Errorf("[%d] subject %q, want %q", i, a.Subject, wantSubjects[i])
		}
		o := a.Origin
		if o == nil || o.LogGroup != "CloudTrail/DefaultLogGroup" || o.Owner != "111122223333" ||
			!slices.Equal(o.SubscriptionFilters, []string{"denials"}) || o.LogEventID == "" {
			t.Errorf("[%d] origin %+v", i, o)
		}
	}
	if acts[1].ID != "unrecognized-"+acts[1].Origin.LogEventID || !acts[1].Time.Equal(logTime(1700000000001)) {
		t.Errorf("unrecognized id %q time %v", acts[1].ID, acts[1].Time)
	}
	// The record's own eventTime wins over the log event timestamp.
	if acts[0].Time.Format("2006-01-02T15:04:05Z07:00") != "2024-03-01T12:00:00Z" {
		t.Errorf("time %v", acts[0].Time)
	}
	// The typed path agrees with the fast path.
	var d events.CloudwatchLogsData
	if err := json.Unmarshal(batch, &d); err != nil {
		t.Fatal(err)
	}
	typed := s.FromLogsData(&d)
	for i := range acts {
		x, _ := activity.Marshal(acts[i])
		y, _ := activity.Marshal(typed[i])
		if !bytes.Equal(x, y) {
			t.Errorf("[%d] FromLogsData differs:\n%s\n%s", i, x, y)
		}
	}
	// A retried batch keeps its ids.
	again, _ := s.FromSubscription(subscriptiontest.Event(batch), nil)
	for i := range acts {
		if again[i].ID != acts[i].ID {
			t.Errorf("[%d] id changed on retry: %q → %q", i, acts[i].ID, again[i].ID)
		}
	}
}

func TestFromSubscriptionControlAndErrors(t *testing.T) {
	s := New(Options{})
	control := subscriptiontest.Event([]byte(`{"messageType":"CONTROL_MESSAGE","owner":"CloudwatchLogs","logGroup":"","logStream":"","subscriptionFilters":[],"logEvents":[{"id":"","timestamp":1700000000000,"message":"CWL CONTROL MESSAGE: Checking health of destination Lambda."}]}`))
	if acts, err := s.FromSubscription(control, nil); acts != nil || err != nil {
		t.Errorf("control message: %v, %v", acts, err)
	}
	if acts := s.FromLogsData(&events.CloudwatchLogsData{MessageType: "CONTROL_MESSAGE"}); acts != nil {
		t.Errorf("typed control message: %v", acts)
	}
	tests := []struct {
		name string
		data string
		want error
	}{
		{"not base64", "%%%not base64", ErrMalformedPayload},
		{"not gzip", base64.StdEncoding.EncodeToString([]byte("plain text")), ErrMalformedPayload},
		{"truncated gzip", subscriptiontest.Encode(testBatch.JSON("x"))[:40], ErrMalformedPayload},
		{"not JSON", subscriptiontest.Encode([]byte("hello")), ErrMalformedPayload},
		{"JSON array", subscriptiontest.Encode([]byte(`[1,2]`)), ErrMalformedPayload},
		{"unknown message type", subscriptiontest.Encode([]byte(`{"messageType":"OTHER","logEvents":[]}`)), ErrMalformedPayload},
		{"logEvents not an array", subscriptiontest.Encode([]byte(`{"messageType":"DATA_MESSAGE","logEvents":{}}`)), ErrMalformedPayload},
		{"message not a string", subscriptiontest.Encode([]byte(`{"messageType":"DATA_MESSAGE","logEvents":[{"id":"1","message":{}}]}`)), ErrMalformedPayload},
		{"empty", "", ErrMalformedPayload},
		{"gzip bomb", subscriptiontest.Encode(bytes.Repeat([]byte(" "), maxInflated+10)), ErrPayloadTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			acts, err := s.FromSubscription(events.CloudwatchLogsEvent{AWSLogs: events.CloudwatchLogsRawData{Data: tt.data}}, nil)
			if !errors.Is(err, tt.want) || acts != nil {
				t.Errorf("got %d activities, error %v; want %v", len(acts), err, tt.want)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "cloudtrail: ") {
				t.Errorf("error %q lacks the component prefix", err)
			}
		})
	}
}

type recordingPublisher struct {
	got [][]*activity.Activity
	err error
}

func (p *recordingPublisher) Publish(_ context.Context, acts []*activity.Activity) error {
	p.got = append(p.got, acts)
	return p.err
}

// published is how many activities p was given, in all calls.
func (p *recordingPublisher) published() int {
	n := 0
	for _, batch := range p.got {
		n += len(batch)
	}
	return n
}

func TestHandler(t *testing.T) {
	record := compactRecord(t, "iamuser.json")
	good := subscriptiontest.Event(testBatch.JSON(record, "garbage"))
	control := subscriptiontest.Event([]byte(`{"messageType":"CONTROL_MESSAGE","logEvents":[]}`))
	bad := events.CloudwatchLogsEvent{AWSLogs: events.CloudwatchLogsRawData{Data: "!!"}}
	publishErr := errors.New("eventbus: 1 entries undelivered")
	runHandlerCases(t, []handlerCase{
		{"publishes the whole batch", handle(good), nil, nil, 2, nil, []string{`"logEvents":2`, `"denied":1`, `"unrecognized":1`}},
		{"control message", handle(control), nil, nil, 0, nil, []string{"no log events"}},
		{"decode error publishes nothing", handle(bad), nil, ErrMalformedPayload, 0, nil, []string{"decode failed"}},
		{"publish error is returned", handle(good), publishErr, publishErr, 2, nil, []string{"publish failed"}},
	})
}

// handlerCase is one batch through a Handler: run hands it over (handle,
// handleKinesis) and returns the batch item failures reported and the error.
type handlerCase struct {
	name       string
	run        func(context.Context, *Handler) ([]string, error)
	publishErr error
	wantErr    error
	published  int
	failed     []string
	logHas     []string
}

// runHandlerCases runs each case on a Handler whose publisher fails with
// publishErr, and checks the error, the failures, how many activities were
// published, and the log, which never carries a record's contents.
func runHandlerCases(t *testing.T, tests []handlerCase) {
	t.Helper()
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "req-123"})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			pub := &recordingPublisher{err: tt.publishErr}
			h := &Handler{Source: New(Options{}), Publisher: pub, Logger: slog.New(slog.NewJSONHandler(&logs, nil))}
			failed, err := tt.run(ctx, h)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("error %v, want %v", err, tt.wantErr)
			}
			if !slices.Equal(failed, tt.failed) {
				t.Errorf("failures %v, want %v", failed, tt.failed)
			}
			if n := pub.published(); n != tt.published {
				t.Errorf("published %d, want %d", n, tt.published)
			}
			for _, s := range tt.logHas {
				if !strings.Contains(logs.String(), s) {
					t.Errorf("log lacks %s:\n%s", s, logs.String())
				}
			}
			if strings.Contains(logs.String(), "AKIAEXAMPLE") || strings.Contains(logs.String(), "garbage") {
				t.Errorf("log carries record contents:\n%s", logs.String())
			}
		})
	}
}

func handle(ev events.CloudwatchLogsEvent) func(context.Context, *Handler) ([]string, error) {
	return func(ctx context.Context, h *Handler) ([]string, error) { return nil, h.Handle(ctx, ev) }
}

func FuzzFromSubscription(f *testing.F) {
	f.Add(subscriptiontest.Encode([]byte(`{"messageType":"DATA_MESSAGE","logGroup":"g","logEvents":[{"id":"1","timestamp":1,"message":"{\"eventName\":\"A\",\"userIdentity\":{\"type\":\"Root\"}}"}]}`)))
	f.Add(subscriptiontest.Encode([]byte(`{"messageType":"CONTROL_MESSAGE","logEvents":[]}`)))
	f.Add(subscriptiontest.Encode([]byte(`{"messageType":"DATA_MESSAGE","logEvents":[{"message":"x"},{"message":"{\"a\":1}"}]}`)))
	f.Add("H4sIAAAAAAAA")
	f.Add("")
	s := New(Options{})
	f.Fuzz(func(t *testing.T, data string) {
		acts, err := s.FromSubscription(events.CloudwatchLogsEvent{AWSLogs: events.CloudwatchLogsRawData{Data: data}}, nil)
		if err != nil {
			if acts != nil || (!errors.Is(err, ErrMalformedPayload) && !errors.Is(err, ErrPayloadTooLarge)) {
				t.Fatalf("error %v with %d activities", err, len(acts))
			}
			return
		}
		for _, a := range acts {
			if a == nil {
				t.Fatal("nil activity")
			}
			if _, err := activity.NewEntry(a, 0); err != nil {
				t.Fatalf("NewEntry: %v", err)
			}
		}
	})
}

func FuzzFromRecord(f *testing.F) {
	for _, seed := range []string{
		`{"eventName":"GetPolicy","eventSource":"iam.amazonaws.com","userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::1:assumed-role/R/s"},"errorCode":"AccessDenied","eventTime":"2021-10-19 01:06:59"}`,
		`{"eventname":"X","useridentity":{},"requestParameters":"{\"a\":1}","readOnly":"True","awsRegion":"us-gov-west-1","eventID":"e"}`,
		`{"eventName":NaN}`, "{\"eventName\":\"\x01\"}", `[1]`, `"x"`, "plain text", "",
	} {
		f.Add([]byte(seed))
	}
	s := New(Options{})
	f.Fuzz(func(t *testing.T, raw []byte) {
		a := s.FromRecord(raw, &activity.Origin{LogGroup: "g", LogEventID: "1"}, fallbackTime)
		if a == nil {
			t.Fatal("nil activity")
		}
		if err := a.Validate(); err != nil {
			t.Fatalf("Validate: %v", err)
		}
		if _, err := activity.NewEntry(a, 0); err != nil {
			t.Fatalf("NewEntry: %v", err)
		}
	})
}
