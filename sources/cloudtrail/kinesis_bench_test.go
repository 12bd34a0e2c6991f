package cloudtrail

import (
	"context"
	"encoding/json"
	"log/slog"
	"testing"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/internal/subscriptiontest"
)

// encodingPublisher encodes every activity's EventBridge entry, as the bus
// publisher does before PutEvents, and keeps none.
type encodingPublisher struct{}

func (encodingPublisher) Publish(_ context.Context, acts []*activity.Activity) error {
	for _, a := range acts {
		if _, err := activity.NewEntry(a, 0); err != nil {
			return err
		}
	}
	return nil
}

// Shape of the benchmark's invocation: the event source mapping's batch of
// kinesisBatchRecords records, each a logs destination's gzipped batch of
// kinesisLogEvents real CloudTrail records.
const (
	kinesisBatchRecords = 100
	kinesisLogEvents    = 50
)

// BenchmarkKinesisEvent is the Kinesis path's cost per log event in the
// deployed function (default detections, denial explanation): Invoke on the
// runtime's payload bytes (JSON with base64 record data), gunzip,
// standardize, encode the entries; PutEvents itself is not included (see
// docs/SCALING.md). It needs ../shared/fixtures.
func BenchmarkKinesisEvent(b *testing.B) {
	recs := loadFixtureRecords(b)
	var datas [][]byte
	next := 0
	for range kinesisBatchRecords {
		msgs := make([]string, 0, kinesisLogEvents)
		for range kinesisLogEvents {
			msgs = append(msgs, string(recs[next%len(recs)].Raw))
			next++
		}
		datas = append(datas, subscriptiontest.Gzip(subscriptiontest.Batch{UniqueIDs: true}.JSON(msgs...)))
	}
	payload, err := json.Marshal(kinesisEvent(datas...))
	if err != nil {
		b.Fatal(err)
	}
	h := &Handler{Source: deployedSource(b), Publisher: encodingPublisher{}, Logger: slog.New(slog.DiscardHandler)}
	ctx := context.Background()
	b.ReportAllocs()
	b.SetBytes(int64(len(payload)))
	for b.Loop() {
		out, err := h.Invoke(ctx, payload)
		if err != nil || string(out) != `{"batchItemFailures":null}` {
			b.Fatalf("%s %v", out, err)
		}
	}
	events := float64(b.N * kinesisBatchRecords * kinesisLogEvents)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/events, "ns/logevent")
	b.ReportMetric(float64(len(payload))/(kinesisBatchRecords*kinesisLogEvents), "payloadB/logevent")
}
