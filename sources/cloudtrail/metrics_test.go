package cloudtrail

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/correlation"
	"github.com/activity-aware/ids/eventbus"
	"github.com/activity-aware/ids/internal/emfparse"
	"github.com/activity-aware/ids/internal/localeventbridge"
	"github.com/activity-aware/ids/internal/subscriptiontest"
	"github.com/activity-aware/ids/monitoring/heartbeat"
	"github.com/activity-aware/ids/monitoring/metrics"
)

// localBus is a local EventBridge with bus "bus" and the real publisher in
// front of it, retrying at once.
func localBus(t *testing.T) (*localeventbridge.Server, *eventbus.Publisher) {
	t.Helper()
	srv := localeventbridge.New(localeventbridge.Options{BusName: "bus"})
	t.Cleanup(srv.Close)
	pub, err := eventbus.NewPublisher(eventbus.NewClient(srv.AWSConfig()), eventbus.Config{BusName: "bus", BaseDelay: time.Millisecond, MaxDelay: time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return srv, pub
}

// TestHandlerMetrics reads the handler's embedded-metric lines as CloudWatch
// would, through the real publisher and a local EventBridge that fails one
// entry for good and throttles another once.
func TestHandlerMetrics(t *testing.T) {
	const fn = "ids-CloudTrailSource"
	srv, pub := localBus(t)
	var out bytes.Buffer
	h := &Handler{Source: New(Options{}), Publisher: pub, Logger: slog.New(slog.DiscardHandler), Metrics: metrics.New(&out, fn, metrics.DimSource, "cloudtrail")}
	dims := map[string]string{metrics.DimFunction: fn, metrics.DimSource: "cloudtrail"}

	// Three records, one unreadable; one denied for good, one throttled once.
	r1 := compactRecord(t, "iamuser.json")
	var rec map[string]any
	if err := json.Unmarshal([]byte(r1), &rec); err != nil {
		t.Fatal(err)
	}
	rec["eventID"] = "second-event"
	b2, _ := json.Marshal(rec)
	r2 := string(b2)
	body, err := json.Marshal(subscriptiontest.Event(testBatch.JSON(r1, r2, "garbage")))
	if err != nil {
		t.Fatal(err)
	}
	srv.FailDetailContaining("AccessDeniedException", 100, "second-event")
	srv.FailDetailContaining("ThrottlingException", 1, "garbage")
	if _, err := h.Invoke(context.Background(), body); err == nil {
		t.Fatal("Invoke succeeded with an undelivered activity")
	}
	hb, _ := json.Marshal(map[string]heartbeat.Request{"heartbeat": {ScheduledTime: "2026-11-28T12:00:00Z", ExecutionID: "run-1"}})
	if _, err := h.Invoke(context.Background(), hb); err != nil {
		t.Fatalf("heartbeat: %v", err)
	}

	wantMetrics(t, out.String(), dims, map[string]float64{
		metrics.RecordsIn:           3,
		metrics.ActivitiesPublished: 2,
		metrics.Unrecognized:        1,
		metrics.PublishFailures:     1,
		metrics.PublishRetries:      1,
		metrics.HeartbeatsSent:      1,
	})
	// The canary went through the publisher onto the bus.
	var canary *activity.Activity
	for _, e := range srv.Accepted() {
		if e.Source == activity.SourcePrefix+heartbeat.Source {
			if canary, err = activity.Parse([]byte(e.Detail)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if canary == nil || canary.ID != "heartbeat-run-1" || !heartbeat.Is(activity.SourcePrefix+heartbeat.Source, "", "", canary) {
		t.Fatalf("canary on the bus = %+v", canary)
	}
}

// wantMetrics reads the embedded-metric lines out as CloudWatch would and
// checks the sum of each metric of want with dims.
func wantMetrics(t *testing.T, out string, dims map[string]string, want map[string]float64) {
	t.Helper()
	data, err := emfparse.Lines(out)
	if err != nil {
		t.Fatalf("CloudWatch would drop a line: %v\n%s", err, out)
	}
	for name, w := range want {
		if got := emfparse.Sum(data, metrics.Namespace, name, dims); got != w {
			t.Errorf("%s = %v, want %v\n%s", name, got, w, out)
		}
	}
}

// addFails is a correlation store whose counting always fails.
type addFails struct{ correlation.Store }

func (addFails) Add(context.Context, correlation.Key, correlation.Delta) (correlation.Item, error) {
	return correlation.Item{}, errors.New("ProvisionedThroughputExceededException")
}

// TestHandlerPublishedNotCounted: when the burst detection's counting fails
// after the batch's activities are published, the invocation fails (so that
// Lambda's retry counts them) and the metrics say every activity was
// published, none failed.
func TestHandlerPublishedNotCounted(t *testing.T) {
	const fn = "ids-CloudTrailSource"
	srv, pub := localBus(t)
	var out bytes.Buffer
	detector := &correlation.Detector{Store: addFails{correlation.NewMemoryStore()}, Rules: []correlation.Rule{correlation.DenialBurst(0, 0)}}
	h := &Handler{Source: New(Options{}), Publisher: &correlation.Publisher{Next: pub, Detector: detector},
		Logger: slog.New(slog.DiscardHandler), Metrics: metrics.New(&out, fn, metrics.DimSource, "cloudtrail")}
	body, err := json.Marshal(subscriptiontest.Event(testBatch.JSON(compactRecord(t, "iamuser.json"))))
	if err != nil {
		t.Fatal(err)
	}
	_, err = h.Invoke(context.Background(), body)
	if _, ok := errors.AsType[*correlation.CountError](err); !ok {
		t.Fatalf("Invoke: %v, want a count error", err)
	}
	dims := map[string]string{metrics.DimFunction: fn, metrics.DimSource: "cloudtrail"}
	wantMetrics(t, out.String(), dims, map[string]float64{metrics.RecordsIn: 1, metrics.ActivitiesPublished: 1, metrics.PublishFailures: 0})
	if len(srv.Accepted()) != 1 {
		t.Errorf("%d entries on the bus, want 1", len(srv.Accepted()))
	}
}
