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
	"github.com/activity-aware/ids/detections"
	"github.com/activity-aware/ids/eventbus"
	"github.com/activity-aware/ids/internal/subscriptiontest"
)

// deployedSource is the source as the Lambda builds it from the environment
// the CloudTrailSource construct gives it by default (ConfigFromEnv, then
// NewSource): the default detection preset and the denial explanation.
func deployedSource(tb testing.TB) *Source {
	env := Config{EventBusName: "bus", Detections: []string{detections.DefaultID}, PutEventsMaxBytes: 262144}.Environment()
	cfg, err := ConfigFromEnv(func(k string) string { return env[k] })
	if err != nil {
		tb.Fatal(err)
	}
	src, err := cfg.NewSource()
	if err != nil {
		tb.Fatal(err)
	}
	return src
}

// standardize is the source's whole job for one batch: decode (by calling
// decode), standardize, encode every activity's EventBridge entry.
func standardize(tb testing.TB, decode func() ([]*activity.Activity, error)) int {
	acts, err := decode()
	if err != nil {
		tb.Fatal(err)
	}
	var block eventbus.EntryBlock // as eventbus.Publisher.Publish encodes and releases them
	defer block.Release()
	for _, a := range acts {
		if _, err := block.Entry(a, 0); err != nil {
			tb.Fatalf("entry %s: %v", a.ID, err)
		}
	}
	return len(acts)
}

// standardizeBatch is standardize of a decoded subscription event, in the
// memory of the batch before (b), as the Handler builds them.
func standardizeBatch(tb testing.TB, s *Source, ev events.CloudwatchLogsEvent, b *Batch) int {
	return standardize(tb, func() ([]*activity.Activity, error) { return s.FromSubscription(ev, b) })
}

// benchmarkBatch reports standardize of one maximum-size subscription batch
// of real records, end to end; SetBytes is the decoded record bytes, so MB/s
// compares with the Node baseline's records.
func benchmarkBatch(b *testing.B, s *Source, decode func(s *Source, ev events.CloudwatchLogsEvent, payload []byte) ([]*activity.Activity, error)) {
	recs := loadFixtureRecords(b)
	batch, msgBytes, _ := packBatch(b, recs, 0)
	ev := subscriptiontest.Event(batch)
	payload, err := json.Marshal(ev)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(msgBytes))
	b.ReportAllocs()
	records := 0
	for b.Loop() {
		records = standardize(b, func() ([]*activity.Activity, error) { return decode(s, ev, payload) })
	}
	b.ReportMetric(float64(records)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkSubscriptionBatch starts from the decoded subscription event
// (Handler.Handle's path, FromSubscription), with the source alone, without
// the enrichers the deployed function adds: a figure for comparison only.
func BenchmarkSubscriptionBatch(b *testing.B) {
	benchmarkBatch(b, New(Options{}), func(s *Source, ev events.CloudwatchLogsEvent, _ []byte) ([]*activity.Activity, error) {
		return s.FromSubscription(ev, nil)
	})
}

// BenchmarkSubscriptionPayload starts from the invocation payload as the
// Lambda runtime delivers it (Handler.Invoke's path, FromPayload), envelope
// decoding included, with the source as deployed (deployedSource), each
// batch built in the memory of the one before, as Handler.Invoke builds it.
func BenchmarkSubscriptionPayload(b *testing.B) {
	var batch Batch
	benchmarkBatch(b, deployedSource(b), func(s *Source, _ events.CloudwatchLogsEvent, payload []byte) ([]*activity.Activity, error) {
		return s.FromPayload(payload, &batch)
	})
}

// TestMaxBatchPeakHeap standardizes a maximum-size batch while sampling the
// live heap and checks the peak stays well within a 128 MB Lambda, with Go's
// default collector settings and with the Lambda's (TuneGC), for the source
// as deployed (deployedSource).
func TestMaxBatchPeakHeap(t *testing.T) {
	recs := loadFixtureRecords(t)
	batch, msgBytes, _ := packBatch(t, recs, 0)
	ev := subscriptiontest.Event(batch)
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
			s := deployedSource(t)
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
			var b Batch
			n := standardizeBatch(t, s, ev, &b)
			n += standardizeBatch(t, s, ev, &b)
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
