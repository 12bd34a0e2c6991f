package cloudtrail

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/eventbus"
	"github.com/activity-aware/ids/internal/subscriptiontest"
)

// The Handler is what the Lambda main can pass to lambda.Start.
var _ lambda.Handler = (*Handler)(nil)

// samePayloadResult fails unless FromPayload and encoding/json followed by
// FromSubscription agree on the payload: both errors (ErrMalformedPayload or
// ErrPayloadTooLarge), or the same activities. FromPayload builds them in b,
// which the caller passes call after call, as Handler.Invoke does.
func samePayloadResult(t *testing.T, s *Source, b *Batch, payload []byte) {
	t.Helper()
	got, gotErr := s.FromPayload(payload, b)
	var want []*activity.Activity
	var ev events.CloudwatchLogsEvent
	wantErr := json.Unmarshal(payload, &ev)
	if wantErr == nil {
		want, wantErr = s.FromSubscription(ev, nil)
	}
	if (gotErr == nil) != (wantErr == nil) {
		t.Fatalf("FromPayload error %v, encoding/json + FromSubscription error %v", gotErr, wantErr)
	}
	if gotErr != nil {
		if got != nil || !errors.Is(gotErr, ErrMalformedPayload) && !errors.Is(gotErr, ErrPayloadTooLarge) {
			t.Fatalf("error %v with %d activities", gotErr, len(got))
		}
		return
	}
	sameJSON(t, got, want)
}

func TestFromPayload(t *testing.T) {
	data := subscriptiontest.Encode(testBatch.JSON(compactRecord(t, "iamuser.json"), "garbage"))
	escaped := strings.ReplaceAll(data, "/", `\/`)
	tests := []struct {
		name    string
		payload string
		wantErr bool
	}{
		{"as Lambda delivers it", `{"awslogs":{"data":"` + data + `"}}`, false},
		{"whitespace and another member", "{ \"version\": 1,\n \"awslogs\" : { \"data\" : \"" + data + "\" } }", false},
		{"escaped slashes", `{"awslogs":{"data":"` + escaped + `"}}`, false},
		{"other spelling of awslogs", `{"AWSLogs":{"Data":"` + data + `"}}`, false},
		{"repeated awslogs, the last wins", `{"awslogs":{"data":"!!"},"awslogs":{"data":"` + data + `"}}`, false},
		{"two spellings of data", `{"awslogs":{"data":"!!","DATA":"` + data + `"}}`, false},
		{"control message", `{"awslogs":{"data":"` + subscriptiontest.Encode([]byte(`{"messageType":"CONTROL_MESSAGE","logEvents":[]}`)) + `"}}`, false},
		{"no awslogs", `{"other":{}}`, true},
		{"data not a string", `{"awslogs":{"data":5}}`, true},
		{"not base64", `{"awslogs":{"data":"!!"}}`, true},
		{"NaN elsewhere", `{"awslogs":{"data":"` + data + `"},"x":NaN}`, true},
		{"control byte in data", "{\"awslogs\":{\"data\":\"" + data[:10] + "\x01" + data[10:] + "\"}}", true},
		{"not JSON", `awslogs`, true},
		{"array", `[{"awslogs":{"data":"` + data + `"}}]`, true},
	}
	s, b := New(Options{}), new(Batch)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			samePayloadResult(t, s, b, []byte(tt.payload))
			if _, err := s.FromPayload([]byte(tt.payload), nil); (err != nil) != tt.wantErr {
				t.Fatalf("FromPayload error %v, want error %v", err, tt.wantErr)
			}
		})
	}
}

func TestHandlerInvoke(t *testing.T) {
	ev := subscriptiontest.Event(testBatch.JSON(compactRecord(t, "iamuser.json"), "garbage"))
	body, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	pub := &recordingPublisher{}
	var logs bytes.Buffer
	h := &Handler{Source: New(Options{}), Publisher: pub, Logger: slog.New(slog.NewJSONHandler(&logs, nil))}
	out, err := h.Invoke(context.Background(), body)
	if err != nil || string(out) != "null" {
		t.Fatalf("Invoke = %q, %v", out, err)
	}
	if len(pub.got) != 1 || len(pub.got[0]) != 2 || !strings.Contains(logs.String(), `"logEvents":2`) {
		t.Fatalf("published %v; log %s", pub.got, logs.String())
	}
	if _, err := h.Invoke(context.Background(), []byte(`{"awslogs":{"data":"!!"}}`)); !errors.Is(err, ErrMalformedPayload) {
		t.Fatalf("Invoke on a bad payload: %v, want ErrMalformedPayload", err)
	}
}

