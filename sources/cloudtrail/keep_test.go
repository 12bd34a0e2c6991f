package cloudtrail

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/detections"
	"github.com/activity-aware/ids/internal/subscriptiontest"
	"github.com/activity-aware/ids/monitoring/metrics"
)

// TestHandlerKeepLabelled: behind a broad subscription filter the handler
// publishes only what a detection labels, plus unrecognized log events, and
// counts the rest as filtered, so the counts add up.
func TestHandlerKeepLabelled(t *testing.T) {
	const fn = "ids-CloudTrailSource"
	srv, pub := localBus(t)
	presets, err := detections.Lookup("sts-federation-token")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	h := &Handler{
		Source:    New(Options{Enrichers: []Enricher{detections.NewSet(presets)}}),
		Publisher: pub, Logger: slog.New(slog.DiscardHandler), Keep: KeepLabelled,
		Metrics: metrics.New(&out, fn, metrics.DimSource, "cloudtrail"),
	}
	plain := compactRecord(t, "iamuser.json")
	var rec map[string]any
	if err := json.Unmarshal([]byte(plain), &rec); err != nil {
		t.Fatal(err)
	}
	rec["eventID"], rec["eventSource"], rec["eventName"] = "federation", "sts.amazonaws.com", "GetFederationToken"
	b, _ := json.Marshal(rec)
	body, err := json.Marshal(subscriptiontest.Event(testBatch.JSON(plain, string(b), "garbage")))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Invoke(context.Background(), body); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range srv.Accepted() {
		a, err := activity.Parse([]byte(e.Detail))
		if err != nil {
			t.Fatal(err)
		}
		label := "unrecognized"
		if len(a.Detections) > 0 {
			label = a.Detections[0].ID
		}
		got = append(got, label)
	}
	if len(got) != 2 || got[0] != "sts-federation-token" || got[1] != "unrecognized" {
		t.Fatalf("published %v, want the labelled record and the unrecognized event", got)
	}
	dims := map[string]string{metrics.DimFunction: fn, metrics.DimSource: "cloudtrail"}
	wantMetrics(t, out.String(), dims, map[string]float64{metrics.RecordsIn: 3, metrics.RecordsFiltered: 1, metrics.ActivitiesPublished: 2})

	// A batch of which nothing is kept publishes nothing and says so.
	out.Reset()
	body, _ = json.Marshal(subscriptiontest.Event(testBatch.JSON(plain)))
	if _, err := h.Invoke(context.Background(), body); err != nil {
		t.Fatal(err)
	}
	wantMetrics(t, out.String(), dims, map[string]float64{metrics.RecordsFiltered: 1})
	if len(srv.Accepted()) != 2 {
		t.Errorf("an unlabelled batch: %d accepted, want the 2 before", len(srv.Accepted()))
	}
}
