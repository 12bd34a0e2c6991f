package slack

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/activity-aware/ids/correlation"
	"github.com/activity-aware/ids/internal/localslack"
)

// sqsBatch wraps events as the pacing queue delivers them.
func sqsBatch(t *testing.T, evs ...events.EventBridgeEvent) events.SQSEvent {
	t.Helper()
	var b events.SQSEvent
	for i, ev := range evs {
		body, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		b.Records = append(b.Records, events.SQSMessage{MessageId: fmt.Sprintf("m-%d", i), Body: string(body)})
	}
	return b
}

// TestHandleSQSAppliesTheNotificationPolicy: from a queue batch of one
// principal's denials (one delivered twice) and a malformed message, the
// first denial is posted, the rest folded, the duplicate dropped, the
// malformed message reported failed; the sweep after the window posts one
// digest with the group's total.
func TestHandleSQSAppliesTheNotificationPolicy(t *testing.T) {
	ctx := context.Background()
	srv := localslack.New()
	defer srv.Close()
	now := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	h := &Handler{
		Secret:   &fakeSecret{value: srv.URL()},
		Client:   NewClient(nil, WithLoopback()),
		Trust:    testTrust,
		Logger:   slogDiscard(),
		Notifier: &correlation.Notifier{Store: correlation.NewMemoryStore(), Policy: correlation.Policy{Destination: "test"}},
		Now:      func() time.Time { return now },
	}
	var evs []events.EventBridgeEvent
	for i := range 5 {
		evs = append(evs, eventFor(t, "testdata/iam-user-denial.activity.json", func(m map[string]any) { m["id"] = fmt.Sprintf("denial-%d", i) }))
	}
	evs = append(evs, evs[2])
	batch := sqsBatch(t, evs...)
	batch.Records = append(batch.Records, events.SQSMessage{MessageId: "bad", Body: "not json"})

	resp, err := h.HandleSQS(ctx, batch)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != "bad" {
		t.Fatalf("batch item failures %+v, want only the malformed message", resp.BatchItemFailures)
	}
	if got := srv.Messages(); len(got) != 1 {
		t.Fatalf("posted %d messages, want the group's first only", len(got))
	}
	// Within the window: nothing due.
	if err := h.Sweep(ctx); err != nil || len(srv.Messages()) != 1 {
		t.Fatalf("sweep within the window: %v, %d messages", err, len(srv.Messages()))
	}
	now = now.Add(correlation.DefaultWindow)
	if err := h.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	msgs := srv.Messages()
	if len(msgs) != 2 {
		t.Fatalf("after the window: %d messages, want the digest too", len(msgs))
	}
	digest := string(msgs[1].Raw)
	if err := localslack.CheckLimits(msgs[1].Raw); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(digest, "5 denied calls") || !strings.Contains(digest, "4 folded") {
		t.Fatalf("digest does not state the total:\n%s", digest)
	}
	if err := h.Sweep(ctx); err != nil || len(srv.Messages()) != 2 {
		t.Fatalf("digest posted twice: %v, %d", err, len(srv.Messages()))
	}
}

// TestHandleSQSFailedPostIsRetried: a post Slack refuses fails its message,
// and the retry posts it (it is not folded into its own window).
func TestHandleSQSFailedPostIsRetried(t *testing.T) {
	ctx := context.Background()
	srv := localslack.New()
	defer srv.Close()
	now := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	h := &Handler{
		Secret:   &fakeSecret{value: srv.URL()},
		Client:   NewClient(nil, WithMaxAttempts(1), WithLoopback()),
		Trust:    testTrust,
		Logger:   slogDiscard(),
		Notifier: &correlation.Notifier{Store: correlation.NewMemoryStore(), Policy: correlation.Policy{Destination: "test"}},
		Now:      func() time.Time { return now },
	}
	batch := sqsBatch(t, eventFor(t, "testdata/iam-user-denial.activity.json", nil))
	srv.Fail(localslack.ServerError(), 1)
	resp, _ := h.HandleSQS(ctx, batch)
	if len(resp.BatchItemFailures) != 1 {
		t.Fatalf("failed post not reported: %+v", resp)
	}
	now = now.Add(time.Minute)
	resp, _ = h.HandleSQS(ctx, batch)
	if len(resp.BatchItemFailures) != 0 || len(srv.Messages()) != 1 {
		t.Fatalf("retry: failures %+v, %d messages, want the activity posted", resp.BatchItemFailures, len(srv.Messages()))
	}
}

func TestInvokeDispatches(t *testing.T) {
	ctx := context.Background()
	srv := localslack.New()
	defer srv.Close()
	h := &Handler{Secret: &fakeSecret{value: srv.URL()}, Client: NewClient(nil, WithLoopback()), Trust: testTrust, Logger: slogDiscard()}
	ev := eventFor(t, "testdata/iam-user-denial.activity.json", nil)
	direct, _ := json.Marshal(ev)
	if _, err := h.Invoke(ctx, direct); err != nil || len(srv.Messages()) != 1 {
		t.Fatalf("direct event: %v, %d", err, len(srv.Messages()))
	}
	queued, _ := json.Marshal(sqsBatch(t, ev))
	out, err := h.Invoke(ctx, queued)
	if err != nil || string(out) != `{"batchItemFailures":null}` && string(out) != `{"batchItemFailures":[]}` || len(srv.Messages()) != 2 {
		t.Fatalf("queue batch: %s, %v, %d", out, err, len(srv.Messages()))
	}
	sched := `{"version":"0","id":"x","detail-type":"Scheduled Event","source":"aws.events","account":"123456789012","time":"2026-11-20T09:00:00Z","region":"us-east-1","resources":[],"detail":{}}`
	if _, err := h.Invoke(ctx, []byte(sched)); err == nil || !strings.Contains(err.Error(), "notification policy") {
		t.Fatalf("sweep without a policy: %v", err)
	}
}
