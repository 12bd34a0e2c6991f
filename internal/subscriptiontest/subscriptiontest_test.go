package subscriptiontest

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// TestPayloadDecodesAsLambdaDoes checks a payload parses back, through
// aws-lambda-go's own decoder, into the batch it was built from.
func TestPayloadDecodesAsLambdaDoes(t *testing.T) {
	b := Batch{LogGroup: "g", Filters: []string{"f"}}
	want := b.Data("one", `{"eventName":"two"}`)
	var ev events.CloudwatchLogsEvent
	if err := json.Unmarshal(Payload(b.JSON("one", `{"eventName":"two"}`)), &ev); err != nil {
		t.Fatal(err)
	}
	got, err := ev.AWSLogs.Parse()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("decoded %+v, want %+v", got, want)
	}
	if got.Owner != DefaultOwner || got.LogEvents[1].Timestamp != DefaultStart.UnixMilli()+1 || got.LogEvents[0].ID == got.LogEvents[1].ID {
		t.Errorf("defaults or ids wrong: %+v", got)
	}
}

func TestUniqueIDsAcrossBatches(t *testing.T) {
	a, b := Batch{UniqueIDs: true}.Data("x"), Batch{UniqueIDs: true}.Data("x")
	if a.LogEvents[0].ID == b.LogEvents[0].ID {
		t.Errorf("two batches share log event id %s", a.LogEvents[0].ID)
	}
	if c, d := (Batch{}).Data("x"), (Batch{}).Data("x"); !reflect.DeepEqual(c, d) {
		t.Errorf("the same messages gave different batches")
	}
}

func TestPack(t *testing.T) {
	m := strings.Repeat("m", 100-EventOverhead) // 100 bytes with its overhead
	tests := []struct {
		name     string
		messages []string
		maxBytes int
		want     []int // sizes of the batches
	}{
		{"fits", []string{m, m, m}, 300, []int{3}},
		{"one byte over", []string{m, m, m}, 299, []int{2, 1}},
		{"oversized message alone", []string{m, strings.Repeat("x", 500), m}, 200, []int{1, 1, 1}},
		{"event count", make([]string, MaxEvents+1), 0, []int{MaxEvents, 1}},
		{"nothing", nil, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []int
			for _, b := range Pack(tt.messages, tt.maxBytes) {
				got = append(got, len(b))
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("batch sizes %v, want %v", got, tt.want)
			}
		})
	}
}
