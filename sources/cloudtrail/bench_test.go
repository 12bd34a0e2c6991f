package cloudtrail

import (
	"encoding/json"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/activity-aware/ids/activity"
)

// standardizeBatch is the source's whole job for one batch: decode,
// standardize, encode every activity's EventBridge entry.
func standardizeBatch(tb testing.TB, s *Source, ev events.CloudwatchLogsEvent) int {
	acts, err := s.FromSubscription(ev)
	if err != nil {
		tb.Fatal(err)
	}
	for _, a := range acts {
		if _, err := activity.NewEntry(a, 0); err != nil {
			tb.Fatalf("entry %s: %v", a.ID, err)
		}
	}
	return len(acts)
}

// BenchmarkSubscriptionBatch standardizes one maximum-size subscription batch
// of real records end to end; SetBytes is the decoded record bytes, so MB/s
// compares with the Node baseline's records.
func BenchmarkSubscriptionBatch(b *testing.B) {
	recs := loadFixtureRecords(b)
	batch, msgBytes, _ := packBatch(b, recs, 0)
	ev := subscriptionEvent(b, batch)
	s := New(Options{})
	b.SetBytes(int64(msgBytes))
	b.ReportAllocs()
	records := 0
	for b.Loop() {
		records = standardizeBatch(b, s, ev)
	}
	b.ReportMetric(float64(records)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkSubscriptionPayload is BenchmarkSubscriptionBatch from the
// invocation payload as the Lambda runtime delivers it (Handler.Invoke's
// path, FromPayload), envelope decoding included.
func BenchmarkSubscriptionPayload(b *testing.B) {
	recs := loadFixtureRecords(b)
	batch, msgBytes, _ := packBatch(b, recs, 0)
	payload, err := json.Marshal(subscriptionEvent(b, batch))
	if err != nil {
		b.Fatal(err)
	}
	s := New(Options{})
	b.SetBytes(int64(msgBytes))
	b.ReportAllocs()
	records := 0
	for b.Loop() {
		acts, err := s.FromPayload(payload)
		if err != nil {
			b.Fatal(err)
		}
		for _, a := range acts {
			if _, err := activity.NewEntry(a, 0); err != nil {
				b.Fatalf("entry %s: %v", a.ID, err)
			}
		}
		records = len(acts)
	}
	b.ReportMetric(float64(records)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// TestMaxBatchPeakHeap standardizes a maximum-size batch while sampling the
// live heap and checks the peak stays well within a 128 MB Lambda, with Go's
// default collector settings and with the Lambda's (TuneGC).
func TestMaxBatchPeakHeap(t *testing.T) {
	recs := loadFixtureRecords(t)
	batch, msgBytes, _ := packBatch(t, recs, 0)
	ev := subscriptionEvent(t, batch)
	for _, tt := range []struct {
		name  string
		setup func()
	}{
		{"default GC", func() {}},
		{"TuneGC(128)", func() { TuneGC(128) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("GOGC", "")
			os.Unsetenv("GOGC")
			t.Setenv("GOMEMLIMIT", "")
			os.Unsetenv("GOMEMLIMIT")
			prevPercent := debug.SetGCPercent(100)
			prevLimit := debug.SetMemoryLimit(math.MaxInt64)
			defer func() {
				debug.SetGCPercent(prevPercent)
				debug.SetMemoryLimit(prevLimit)
			}()
			tt.setup()
			s := New(Options{})
			runtime.GC()
			var base runtime.MemStats
			runtime.ReadMemStats(&base)

			stop := make(chan struct{})
			peak := make(chan uint64)
			go func() {
				var ms runtime.MemStats
				var max uint64
				for {
					runtime.ReadMemStats(&ms)
					if ms.HeapAlloc > max {
						max = ms.HeapAlloc
					}
					select {
					case <-stop:
						peak <- max
						return
					case <-time.After(time.Millisecond):
					}
				}
			}()
			// Two batches, as a warm Lambda handles one after another.
			n := standardizeBatch(t, s, ev)
			n += standardizeBatch(t, s, ev)
			close(stop)
			p := <-peak
			var after runtime.MemStats
			runtime.ReadMemStats(&after)
			const limit = 64 << 20 // half of a 128 MB Lambda, leaving room for the runtime and SDK
			t.Logf("2 max batches: %d records, %d message bytes each; peak heap %.1f MB (baseline %.1f MB), allocated %.1f MB, %d GCs",
				n, msgBytes, float64(p)/(1<<20), float64(base.HeapAlloc)/(1<<20), float64(after.TotalAlloc-base.TotalAlloc)/(1<<20), after.NumGC-base.NumGC)
			if p-base.HeapAlloc > limit {
				t.Errorf("peak heap above baseline %d bytes, want <= %d", p-base.HeapAlloc, limit)
			}
		})
	}
}
