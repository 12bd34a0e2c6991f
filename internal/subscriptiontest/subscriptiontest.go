// Package subscriptiontest builds CloudWatch Logs subscription payloads for
// tests, as CloudWatch Logs delivers them to a subscribed Lambda function: a
// batch (events.CloudwatchLogsData) of log events, its JSON gzipped and
// base64-encoded into {"awslogs":{"data":...}}, and messages packed into
// batches within the service's limits. Like net/http/httptest, it is imported
// by tests only.
package subscriptiontest

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// Limits of one subscription batch: at most MaxEvents log events, and at
// most MaxBytes of messages counting EventOverhead bytes for each event (how
// CloudWatch Logs sizes a batch: the message plus 26 bytes).
const (
	MaxEvents     = 10000
	MaxBytes      = 1048576
	EventOverhead = 26
)

// Defaults of a Batch: an account's CloudTrail log group in us-east-1.
const (
	DefaultOwner     = "111122223333"
	DefaultLogGroup  = "CloudTrail/DefaultLogGroup"
	DefaultLogStream = DefaultOwner + "_CloudTrail_us-east-1"
	DefaultFilter    = "activity-aware-ids-denials"
)

// DefaultStart is the timestamp of a batch's first log event by default.
var DefaultStart = time.Date(2023, 11, 14, 22, 13, 20, 0, time.UTC)

// Batch says where a batch's log events come from. Zero fields take the
// defaults above.
type Batch struct {
	Owner     string
	LogGroup  string
	LogStream string
	Filters   []string
	// Start is the timestamp of the first log event; each next one is a
	// millisecond later.
	Start time.Time
	// UniqueIDs numbers log events across every batch the process builds, as
	// CloudWatch Logs' ids are unique; otherwise each batch numbers its own
	// from 0, so the same messages give the same batch.
	UniqueIDs bool
}

var seq atomic.Int64

// Data returns the batch of messages.
func (b Batch) Data(messages ...string) events.CloudwatchLogsData {
	d := events.CloudwatchLogsData{
		MessageType:         "DATA_MESSAGE",
		Owner:               or(b.Owner, DefaultOwner),
		LogGroup:            or(b.LogGroup, DefaultLogGroup),
		LogStream:           or(b.LogStream, DefaultLogStream),
		SubscriptionFilters: b.Filters,
		LogEvents:           make([]events.CloudwatchLogsLogEvent, 0, len(messages)),
	}
	if len(d.SubscriptionFilters) == 0 {
		d.SubscriptionFilters = []string{DefaultFilter}
	}
	start := b.Start
	if start.IsZero() {
		start = DefaultStart
	}
	for i, m := range messages {
		n := int64(i)
		if b.UniqueIDs {
			n = seq.Add(1)
		}
		d.LogEvents = append(d.LogEvents, events.CloudwatchLogsLogEvent{
			ID: fmt.Sprintf("%056d", n), Timestamp: start.UnixMilli() + int64(i), Message: m,
		})
	}
	return d
}

// JSON returns the batch of messages as JSON, before compression.
func (b Batch) JSON(messages ...string) []byte {
	out, err := json.Marshal(b.Data(messages...))
	if err != nil {
		panic(err) // strings always marshal
	}
	return out
}

// Gzip compresses data as CloudWatch Logs does; the output is reproducible
// (no name, no time in the header).
func Gzip(data []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write(data) // a bytes.Buffer does not fail
	_ = zw.Close()
	return buf.Bytes()
}

// Encode returns the awslogs.data string of a batch's JSON (or of any bytes,
// to build malformed payloads): gzip, then base64.
func Encode(batchJSON []byte) string {
	return base64.StdEncoding.EncodeToString(Gzip(batchJSON))
}

// Event returns the subscription event of a batch's JSON.
func Event(batchJSON []byte) events.CloudwatchLogsEvent {
	return events.CloudwatchLogsEvent{AWSLogs: events.CloudwatchLogsRawData{Data: Encode(batchJSON)}}
}

// Payload returns the invocation payload of a batch's JSON, as the function
// receives it.
func Payload(batchJSON []byte) []byte {
	return Wrap(Gzip(batchJSON))
}

// Wrap returns the invocation payload of already gzipped (or deliberately
// corrupt) data.
func Wrap(gzipped []byte) []byte {
	out, err := json.Marshal(events.CloudwatchLogsEvent{
		AWSLogs: events.CloudwatchLogsRawData{Data: base64.StdEncoding.EncodeToString(gzipped)},
	})
	if err != nil {
		panic(err)
	}
	return out
}

// Pack splits messages, in order, into batches as CloudWatch Logs does: at
// most MaxEvents each and at most maxBytes (MaxBytes when 0) of messages
// with their EventOverhead. A message larger than maxBytes goes alone.
func Pack(messages []string, maxBytes int) [][]string {
	if maxBytes <= 0 {
		maxBytes = MaxBytes
	}
	var (
		out  [][]string
		cur  []string
		size int
	)
	for _, m := range messages {
		n := len(m) + EventOverhead
		if len(cur) == MaxEvents || (len(cur) > 0 && size+n > maxBytes) {
			out = append(out, cur)
			cur, size = nil, 0
		}
		cur = append(cur, m)
		size += n
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
