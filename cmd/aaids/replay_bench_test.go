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
	benchmarkReplay(b, "batches.ndjson", ndjson.Bytes(), len(messages))
}

// BenchmarkReplayLogFile is BenchmarkReplayJSON on the same records as one
// gzip-compressed CloudTrail log file ({"Records":[…]}, as CloudTrail writes
// them to S3).
func BenchmarkReplayLogFile(b *testing.B) {
	messages := sharedfixtures.CloudTrailMessages(b)
	benchmarkReplay(b, "trail.json.gz", subscriptiontest.Gzip([]byte(`{"Records":[`+strings.Join(messages, ",")+`]}`)), len(messages))
}

// benchmarkReplay replays the file content named name, of n records.
func benchmarkReplay(b *testing.B, name string, content []byte, n int) {
	in := filepath.Join(b.TempDir(), name)
	if err := os.WriteFile(in, content, 0o644); err != nil {
		b.Fatal(err)
	}
	stdio := Stdio{In: strings.NewReader(""), Out: io.Discard, Err: io.Discard, Getenv: func(string) string { return "" }}
	b.ReportAllocs()
	for b.Loop() {
		if code := run(context.Background(), []string{"replay", "--format", "json", in}, stdio); code != exitOK {
			b.Fatalf("exit %d", code)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}
