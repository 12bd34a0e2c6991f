package cloudtrail

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
	"unsafe"

	"github.com/aws/aws-lambda-go/events"
	gojson "github.com/goccy/go-json"
	"github.com/klauspost/compress/gzip"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/internal/jsonscan"
)

// ErrMalformedPayload reports a subscription payload that cannot be decoded:
// bad base64, bad gzip, bad JSON or a batch of the wrong shape.
var ErrMalformedPayload = errors.New("cloudtrail: malformed subscription payload")

// ErrPayloadTooLarge reports a payload that inflates beyond maxInflated.
var ErrPayloadTooLarge = errors.New("cloudtrail: subscription payload too large")

// maxInflated bounds the inflated batch JSON. CloudWatch Logs sends at most
// about 1 MB of messages; JSON escaping of a message can grow it up to six
// times (\u00XX), so 16 MB leaves room for any real batch and stops a gzip
// bomb early.
const maxInflated = 16 << 20

// Message types of a subscription batch.
const (
	dataMessage    = "DATA_MESSAGE"
	controlMessage = "CONTROL_MESSAGE"
)

// buffers pools the base64-decoded and inflated bytes of a batch.
var buffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// gzipReaders pools inflaters; a *gzip.Reader is large and costly to set up.
var gzipReaders = sync.Pool{New: func() any { return new(gzip.Reader) }}

// FromSubscription decodes a CloudWatch Logs subscription event and
// standardizes every log event of the batch. A CONTROL_MESSAGE yields (nil,
// nil). A payload that is not base64, not gzip or not a batch is an error
// wrapping ErrMalformedPayload (or ErrPayloadTooLarge); no activity is
// returned with an error. It builds the activities in b, the memory of an
// earlier batch (see Batch), or in memory of their own when b is nil.
func (s *Source) FromSubscription(ev events.CloudwatchLogsEvent, b *Batch) ([]*activity.Activity, error) {
	data := readOnlyBytes(ev.AWSLogs.Data) // read by the base64 decoder only
	compressed := buffers.Get().(*bytes.Buffer)
	defer putBuffer(compressed)
	compressed.Reset()
	compressed.Grow(base64.StdEncoding.DecodedLen(len(data)))
	raw, err := base64.StdEncoding.AppendDecode(compressed.AvailableBuffer(), data)
	if err != nil {
		return nil, fmt.Errorf("%w: base64: %w", ErrMalformedPayload, err)
	}
	return s.FromGzip(raw, b)
}

// FromGzip standardizes a gzipped subscription batch as CloudWatch Logs
// writes it to a Kinesis data stream through a logs destination: the bytes
// of one Kinesis record, the payload FromSubscription reads without its
// base64. Its results, errors and b are FromSubscription's.
func (s *Source) FromGzip(zipped []byte, b *Batch) ([]*activity.Activity, error) {
	inflated := buffers.Get().(*bytes.Buffer)
	defer putBuffer(inflated)
	if err := inflate(inflated, zipped); err != nil {
		return nil, err
	}
	return s.fromBatch(inflated.Bytes(), b)
}

// FromPayload standardizes a CloudWatch Logs subscription event as the Lambda
// runtime delivers it, the JSON bytes {"awslogs":{"data":"..."}}, exactly as
// FromSubscription does after decoding it into events.CloudwatchLogsEvent
// with encoding/json; goccy/go-json decodes it, without copying the megabyte
// of base64. A payload that is not such an event is an error wrapping
// ErrMalformedPayload. b is FromSubscription's.
func (s *Source) FromPayload(payload []byte, b *Batch) ([]*activity.Activity, error) {
	var ev events.CloudwatchLogsEvent
	if err := gojson.UnmarshalWithOption(payload, &ev, gojson.DecodeNoCopyString()); err != nil {
		return nil, fmt.Errorf("%w: event JSON: %w", ErrMalformedPayload, err)
	}
	return s.FromSubscription(ev, b)
}

// putBuffer returns b to the pool unless a hostile payload made it huge.
func putBuffer(b *bytes.Buffer) {
	if b.Cap() <= 2*maxInflated {
		buffers.Put(b)
	}
}

// inflate gunzips src into dst (reset first), at most maxInflated bytes.
func inflate(dst *bytes.Buffer, src []byte) error {
	zr := gzipReaders.Get().(*gzip.Reader)
	if err := zr.Reset(bytes.NewReader(src)); err != nil {
		return fmt.Errorf("%w: gzip: %w", ErrMalformedPayload, err)
	}
	defer gzipReaders.Put(zr)
	dst.Reset()
	// About 4:1 for CloudTrail JSON; one growth step at most for most batches.
	dst.Grow(min(len(src)*5, maxInflated))
	n, err := dst.ReadFrom(io.LimitReader(zr, maxInflated+1))
	if err != nil {
		return fmt.Errorf("%w: gzip: %w", ErrMalformedPayload, err)
	}
	if n > maxInflated {
		return fmt.Errorf("%w: inflates beyond %d bytes", ErrPayloadTooLarge, maxInflated)
	}
	return nil
}

