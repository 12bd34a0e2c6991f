package detections

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/denial"
	"github.com/activity-aware/ids/sources/cloudtrail"
)

// fixtureRecords returns every record of the presets' own fixtures.
func fixtureRecords(b *testing.B) []json.RawMessage {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil || len(files) == 0 {
		b.Fatalf("no fixtures: %v", err)
	}
	var recs []json.RawMessage
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		var fx fixture
		if err := json.Unmarshal(data, &fx); err != nil {
			b.Fatal(err)
		}
		for _, c := range append(fx.Match, fx.NoMatch...) {
			recs = append(recs, c.Record)
		}
	}
	return recs
}

func benchSet(b *testing.B, recs []json.RawMessage, presets []*Preset) {
	set := NewSet(presets)
	var bytes int64
	for _, r := range recs {
		bytes += int64(len(r))
	}
	b.SetBytes(bytes / int64(len(recs)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		set.Match(recs[i%len(recs)])
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkSetAll evaluates every preset on each record (one parse per record).
func BenchmarkSetAll(b *testing.B) { benchSet(b, fixtureRecords(b), All()) }

// BenchmarkSetDefault evaluates the default preset alone.
func BenchmarkSetDefault(b *testing.B) {
	p, _ := Lookup(DefaultID)
	benchSet(b, fixtureRecords(b), p)
}

// BenchmarkSetAllShared evaluates every preset on the whole shared recordings.
func BenchmarkSetAllShared(b *testing.B) { benchSet(b, sharedRecords(b), All()) }

// BenchmarkPrefilter is what the broad prefilter costs the function per
// record it delivers: the source standardizes every shared CloudTrail record
// and labels it with the enabled presets, as the deployed function does
// before it drops what nothing labelled (CloudWatch Logs evaluates
// BroadPattern itself, at no cost to the function). "default" is the
// deployment default (the denial preset alone, behind its exact pattern),
// "all" every preset. The "s/1M-records" metric is the CPU seconds per
// million records. Run:
//
//	go test ./detections -run '^$' -bench Prefilter -benchtime 3s
func BenchmarkPrefilter(b *testing.B) {
	recs := sharedRecords(b)
	fallback := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name    string
		presets []*Preset
	}{{"default", mustLookup(b, DefaultID)}, {"all", All()}} {
		b.Run(tc.name, func(b *testing.B) {
			src := cloudtrail.New(cloudtrail.Options{Enrichers: []cloudtrail.Enricher{NewSet(tc.presets), denial.Enricher{}}})
			origin := &activity.Origin{LogGroup: "CloudTrail/DefaultLogGroup"}
			kept := 0
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if cloudtrail.KeepLabelled(src.FromRecord(recs[i%len(recs)], origin, fallback)) {
					kept++
				}
			}
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N)*1e6, "s/1M-records")
			b.ReportMetric(float64(kept)/float64(b.N), "kept/record")
		})
	}
}

func mustLookup(b *testing.B, ids ...string) []*Preset {
	p, err := Lookup(ids...)
	if err != nil {
		b.Fatal(err)
	}
	return p
}
