package detections_test

import (
	"context"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/correlation"
	"github.com/activity-aware/ids/detections"
	"github.com/activity-aware/ids/sources/cloudtrail"
)

// TestStratusCoverageWithThresholds runs every Stratus Red Team detonation
// as the deployed system does, with every preset on: the source labels each
// record (technique-specific presets at low severity or above count; the
// generic denial presets do not), and package correlation evaluates the
// threshold presets in event time, per principal, as aaids replay does. A
// technique counts when one of its records raises a technique-specific
// preset or its records make a threshold detection.
func TestStratusCoverageWithThresholds(t *testing.T) {
	all := detections.All()
	src := cloudtrail.New(cloudtrail.Options{Enrichers: []cloudtrail.Enricher{detections.NewSet(all)}})
	records, head := detections.StratusRecords(t)
	byTech := map[string][]*activity.Activity{}
	for tech, recs := range records {
		for _, r := range recs {
			byTech[tech] = append(byTech[tech], src.FromRecord(r.Raw, &activity.Origin{LogGroup: "CloudTrail/DefaultLogGroup"}, time.Time{}))
		}
	}
	generic := detections.Generic
	var detected, missed []string
	for tech := range head {
		by := map[string]bool{}
		for _, a := range byTech[tech] {
			for _, d := range a.Detections {
				if !slices.Contains(generic, d.ID) && d.Severity != activity.Info {
					by[d.ID] = true
				}
			}
		}
		// Each technique on its own: a fresh store, as if detonated alone.
		det := &correlation.Detector{Store: correlation.NewMemoryStore(), Rules: correlation.ThresholdRules(all)}
		derived, err := det.Observe(context.Background(), byTech[tech])
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range derived {
			for _, d := range a.Detections {
				by[d.ID+" (threshold)"] = true
			}
		}
		ids := make([]string, 0, len(by))
		for id := range by {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		if len(ids) > 0 {
			detected = append(detected, tech+": "+strings.Join(ids, ", "))
		} else {
			missed = append(missed, tech)
		}
	}
	sort.Strings(detected)
	for _, d := range detected {
		t.Logf("detected %s", d)
	}
	t.Logf("%d of %d Stratus techniques detected with thresholds evaluated; remaining: %v", len(detected), len(head), missed)
	if len(head) != 35 || len(detected) != len(head) {
		t.Errorf("%d of %d techniques detected, want all 35", len(detected), len(head))
	}
}
