package cloudtrail

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/detections"
	"github.com/activity-aware/ids/internal/emfparse"
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
	data, err := emfparse.Lines(out.String())
	if err != nil {
		t.Fatal(err)
	}
	dims := map[string]string{metrics.DimFunction: fn, metrics.DimSource: "cloudtrail"}
	for name, want := range map[string]float64{metrics.RecordsIn: 3, metrics.RecordsFiltered: 1, metrics.ActivitiesPublished: 2} {
		if got := emfparse.Sum(data, metrics.Namespace, name, dims); got != want {
			t.Errorf("%s = %v, want %v\n%s", name, got, want, out.String())
		}
	}

	// A batch of which nothing is kept publishes nothing and says so.
	out.Reset()
	body, _ = json.Marshal(subscriptiontest.Event(testBatch.JSON(plain)))
	if _, err := h.Invoke(context.Background(), body); err != nil {
		t.Fatal(err)
	}
	data, _ = emfparse.Lines(out.String())
	if emfparse.Sum(data, metrics.Namespace, metrics.RecordsFiltered, dims) != 1 || len(srv.Accepted()) != 2 {
		t.Errorf("an unlabelled batch: %s, %d accepted", out.String(), len(srv.Accepted()))
	}
}
