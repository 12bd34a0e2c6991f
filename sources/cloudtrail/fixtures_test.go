package cloudtrail

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/activity-aware/ids/internal/sharedfixtures"
	"github.com/activity-aware/ids/internal/subscriptiontest"
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

// The log group and stream of the benchmark batches.
const (
	benchLogGroup      = "CloudTrail/DefaultLogGroup"
	benchLogStreamName = "123456789012_CloudTrail_us-east-1"
)

// packBatch packs records round-robin from start into one maximum-size
// batch, with fresh eventIDs, and returns the batch JSON, the total message
// bytes and the next start.
func packBatch(tb testing.TB, recs []fixtureRecord, start int) (batch []byte, messageBytes, next int) {
	tb.Helper()
	var messages []string
	var arena fastjson.Arena
	size := 0
	i := start
	for len(messages) < subscriptiontest.MaxEvents {
		v, err := fastjson.ParseBytes(recs[i%len(recs)].Raw)
		if err != nil {
			tb.Fatal(err)
		}
		if v.Type() == fastjson.TypeObject {
			arena.Reset()
			v.Set("eventID", arena.NewString(newUUID()))
		}
		m := string(v.MarshalTo(nil))
		if size+len(m)+subscriptiontest.EventOverhead > subscriptiontest.MaxBytes {
			break
		}
		i++
		messages = append(messages, m)
		size += len(m) + subscriptiontest.EventOverhead
		messageBytes += len(m)
	}
	b := subscriptiontest.Batch{Owner: "123456789012", LogGroup: benchLogGroup, LogStream: benchLogStreamName, Filters: []string{"f"}}
	return b.JSON(messages...), messageBytes, i
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
