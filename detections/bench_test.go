package detections

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
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
