package slack

import (
	"testing"
	"time"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/denial"
	"github.com/activity-aware/ids/detections"
	"github.com/activity-aware/ids/internal/sharedfixtures"
	"github.com/activity-aware/ids/sources/cloudtrail"
)

// TestRenderEveryFixtureRecord runs every recorded CloudTrail record through
// the real source (with the detection presets and the denial explainer), the
// bus encoding and the renderer, and checks each message as Slack would.
func TestRenderEveryFixtureRecord(t *testing.T) {
	set := detections.NewSet(detections.All())
	src := cloudtrail.New(cloudtrail.Options{Enrichers: []cloudtrail.Enricher{set, denial.Enricher{}}})
	fallback := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	var records, withDetections, withPermission, guardrails int
	all := sharedfixtures.CloudTrailRecords(t)
	for _, rec := range all {
		a := src.FromRecord(rec.Raw, &activity.Origin{LogGroup: "CloudTrail/DefaultLogGroup"}, fallback)
		entry, err := activity.NewEntry(a, 0)
		if err != nil {
			t.Errorf("%s: %v", rec.Path, err)
			continue
		}
		delivered, err := activity.Parse(entry.Detail)
		if err != nil {
			t.Errorf("%s: %v", rec.Path, err)
			continue
		}
		msg := Render(delivered)
		checkMessage(t, encode(t, msg))
		records++
		if len(delivered.Detections) > 0 {
			withDetections++
		}
		if p := delivered.Permission; p != nil {
			withPermission++
			if p.Guardrail {
				guardrails++
			}
		}
	}
	if records != len(all) || (sharedfixtures.Full() && records < 1433) {
		t.Fatalf("rendered %d of %d records, want every one (1,433 in the full set)", records, len(all))
	}
	t.Logf("%d records rendered within Slack's limits, no live markup: %d with detections, %d with a permission line (%d guardrail)", records, withDetections, withPermission, guardrails)
}
