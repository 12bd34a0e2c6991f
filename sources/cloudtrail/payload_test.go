package cloudtrail

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/internal/subscriptiontest"
)

// The Handler is what the Lambda main can pass to lambda.Start.
var _ lambda.Handler = (*Handler)(nil)

// samePayloadResult fails unless FromPayload and encoding/json followed by
// FromSubscription agree on the payload: both errors (ErrMalformedPayload or
// ErrPayloadTooLarge), or the same activities.
func samePayloadResult(t *testing.T, s *Source, payload []byte) {
	t.Helper()
	got, gotErr := s.FromPayload(payload)
	var want []*activity.Activity
	var ev events.CloudwatchLogsEvent
	wantErr := json.Unmarshal(payload, &ev)
	if wantErr == nil {
		want, wantErr = s.FromSubscription(ev)
	}
	if (gotErr == nil) != (wantErr == nil) {
		t.Fatalf("FromPayload error %v, encoding/json + FromSubscription error %v", gotErr, wantErr)
	}
	if gotErr != nil {
		if got != nil || !errors.Is(gotErr, ErrMalformedPayload) && !errors.Is(gotErr, ErrPayloadTooLarge) {
			t.Fatalf("error %v with %d activities", gotErr, len(got))
		}
		return
	}
	sameJSON(t, got, want)
}

func TestFromPayload(t *testing.T) {
	data := subscriptiontest.Encode(testBatch.JSON(compactRecord(t, "iamuser.json"), "garbage"))
	escaped := strings.ReplaceAll(data, "/", `\/`)
	tests := []struct {
		name    string
		payload string
		wantErr bool
	}{
		{"as Lambda delivers it", `{"awslogs":{"data":"` + data + `"}}`, false},
		{"whitespace and another member", "{ \"version\": 1,\n \"awslogs\" : { \"data\" : \"" + data + "\" } }", false},
		{"escaped slashes", `{"awslogs":{"data":"` + escaped + `"}}`, false},
		{"other spelling of awslogs", `{"AWSLogs":{"Data":"` + data + `"}}`, false},
		{"repeated awslogs, the last wins", `{"awslogs":{"data":"!!"},"awslogs":{"data":"` + data + `"}}`, false},
		{"two spellings of data", `{"awslogs":{"data":"!!","DATA":"` + data + `"}}`, false},
		{"control message", `{"awslogs":{"data":"` + subscriptiontest.Encode([]byte(`{"messageType":"CONTROL_MESSAGE","logEvents":[]}`)) + `"}}`, false},
		{"no awslogs", `{"other":{}}`, true},
		{"data not a string", `{"awslogs":{"data":5}}`, true},
		{"not base64", `{"awslogs":{"data":"!!"}}`, true},
		{"NaN elsewhere", `{"awslogs":{"data":"` + data + `"},"x":NaN}`, true},
		{"control byte in data", "{\"awslogs\":{\"data\":\"" + data[:10] + "\x01" + data[10:] + "\"}}", true},
		{"not JSON", `awslogs`, true},
		{"array", `[{"awslogs":{"data":"` + data + `"}}]`, true},
	}
	s := New(Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			samePayloadResult(t, s, []byte(tt.payload))
			if _, err := s.FromPayload([]byte(tt.payload)); (err != nil) != tt.wantErr {
				t.Fatalf("FromPayload error %v, want error %v", err, tt.wantErr)
			}
		})
	}
}

func TestHandlerInvoke(t *testing.T) {
	ev := subscriptiontest.Event(testBatch.JSON(compactRecord(t, "iamuser.json"), "garbage"))
	body, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	pub := &recordingPublisher{}
	var logs bytes.Buffer
	h := &Handler{Source: New(Options{}), Publisher: pub, Logger: slog.New(slog.NewJSONHandler(&logs, nil))}
	out, err := h.Invoke(context.Background(), body)
	if err != nil || string(out) != "null" {
		t.Fatalf("Invoke = %q, %v", out, err)
	}
	if len(pub.got) != 1 || len(pub.got[0]) != 2 || !strings.Contains(logs.String(), `"logEvents":2`) {
		t.Fatalf("published %v; log %s", pub.got, logs.String())
	}
	if _, err := h.Invoke(context.Background(), []byte(`{"awslogs":{"data":"!!"}}`)); !errors.Is(err, ErrMalformedPayload) {
		t.Fatalf("Invoke on a bad payload: %v, want ErrMalformedPayload", err)
	}
}

func FuzzFromPayload(f *testing.F) {
	data := subscriptiontest.Encode([]byte(`{"messageType":"DATA_MESSAGE","logGroup":"g","logEvents":[{"id":"1","timestamp":1,"message":"{\"eventName\":\"A\",\"userIdentity\":{\"type\":\"Root\"}}"}]}`))
	f.Add([]byte(`{"awslogs":{"data":"` + data + `"}}`))
	f.Add([]byte(`{"AwsLogs":{"data":"` + data + `"},"awslogs":{"data":""}}`))
	f.Add([]byte(`{"awslogs":{"data":"H4sIAAAAAAAA"}}`))
	s := New(Options{})
	f.Fuzz(func(t *testing.T, payload []byte) {
		samePayloadResult(t, s, payload)
	})
}
