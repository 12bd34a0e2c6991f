package slack

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/eventbus"
	"github.com/activity-aware/ids/internal/emfparse"
	"github.com/activity-aware/ids/internal/localslack"
	"github.com/activity-aware/ids/monitoring/heartbeat"
	"github.com/activity-aware/ids/monitoring/metrics"
)

const account = "123456789012"

func canaryEvent(t *testing.T, fromAccount string) events.EventBridgeEvent {
	t.Helper()
	a := heartbeat.Activity(heartbeat.Request{ScheduledTime: "2026-11-28T12:00:00Z", ExecutionID: "run-1"}, time.Time{})
	detail, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	return events.EventBridgeEvent{
		Version: "0", ID: "canary-event", DetailType: activity.DetailType,
		Source: activity.SourcePrefix + heartbeat.Source, AccountID: fromAccount, Region: "us-east-1", Detail: detail,
	}
}

// TestHandleMetrics reads the handler's embedded-metric lines as CloudWatch
// would: posts with their latency, a delivered canary that posts nothing,
// a forged canary that is posted, and permanent errors, of which only the
// one on the first post of an execution environment is a cold-start one.
func TestHandleMetrics(t *testing.T) {
	const fn = "ids-SlackDestination"
	dims := map[string]string{metrics.DimFunction: fn, metrics.DimDestination: "slack"}
	now := time.Date(2026, 11, 28, 12, 0, 5, 0, time.UTC)
	denial := eventFor(t, "testdata/iam-user-denial.activity.json", nil)
	denialAct, err := activity.Parse(denial.Detail)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name     string
		fail     int  // permanent Slack errors to inject before the events
		thenFail bool // then one more event, refused for good
		events   []events.EventBridgeEvent
		want     map[string]float64
		messages int
	}{
		{
			name:   "posts and a canary",
			events: []events.EventBridgeEvent{denial, canaryEvent(t, account)},
			want: map[string]float64{
				metrics.Posts: 1, metrics.DeliveryFailures: 0, metrics.CanaryDelivered: 1,
				metrics.CanaryLatency: 5000, metrics.DeliveryLatency: float64(now.Sub(denialAct.Time).Milliseconds()),
			},
			messages: 1,
		},
		{
			name:     "a canary from another account is posted, not counted",
			events:   []events.EventBridgeEvent{canaryEvent(t, "999988887777")},
			want:     map[string]float64{metrics.Posts: 1, metrics.CanaryDelivered: 0},
			messages: 1,
		},
		{
			name:   "permanent error on the first post",
			fail:   2,
			events: []events.EventBridgeEvent{denial, denial},
			want: map[string]float64{
				metrics.Posts: 0, metrics.DeliveryFailures: 2, metrics.PermanentErrors: 2, metrics.ColdStartPermanentErrors: 1,
			},
		},
		{
			name:     "permanent error after a good post is not a cold-start one",
			thenFail: true,
			events:   []events.EventBridgeEvent{denial},
			want:     map[string]float64{metrics.Posts: 1, metrics.PermanentErrors: 1, metrics.ColdStartPermanentErrors: 0},
			messages: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := localslack.New()
			defer s.Close()
			s.Fail(localslack.ChannelIsArchived(), tt.fail)
			var out bytes.Buffer
			h := &Handler{
				Secret: &fakeSecret{value: s.URL()}, Client: testClient(), Account: account, Trust: eventbus.Trust{Accounts: []string{account, "123456789012"}},
				Metrics: metrics.New(&out, fn, metrics.DimDestination, "slack"),
				Now:     func() time.Time { return now },
			}
			for _, ev := range tt.events {
				_ = h.Handle(t.Context(), ev)
			}
			if tt.thenFail {
				s.Fail(localslack.ChannelIsArchived(), 1)
				if err := h.Handle(t.Context(), denial); err == nil {
					t.Fatal("the refused post succeeded")
				}
			}
			data, err := emfparse.Lines(out.String())
			if err != nil {
				t.Fatalf("CloudWatch would drop a line: %v\n%s", err, out.String())
			}
			for name, want := range tt.want {
				if got := emfparse.Sum(data, metrics.Namespace, name, dims); got != want {
					t.Errorf("%s = %v, want %v\n%s", name, got, want, out.String())
				}
			}
			if got := len(s.Messages()); got != tt.messages {
				t.Errorf("%d messages posted, want %d", got, tt.messages)
			}
		})
	}
}

func TestCanaryNeedsTheSecret(t *testing.T) {
	h := &Handler{Secret: &fakeSecret{value: "https://evil.example/hook"}, Client: testClient(), Account: account, Trust: eventbus.Trust{Accounts: []string{account}}}
	if err := h.Handle(t.Context(), canaryEvent(t, account)); err == nil {
		t.Fatal("a canary was counted with a secret that holds no Slack webhook")
	}
}
