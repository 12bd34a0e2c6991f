package cloudtrail

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	gojson "github.com/goccy/go-json"
	"github.com/valyala/fastjson"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/internal/subscriptiontest"
)

// kinesisEvent is the Kinesis event of records whose data are datas, with
// sequence numbers "1", "2", ...
func kinesisEvent(datas ...[]byte) events.KinesisEvent {
	var ev events.KinesisEvent
	for i, d := range datas {
		ev.Records = append(ev.Records, events.KinesisEventRecord{
			EventSource:    "aws:kinesis",
			EventSourceArn: "arn:aws:kinesis:us-east-1:111122223333:stream/logs",
			Kinesis:        events.KinesisRecord{Data: d, SequenceNumber: strconv.Itoa(i + 1), PartitionKey: "pk"},
		})
	}
	return ev
}

func TestFromGzipMatchesFromSubscription(t *testing.T) {
	s := New(Options{})
	batch := testBatch.JSON(compactRecord(t, "iamuser.json"), "not a record", compactRecord(t, "assumedrole.json"))
	want, err := s.FromSubscription(subscriptiontest.Event(batch), nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.FromGzip(subscriptiontest.Gzip(batch), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) || len(got) != 3 {
		t.Fatalf("%d activities, want %d", len(got), len(want))
	}
	for i := range got {
		x, _ := activity.Marshal(got[i])
		y, _ := activity.Marshal(want[i])
		if !bytes.Equal(x, y) {
			t.Errorf("[%d] differs:\n%s\n%s", i, x, y)
		}
	}
	// The base64 text is not a gzip payload: no second decoder accepts it.
	if _, err := s.FromGzip([]byte(subscriptiontest.Encode(batch)), nil); !errors.Is(err, ErrMalformedPayload) {
		t.Errorf("base64 data: %v, want ErrMalformedPayload", err)
	}
}

func TestHandleKinesis(t *testing.T) {
	rec := compactRecord(t, "iamuser.json")
	one := subscriptiontest.Gzip(testBatch.JSON(rec))
	two := subscriptiontest.Gzip(testBatch.JSON(rec, "garbage"))
	control := subscriptiontest.Gzip([]byte(`{"messageType":"CONTROL_MESSAGE","logEvents":[{"id":"","timestamp":1,"message":"CWL CONTROL MESSAGE: Checking health of destination Kinesis stream."}]}`))
	corrupt := []byte("\x1f\x8b not really gzip")
	publishErr := errors.New("eventbus: 3 entries undelivered")
	runHandlerCases(t, []handlerCase{
		{"every record published", handleKinesis(kinesisEvent(one, two)), nil, nil, 3, nil, []string{`"logEvents":3`}},
		{"control message ignored", handleKinesis(kinesisEvent(control, one)), nil, nil, 1, nil, []string{`"logEvents":1`}},
		{"only control messages", handleKinesis(kinesisEvent(control)), nil, nil, 0, nil, []string{"no log events"}},
		{"corrupt record reported, records before it published", handleKinesis(kinesisEvent(one, corrupt, two)), nil, nil, 1, []string{"2"}, []string{`"sequenceNumber":"2"`}},
		{"corrupt first record publishes nothing", handleKinesis(kinesisEvent(corrupt, one)), nil, nil, 0, []string{"1"}, []string{"not decoded"}},
		{"bomb is a failure", handleKinesis(kinesisEvent(one, subscriptiontest.Gzip(bytes.Repeat([]byte(" "), maxInflated+1)))), nil, nil, 1, []string{"2"}, []string{"too large"}},
		{"failed publish reports the first record", handleKinesis(kinesisEvent(one, two)), publishErr, nil, 3, []string{"1"}, []string{"publish failed"}},
		{"empty event", handleKinesis(events.KinesisEvent{}), nil, nil, 0, nil, nil},
	})
}

// handleKinesis hands ev to HandleKinesis, which never fails as a whole.
func handleKinesis(ev events.KinesisEvent) func(context.Context, *Handler) ([]string, error) {
	return func(ctx context.Context, h *Handler) ([]string, error) {
		resp, err := h.HandleKinesis(ctx, ev)
		var failed []string
		for _, f := range resp.BatchItemFailures {
			failed = append(failed, f.ItemIdentifier)
		}
		return failed, err
	}
}

// TestInvokeKinesis goes through the bytes the Lambda runtime delivers: the
// record data base64 in the event JSON, the response the batch item
// failures.
func TestInvokeKinesis(t *testing.T) {
	rec := compactRecord(t, "iamuser.json")
	payload, err := json.Marshal(kinesisEvent(subscriptiontest.Gzip(testBatch.JSON(rec)), []byte("corrupt")))
	if err != nil {
		t.Fatal(err)
	}
	pub := &recordingPublisher{}
	h := &Handler{Source: New(Options{}), Publisher: pub, Logger: slog.New(slog.DiscardHandler)}
	out, err := h.Invoke(context.Background(), payload)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != `{"batchItemFailures":[{"itemIdentifier":"2"}]}` {
		t.Errorf("response %s", out)
	}
	if len(pub.got) != 1 || len(pub.got[0]) != 1 || pub.got[0][0].Action == nil {
		t.Errorf("published %v", pub.got)
	}
	// A subscription event still takes the subscription path.
	out, err = h.Invoke(context.Background(), subscriptiontest.Payload(testBatch.JSON(rec)))
	if err != nil || string(out) != "null" || len(pub.got) != 2 {
		t.Errorf("subscription event: %s, %v, %d batches", out, err, len(pub.got))
	}
}

func FuzzKinesisDecode(f *testing.F) {
	f.Add(subscriptiontest.Gzip([]byte(`{"messageType":"DATA_MESSAGE","logGroup":"g","logEvents":[{"id":"1","timestamp":1,"message":"{\"eventName\":\"A\",\"userIdentity\":{\"type\":\"Root\"}}"}]}`)))
	f.Add(subscriptiontest.Gzip([]byte(`{"messageType":"CONTROL_MESSAGE","logEvents":[]}`)))
	f.Add(subscriptiontest.Gzip([]byte(`{"messageType":"DATA_MESSAGE","logEvents":[{"message":"x"}]}`)))
	f.Add([]byte("\x1f\x8b\x08"))
	f.Add([]byte{})
	h := &Handler{Source: New(Options{}), Publisher: &recordingPublisher{}, Logger: slog.New(slog.DiscardHandler)}
	f.Fuzz(func(t *testing.T, data []byte) {
		acts, err := h.Source.FromGzip(data, nil)
		if err != nil && (acts != nil || (!errors.Is(err, ErrMalformedPayload) && !errors.Is(err, ErrPayloadTooLarge))) {
			t.Fatalf("error %v with %d activities", err, len(acts))
		}
		for _, a := range acts {
			if _, err := activity.NewEntry(a, 0); err != nil {
				t.Fatalf("NewEntry: %v", err)
			}
		}
		// The same data behind a good record: a decode error is reported on
		// this record alone, never an invocation error.
		good := subscriptiontest.Gzip([]byte(`{"messageType":"DATA_MESSAGE","logEvents":[{"id":"1","message":"x"}]}`))
		resp, herr := h.HandleKinesis(context.Background(), kinesisEvent(good, data))
		if herr != nil {
			t.Fatal(herr)
		}
		if (err != nil) != (len(resp.BatchItemFailures) == 1 && resp.BatchItemFailures[0].ItemIdentifier == "2") {
			t.Fatalf("decode error %v but failures %+v", err, resp.BatchItemFailures)
		}
	})
}

// FuzzKinesisEnvelope holds invokeKinesis's decoding of the runtime's
// payload, goccy/go-json, to encoding/json (what lambda.Start would use):
// the same error or none, the same event. Payloads that give one member
// twice are left out: the Lambda service writes none, and there the two
// differ (a repeated "data": null leaves goccy's earlier value, encoding/json
// empties it).
func FuzzKinesisEnvelope(f *testing.F) {
	payload, err := json.Marshal(kinesisEvent(subscriptiontest.Gzip(testBatch.JSON("x")), []byte("corrupt"), nil))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(payload)
	for _, seed := range []string{
		`{"Records":[{"eventSource":"aws:kinesis","kinesis":{"data":"H4sI\nAAAA","approximateArrivalTimestamp":1.7e9,"sequenceNumber":"1"}}]}`,
		`{"Records":[{"eventSource":"aws:kinesis","kinesis":{"data":"H4sI\r\nAAAA","approximateArrivalTimestamp":"1"}}]}`,
		`{"records":[{"EVENTSOURCE":"aws:kinesis","Kinesis":{"Data":"eA==","ApproximateArrivalTimestamp":null}}],"x":[1,{}]}`,
		`{"Records":[{"eventSource":"aws:kinesis","kinesis":{"data":"eA","kinesisSchemaVersion":1}}]}`,
		`{"Records":[{"eventSource":"aws:kinesis","kinesis":{"data":"e=A="}}]}`,
		`{"Records":[{"eventSource":"aws:kinesis","kinesis":{"data":null,"approximateArrivalTimestamp":-1.5e300}}]}`,
		`{"Records":null}`, `{"Records":{}}`, `[]`, `null`, `{"Records":[{"eventSource":"aws:k\u0069nesis"}]}`,
		"{\"Records\":[{\"eventSource\":\"aws:kinesis\xff\"}]}",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		if repeatsMember(payload) {
			return
		}
		var got, want events.KinesisEvent
		gerr, werr := gojson.Unmarshal(payload, &got), json.Unmarshal(payload, &want)
		if (gerr == nil) != (werr == nil) {
			t.Fatalf("%q: goccy error %v, encoding/json error %v", payload, gerr, werr)
		}
		if werr == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: goccy %+v, encoding/json %+v", payload, got, want)
		}
	})
}

// repeatsMember reports whether a JSON object in doc gives two members whose
// names encoding/json matches to the same field (equal without regard to
// case).
func repeatsMember(doc []byte) bool {
	v, err := fastjson.ParseBytes(doc)
	if err != nil {
		return false
	}
	var repeats func(v *fastjson.Value) bool
	repeats = func(v *fastjson.Value) bool {
		found := false
		switch v.Type() {
		case fastjson.TypeObject:
			seen := map[string]bool{}
			v.GetObject().Visit(func(k []byte, m *fastjson.Value) {
				name := strings.ToLower(strings.ToUpper(string(k))) // as Unicode folds: ſ is s
				found = found || seen[name] || repeats(m)
				seen[name] = true
			})
		case fastjson.TypeArray:
			for _, e := range v.GetArray() {
				found = found || repeats(e)
			}
		}
		return found
	}
	return repeats(v)
}
