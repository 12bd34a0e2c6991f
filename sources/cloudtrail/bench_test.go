package cloudtrail

import (
	"runtime"
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

// TestMaxBatchPeakHeap standardizes a maximum-size batch while sampling the
// live heap and checks the peak stays well within a 128 MB Lambda.
func TestMaxBatchPeakHeap(t *testing.T) {
	recs := loadFixtureRecords(t)
	batch, msgBytes, _ := packBatch(t, recs, 0)
	ev := subscriptionEvent(t, batch)
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
	n := standardizeBatch(t, s, ev)
	close(stop)
	p := <-peak
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	const limit = 64 << 20 // half of a 128 MB Lambda, leaving room for the runtime and SDK
	t.Logf("max batch: %d records, %d message bytes; peak heap %.1f MB (baseline %.1f MB), allocated %.1f MB ",
		n, msgBytes, float64(p)/(1<<20), float64(base.HeapAlloc)/(1<<20), float64(after.TotalAlloc-base.TotalAlloc)/(1<<20))
	if p-base.HeapAlloc > limit {
		t.Errorf("peak heap above baseline %d bytes, want <= %d", p-base.HeapAlloc, limit)
	}
}
