package cloudtrail

import (
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/activity-aware/ids/internal/sharedfixtures"
	"github.com/aws/aws-lambda-go/events"
	"github.com/valyala/fastjson"
)

// fixtureRecord is one record of a shared fixture file.
type fixtureRecord struct {
	File  string
	Index int
	Raw   json.RawMessage
}

// loadFixtureRecords reads every record of every CloudTrail log file under
// ../shared/fixtures/cloudtrail, in a stable order.
func loadFixtureRecords(tb testing.TB) []fixtureRecord {
	tb.Helper()
	root := sharedfixtures.CloudTrail(tb)
	var files []string
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && filepath.Ext(path) == ".json" {
			files = append(files, path)
		}
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	sort.Strings(files)
	var out []fixtureRecord
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		var doc struct {
			Records []json.RawMessage
		}
		if err := json.Unmarshal(b, &doc); err != nil {
			tb.Fatalf("%s: %v", f, err)
		}
		rel, _ := filepath.Rel(root, f)
		for i, r := range doc.Records {
			var c bytes.Buffer
			if err := json.Compact(&c, r); err != nil {
				tb.Fatal(err)
			}
			out = append(out, fixtureRecord{File: rel, Index: i, Raw: c.Bytes()})
		}
	}
	return out
}

// Limits of a CloudWatch Logs subscription batch, as make-batches.py packs
// them.
const (
	maxBatchEvents     = 10000
	maxBatchBytes      = 1048576
	perEventOverhead   = 26
	benchLogGroup      = "CloudTrail/DefaultLogGroup"
	benchLogStreamName = "123456789012_CloudTrail_us-east-1"
)

// packBatch packs records round-robin from start into one maximum-size
// batch, with fresh eventIDs, and returns the batch JSON, the total message
// bytes and the next start.
func packBatch(tb testing.TB, recs []fixtureRecord, start int) (batch []byte, messageBytes, next int) {
	tb.Helper()
	type logEvent struct {
		ID        string `json:"id"`
		Timestamp int64  `json:"timestamp"`
		Message   string `json:"message"`
	}
	var evs []logEvent
	var arena fastjson.Arena
	size := 0
	i := start
	for len(evs) < maxBatchEvents {
		v, err := fastjson.ParseBytes(recs[i%len(recs)].Raw)
		if err != nil {
			tb.Fatal(err)
		}
		if v.Type() == fastjson.TypeObject {
			arena.Reset()
			v.Set("eventID", arena.NewString(newUUID()))
		}
		m := string(v.MarshalTo(nil))
		if size+len(m)+perEventOverhead > maxBatchBytes {
			break
		}
		i++
		evs = append(evs, logEvent{ID: fmt.Sprint(len(evs)), Timestamp: 1700000000000, Message: m})
		size += len(m) + perEventOverhead
		messageBytes += len(m)
	}
	body, err := json.Marshal(map[string]any{
		"messageType":         "DATA_MESSAGE",
		"owner":               "123456789012",
		"logGroup":            benchLogGroup,
		"logStream":           benchLogStreamName,
		"subscriptionFilters": []string{"f"},
		"logEvents":           evs,
	})
	if err != nil {
		tb.Fatal(err)
	}
	return body, messageBytes, i
}

// subscriptionEvent wraps batch JSON as CloudWatch Logs delivers it.
func subscriptionEvent(tb testing.TB, batch []byte) events.CloudwatchLogsEvent {
	tb.Helper()
	var z bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&z, 6)
	if _, err := zw.Write(batch); err != nil {
		tb.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return events.CloudwatchLogsEvent{AWSLogs: events.CloudwatchLogsRawData{Data: base64.StdEncoding.EncodeToString(z.Bytes())}}
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