// failingPublisher fails when err is set, naming the first activity as the
// bus's answer does, and notes where the activities it was last given are.
type failingPublisher struct {
	err   bool
	first *activity.Activity
}

func (p *failingPublisher) Publish(_ context.Context, acts []*activity.Activity) error {
	p.first = acts[0]
	if p.err {
		return &eventbus.UndeliveredError{Failures: []eventbus.Failure{{ID: acts[0].ID, Code: "InternalFailure"}}, Total: len(acts)}
	}
	return nil
}

// TestInvokeReusesBatchMemory: Invoke builds a batch in the memory of the
// last published one, and never in that of a batch it failed to publish,
// whose error still names its activities, nor in that of a batch far larger
// than CloudWatch Logs sends.
func TestInvokeReusesBatchMemory(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(-1)) // a collection empties the pool
	// invoke publishes a batch of n copies of one record.
	invoke := func(h *Handler, id string, n int) error {
		body, err := json.Marshal(subscriptiontest.Event(testBatch.JSON(slices.Repeat([]string{userRecord(id)}, n)...)))
		if err != nil {
			t.Fatal(err)
		}
		_, err = h.Invoke(context.Background(), body)
		return err
	}
	pub := &failingPublisher{}
	h := &Handler{Source: New(Options{}), Publisher: pub, Logger: slog.New(slog.DiscardHandler)}
	if err := invoke(h, "first-published", 1); err != nil {
		t.Fatal(err)
	}
	published := pub.first
	if err := invoke(h, "second-published", 1); err != nil || pub.first != published && !raceEnabled {
		t.Fatalf("Invoke = %v; the second batch's activity at %p, the first's at %p: memory not reused", err, pub.first, published)
	}
	pub.err = true
	failure := invoke(h, "failed-to-publish", 1)
	if failure == nil || !strings.Contains(failure.Error(), "failed-to-publish") {
		t.Fatalf("Invoke with a failing publisher = %v", failure)
	}
	failed, text := pub.first, failure.Error()
	pub.err = false
	if err := invoke(h, "published-after-it", 1); err != nil || pub.first == failed || failure.Error() != text {
		t.Fatalf("Invoke = %v; the batch after a failed one at %p, the failed one at %p; its error now %q, was %q", err, pub.first, failed, failure.Error(), text)
	}
	if err := invoke(h, "2501-log-events", 2501); err != nil {
		t.Fatal(err)
	}
	huge := pub.first
	if err := invoke(h, "after-the-huge-batch", 1); err != nil || pub.first == huge {
		t.Fatalf("Invoke = %v; the batch after a huge one built in its memory (%p)", err, huge)
	}
}

// checkingPublisher fails unless each activity it is given is the record of
// the id its batch was invoked with, at the moment it is published.
type checkingPublisher struct{}

func (checkingPublisher) Publish(ctx context.Context, acts []*activity.Activity) error {
	want := ctx.Value(checkingPublisher{}).(string)
	for _, a := range acts {
		if a.ID != want || a.Actor == nil || a.Actor.Name != "u-"+want {
			return fmt.Errorf("published activity %q of %+v for the batch of %q", a.ID, a.Actor, want)
		}
	}
	return nil
}

// TestInvokeConcurrently: concurrent invocations of one Handler (as a test
// or a caller other than the Lambda runtime may make) each build their batch
// in memory of their own.
func TestInvokeConcurrently(t *testing.T) {
	h := &Handler{Source: New(Options{}), Publisher: checkingPublisher{}, Logger: slog.New(slog.DiscardHandler)}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 50 {
				id := fmt.Sprintf("g%d-%d", g, i)
				rec := userRecord(id)
				body, _ := json.Marshal(subscriptiontest.Event(testBatch.JSON(rec, rec, rec)))
				if _, err := h.Invoke(context.WithValue(context.Background(), checkingPublisher{}, id), body); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func FuzzFromPayload(f *testing.F) {
	data := subscriptiontest.Encode([]byte(`{"messageType":"DATA_MESSAGE","logGroup":"g","logEvents":[{"id":"1","timestamp":1,"message":"{\"eventName\":\"A\",\"userIdentity\":{\"type\":\"Root\"}}"}]}`))
	f.Add([]byte(`{"awslogs":{"data":"` + data + `"}}`))
	f.Add([]byte(`{"AwsLogs":{"data":"` + data + `"},"awslogs":{"data":""}}`))
	f.Add([]byte(`{"awslogs":{"data":"H4sIAAAAAAAA"}}`))
	s, b := New(Options{}), new(Batch)
	f.Fuzz(func(t *testing.T, payload []byte) {
		samePayloadResult(t, s, b, payload)
	})
}
