package jsonscan

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	gojson "github.com/goccy/go-json"

	"github.com/activity-aware/ids/internal/sharedfixtures"
)

// logsSeeds are batches DecodeLogsData takes (the first ones) and batches it
// must leave to the full decoder.
var logsSeeds = []string{
	`{"messageType":"DATA_MESSAGE","owner":"o\u00e9\ud83d\ude00\u2028\"\\\/\b\f\n\r\té😀","logGroup":"aws-cloudtrail-logs","logStream":"123456789012_CloudTrail_us-east-1","subscriptionFilters":["aaids"],"logEvents":[{"id":"3803","timestamp":1700000000000,"message":"{\"eventName\":\"GetPolicy\",\"errorMessage\":\"User: \\u003cb\\u003e \\\"q\\\" \\\\ \\/ \\b\\f\\n\\r\\t é 😀 \\ud83d\\ude00 \\u00e9 \\u2028\"}"},{"id":"3804","timestamp":-5,"message":""}]}`,
	"{ \"messageType\" : \"CONTROL_MESSAGE\",\n\t\"logEvents\" : [ ] , \"subscriptionFilters\":[]}\r\n",
	`{"messageType":"DATA_MESSAGE","logEvents":[{"message":"x"},{"id":"2","message":"{\"a\":1}","timestamp":9223372036854775807},{"timestamp":-9223372036854775808},{"message":"{\"a\": [1,{\"b\":\"c d\"}],\"e\":01}"},{"message":"[\"x\",tru]"},{"message":" {\"a\":\"b\"} "}]}`,
	`{"logEvents":[{"message":"{\"a\u0022\":1}"},{"message":"{\"a\":{},\"b\":[\"\",\"\\u00e9\"]}"}]}`,
	`{}`,
	`{"logEvents":[{"message":"ab\"cdefgh\\ijklmnopqrs\u0041"}]}`,
	// Left to the full decoder: valid but another shape, or not valid.
	`{"messageType":"DATA_MESSAGE","MessageType":"X"}`, `{"messagetype":"DATA_MESSAGE"}`, `{"messageType":"A","messageType":"B"}`,
	`{"owner":null}`, `{"logEvents":null}`, `{"logEvents":[null]}`, `{"logEvents":[{"timestamp":1.5}]}`, `{"logEvents":[{"timestamp":1e3}]}`,
	`{"logEvents":[{"timestamp":9223372036854775808}]}`, `{"logEvents":[{"timestamp":-9223372036854775809}]}`, `{"logEvents":[{"timestamp":01}]}`,
	`{"logEvents":[{"timestamp":"1"}]}`, `{"logEvents":[{"id":"1","id":"2"}]}`, `{"extra":1}`, `{"owner":"\ud800"}`, `{"owner":"\udc00\ud800"}`,
	`{"owner":"\ud83d\u0041"}`, `{"owner":"\ud83dxude00"}`, "{\"owner\":\"\xff\"}", "{\"owner\":\"a\x01\"}", "{\"owner\":\"abcdefghij\x01klmnopqrstuvwxyz\",\"logGroup\":\"abcdefghijkl\"}", "{\"owner\":\"abcdefghij\x85klmnopqrstuvwxyz\",\"logGroup\":\"abcdefghijkl\"}", `{"owner":"\x"}`, `{"owner":"\u12G4"}`, `{"own\u0065r":"a"}`,
	`{"owner":"a"} x`, `{"owner":"a"`, `{"owner":"a`, `{"owner":"a",}`, `{"subscriptionFilters":["a",]}`, `[]`, `null`, ``,
}

