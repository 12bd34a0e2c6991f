package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/activity-aware/ids/internal/sharedfixtures"
	"github.com/activity-aware/ids/internal/subscriptiontest"
)

// BenchmarkReplayJSON runs `aaids replay --format json` to io.Discard over
// every recorded CloudTrail record packed into maximum-size subscription
// batches, one payload per line (as compare.sh feeds it), so that -benchmem
// reports what the output path allocates beside the source's own work.
func BenchmarkReplayJSON(b *testing.B) {
	messages := sharedfixtures.CloudTrailMessages(b)
	var ndjson bytes.Buffer
	for _, batch := range subscriptiontest.Pack(messages, 0) {
		ndjson.Write(subscriptiontest.Payload(subscriptiontest.Batch{}.JSON(batch...)))
		ndjson.WriteByte('\n')
	}
	in := filepath.Join(b.TempDir(), "batches.ndjson")
	if err := os.WriteFile(in, ndjson.Bytes(), 0o644); err != nil {
		b.Fatal(err)
	}
	stdio := Stdio{In: strings.NewReader(""), Out: io.Discard, Err: io.Discard, Getenv: func(string) string { return "" }}
	b.ReportAllocs()
	for b.Loop() {
		if code := run(context.Background(), []string{"replay", "--format", "json", in}, stdio); code != exitOK {
			b.Fatalf("exit %d", code)
		}
	}
	b.ReportMetric(float64(len(messages))*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}
