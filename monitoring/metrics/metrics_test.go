package metrics

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/activity-aware/ids/internal/emfparse"
)

func TestEmitIsReadAsCloudWatchWould(t *testing.T) {
	var out bytes.Buffer
	e := New(&out, "stack-CloudTrailSource-abc", DimSource, "cloudtrail")
	at := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	e.Now = func() time.Time { return at }
	e.Emit(N(RecordsIn, 12), N(ActivitiesPublished, 11), N(PublishFailures, 0), Duration(DeliveryLatency, 1500*time.Millisecond))
	e.Emit() // nothing to say: no line

	if n := strings.Count(out.String(), "\n"); n != 1 {
		t.Fatalf("%d lines, want 1:\n%s", n, out.String())
	}
	data, err := emfparse.Lines(out.String())
	if err != nil {
		t.Fatalf("CloudWatch would drop the line: %v\n%s", err, out.String())
	}
	dims := map[string]string{DimFunction: "stack-CloudTrailSource-abc", DimSource: "cloudtrail"}
	want := map[string]float64{RecordsIn: 12, ActivitiesPublished: 11, PublishFailures: 0, DeliveryLatency: 1500}
	if len(data) != len(want) {
		t.Fatalf("%d metrics, want %d (one dimension set, no Lambda defaults): %+v", len(data), len(want), data)
	}
	for name, v := range want {
		if got := emfparse.Sum(data, Namespace, name, dims); got != v {
			t.Errorf("%s = %v, want %v", name, got, v)
		}
	}
	for _, d := range data {
		if d.Timestamp != at.UnixMilli() {
			t.Errorf("%s timestamp %d, want %d", d.Name, d.Timestamp, at.UnixMilli())
		}
		wantUnit := "Count"
		if d.Name == DeliveryLatency {
			wantUnit = "Milliseconds"
		}
		if d.Unit != wantUnit {
			t.Errorf("%s unit %s, want %s", d.Name, d.Unit, wantUnit)
		}
	}
}

func TestEmitInLambdaHasNoDefaultDimensions(t *testing.T) {
	// In Lambda the library would add a ServiceName/ServiceType set and
	// double every metric; the emitter turns that off.
	t.Setenv("AWS_LAMBDA_FUNCTION_NAME", "fn")
	var out bytes.Buffer
	New(&out, "fn", DimDestination, "slack").Emit(N(Posts, 1))
	data, err := emfparse.Lines(out.String())
	if err != nil || len(data) != 1 {
		t.Fatalf("data = %+v, %v\n%s", data, err, out.String())
	}
	if got := emfparse.Sum(data, Namespace, Posts, map[string]string{DimFunction: "fn", DimDestination: "slack"}); got != 1 {
		t.Errorf("Posts = %v, want 1", got)
	}
}