// FuzzDecodeLogsData holds DecodeLogsData to encoding/json: when it takes a
// batch, encoding/json decodes it to the same value; when it does not, it
// leaves d zero. Each verdict it gives is Check's for the message, given
// only for a message without a backslash or control byte, and for every
// such message of a batch that writes each quote \" (one without \u).
// Decoding into Buffers that earlier inputs were decoded into gives the same.
func FuzzDecodeLogsData(f *testing.F) {
	for _, s := range logsSeeds {
		f.Add([]byte(s))
	}
	var reused Buffers
	f.Fuzz(func(t *testing.T, data []byte) {
		var got, want, again events.CloudwatchLogsData
		verdicts, ok := DecodeLogsData(data, &got, nil)
		if verdictsAgain, okAgain := DecodeLogsData(data, &again, &reused); okAgain != ok || !reflect.DeepEqual(again, got) || !slices.Equal(verdictsAgain, verdicts) {
			t.Fatalf("for %q, into reused buffers: %v %+v %v; fresh: %v %+v %v", data, okAgain, again, verdictsAgain, ok, got, verdicts)
		}
		if !ok {
			if !reflect.DeepEqual(got, events.CloudwatchLogsData{}) {
				t.Fatalf("declined %q but left %+v", data, got)
			}
			return
		}
		if err := json.Unmarshal(data, &want); err != nil {
			t.Fatalf("took %q, which encoding/json refuses: %v", data, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("for %q\n got %+v\nwant %+v", data, got, want)
		}
		if len(verdicts) != len(got.LogEvents) {
			t.Fatalf("%d verdicts for %d log events", len(verdicts), len(got.LogEvents))
		}
		for i, e := range got.LogEvents {
			checkVerdict(t, e.Message, verdicts[i], e.Message != "" && !bytes.Contains(data, []byte(`\u`)))
		}
	})
}

// checkVerdict fails unless v, when given, is Check's answer for message,
// and it is given only for a message without a backslash or control byte
// (and for such a message, when want is set: all its quotes were written \").
func checkVerdict(t *testing.T, message string, v Verdict, want bool) {
	t.Helper()
	plain := !strings.ContainsFunc(message, func(r rune) bool { return r < 0x20 || r == '\\' })
	valid, compact := Check([]byte(message))
	check := Verdict{Known: true, Valid: valid, Compact: compact}
	if v.Known && (v != check || !plain) || !v.Known && (v != Verdict{} || want && plain) {
		t.Fatalf("verdict for %q: %+v; Check: %+v, plain %v", message, v, check, plain)
	}
}

// TestDecodeLogsDataTakes makes sure the fast path runs for what CloudWatch
// Logs writes, and only for the shape it was written for.
func TestDecodeLogsDataTakes(t *testing.T) {
	for i, s := range logsSeeds {
		var d events.CloudwatchLogsData
		if _, got := DecodeLogsData([]byte(s), &d, nil); got != (i < 6) {
			t.Errorf("DecodeLogsData(%q) = %v, want %v", s, got, i < 6)
		}
	}
	var d events.CloudwatchLogsData
	rec := `{"eventName":"GetPolicy","errorMessage":"User: \u003cb\u003e \"q\" \\ \/ \b\f\n\r\t é 😀 \ud83d\ude00 \u00e9 \u2028"}`
	if _, ok := DecodeLogsData([]byte(logsSeeds[0]), &d, nil); !ok || d.Owner != "oé😀\u2028\"\\/\b\f\n\r\té😀" || len(d.LogEvents) != 2 || d.LogEvents[0].Message != rec ||
		d.LogEvents[1].Message != "" || d.LogEvents[1].Timestamp != -5 || d.SubscriptionFilters[0] != "aaids" {
		t.Errorf("decoded %+v", d)
	}
}

// BenchmarkDecodeLogsData decodes one batch of all the recorded CloudTrail
// records, as CloudWatch Logs writes it, against goccy/go-json, its fallback.
func BenchmarkDecodeLogsData(b *testing.B) {
	d := events.CloudwatchLogsData{MessageType: "DATA_MESSAGE", Owner: "123456789012", LogGroup: "aws-cloudtrail-logs", LogStream: "s", SubscriptionFilters: []string{"aaids"}}
	for i, m := range sharedfixtures.CloudTrailMessages(b) {
		d.LogEvents = append(d.LogEvents, events.CloudwatchLogsLogEvent{ID: strconv.Itoa(i), Timestamp: 1700000000000, Message: m})
	}
	data, err := json.Marshal(&d)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("jsonscan", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			var got events.CloudwatchLogsData
			if _, ok := DecodeLogsData(data, &got, nil); !ok || len(got.LogEvents) != len(d.LogEvents) {
				b.Fatal("declined")
			}
		}
	})
	b.Run("jsonscan-reused", func(b *testing.B) { // as the source Lambda decodes batch after batch
		b.SetBytes(int64(len(data)))
		var m Buffers
		for b.Loop() {
			var got events.CloudwatchLogsData
			if _, ok := DecodeLogsData(data, &got, &m); !ok || len(got.LogEvents) != len(d.LogEvents) {
				b.Fatal("declined")
			}
		}
	})
	b.Run("goccy", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			var got events.CloudwatchLogsData
			if err := gojson.Unmarshal(data, &got); err != nil {
				b.Fatal(err)
			}
		}
	})
}