// fromBatch standardizes the batch JSON of a subscription payload, decoded
// by goccy/go-json as encoding/json would decode it.
func (s *Source) fromBatch(data []byte, b *Batch) ([]*activity.Activity, error) {
	if b == nil {
		b = new(Batch)
	}
	var d events.CloudwatchLogsData
	checked, ok := jsonscan.DecodeLogsData(data, &d, &b.decoded) // the shape CloudWatch Logs writes, else:
	if !ok {
		if err := gojson.Unmarshal(data, &d); err != nil {
			return nil, fmt.Errorf("%w: batch JSON: %w", ErrMalformedPayload, err)
		}
	}
	switch d.MessageType {
	case dataMessage:
		return s.fromLogsData(&d, checked, b), nil
	case controlMessage:
		return nil, nil
	}
	return nil, fmt.Errorf("%w: messageType %q", ErrMalformedPayload, d.MessageType)
}

// FromLogsData standardizes an already decoded subscription batch, one
// activity per log event. A batch other than DATA_MESSAGE yields none.
func (s *Source) FromLogsData(d *events.CloudwatchLogsData) []*activity.Activity {
	return s.fromLogsData(d, nil, new(Batch))
}

// fromLogsData is FromLogsData with Check's answers for the messages, as
// DecodeLogsData gives them (or none), built in b.
func (s *Source) fromLogsData(d *events.CloudwatchLogsData, checked jsonscan.Verdicts, b *Batch) []*activity.Activity {
	if d == nil || d.MessageType != dataMessage {
		return nil
	}
	return b.build(len(d.LogEvents), func(sc *scratch, i int) *activity.Activity {
		le := &d.LogEvents[i]
		b.origins[i] = activity.Origin{LogGroup: d.LogGroup, LogStream: d.LogStream, SubscriptionFilters: d.SubscriptionFilters, Owner: d.Owner, LogEventID: le.ID}
		return s.fromRecord(sc, readOnlyBytes(le.Message), true, checked.At(i), &b.origins[i], logTime(le.Timestamp))
	})
}

// FromRecords is FromRecord on each of records, with jsonscan.Check's
// answers for those that have no backslash (or none), the activities built
// in b (see Batch), each Detail a slice of its record: records must not
// change while the activities are read.
func (s *Source) FromRecords(records [][]byte, checked jsonscan.Verdicts, fallback time.Time, b *Batch) []*activity.Activity {
	return b.build(len(records), func(sc *scratch, i int) *activity.Activity {
		return s.fromRecord(sc, records[i], true, checked.At(i), nil, fallback)
	})
}

// Batch is the memory the activities of a subscription batch (or records)
// are built in: the unescaped log events, the activities, their strings. A
// Batch passed to FromPayload batch after batch is used again, not allocated
// anew, so each call overwrites the activities of the last: pass it only
// once nothing reads them any more (the Handler: once they are published).
// The zero Batch is ready; it is not for concurrent use.
type Batch struct {
	decoded jsonscan.Buffers
	blocks  []recordActivity
	acts    []*activity.Activity
	origins []activity.Origin
	chunks  [][]byte // of the arena: 0 to used are the current batch's
	used    int
}

// build makes room in b for n activities and builds them there, each in
// turn, i from 0.
func (b *Batch) build(n int, each func(sc *scratch, i int) *activity.Activity) []*activity.Activity {
	clear(b.blocks)
	if cap(b.acts) < n {
		b.blocks, b.acts, b.origins = make([]recordActivity, 0, n), make([]*activity.Activity, 0, n), make([]activity.Origin, n)
	}
	b.blocks, b.acts, b.origins, b.used = b.blocks[:0], b.acts[:0], b.origins[:n], 0
	sc := scratches.Get().(*scratch)
	defer putScratch(sc)
	sc.batch, sc.arena = b, nil
	defer func() { sc.batch, sc.arena = nil, nil }() // the batch's chunks are reused
	for i := range n {
		b.acts = append(b.acts, each(sc, i))
	}
	return b.acts
}

// chunk returns an empty arena chunk for a string of n bytes: the batch's
// next one (its first use allocates it) unless there is no batch or the
// string is larger.
func (b *Batch) chunk(n int) []byte {
	if b == nil || n > arenaChunk {
		return make([]byte, 0, max(arenaChunk, n))
	}
	if b.used == len(b.chunks) {
		b.chunks = append(b.chunks, make([]byte, 0, arenaChunk))
	}
	b.used++
	return b.chunks[b.used-1][:0]
}

// readOnlyBytes returns the bytes of s without copying them, for the
// activity's Detail to share with the decoded batch: a maximum batch holds a
// megabyte of messages, which a copy would hold twice at the peak. Nothing
// writes to a Detail (an append to it copies: its capacity is its length).
func readOnlyBytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// logTime is a log event's timestamp (milliseconds since the epoch), or the
// zero time when absent.
func logTime(ms int64) time.Time {
	if ms <= 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}
