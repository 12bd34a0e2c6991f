package cloudtrail

import (
	"testing"
	"time"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/denial"
	"github.com/activity-aware/ids/detections"
	"github.com/activity-aware/ids/internal/sharedfixtures"
)

// BenchmarkPrefilter is what the broad prefilter costs the function per
// record it delivers: the source standardizes every shared CloudTrail record
// and labels it with the enabled presets, as the deployed function does
// before it drops what nothing labelled (CloudWatch Logs evaluates
// detections.BroadPattern itself, at no cost to the function). "default" is the
// deployment default (the denial preset alone, behind its exact pattern),
// "all" every preset. The "s/1M-records" metric is the CPU seconds per
// million records. Run:
//
//	go test ./sources/cloudtrail -run '^$' -bench Prefilter -benchtime 3s
func BenchmarkPrefilter(b *testing.B) {
	var recs [][]byte
	for _, r := range sharedfixtures.CloudTrailRecords(b) {
		recs = append(recs, r.Raw)
	}
	fallback := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name    string
		presets []*detections.Preset
	}{{"default", mustLookup(b, detections.DefaultID)}, {"all", detections.All()}} {
		b.Run(tc.name, func(b *testing.B) {
			src := New(Options{Enrichers: []Enricher{detections.NewSet(tc.presets), denial.Enricher{}}})
			origin := &activity.Origin{LogGroup: "CloudTrail/DefaultLogGroup"}
			kept := 0
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if KeepLabelled(src.FromRecord(recs[i%len(recs)], origin, fallback)) {
					kept++
				}
			}
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N)*1e6, "s/1M-records")
			b.ReportMetric(float64(kept)/float64(b.N), "kept/record")
		})
	}
}

func mustLookup(b *testing.B, ids ...string) []*detections.Preset {
	p, err := detections.Lookup(ids...)
	if err != nil {
		b.Fatal(err)
	}
	return p
}
