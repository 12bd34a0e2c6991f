package cloudtrail

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/activity-aware/ids/internal/localsqs"
	"github.com/activity-aware/ids/internal/subscriptiontest"
)

// TestHandlerParksPoisonRecords: one record of a batch is refused by the bus
// for good. The other records are published once, the refused one is parked
// alone in the failure queue (in Lambda's on-failure format, its original
// record in a subscription event, so aaids redrive re-publishes exactly it),
// and the invocation succeeds, so Lambda does not send the batch again.
// Before, the batch failed, Lambda retried it twice and every good record
// was posted up to three times.
func TestHandlerParksPoisonRecords(t *testing.T) {
	srv, pub := localBus(t)
	q := localsqs.New("failures")
	t.Cleanup(q.Close)
	url := q.QueueURL("failures")
	h := &Handler{Source: New(Options{}), Publisher: pub, Logger: slog.New(slog.DiscardHandler),
		Failures: &SQSFailureQueue{Client: sqs.NewFromConfig(q.AWSConfig()), URL: url}}

	r1 := compactRecord(t, "iamuser.json")
	r2 := strings.Replace(r1, `"eventID":"`, `"eventID":"poison-`, 1)
	r3 := strings.Replace(r1, `"eventID":"`, `"eventID":"third-`, 1)
	body, err := json.Marshal(subscriptiontest.Event(testBatch.JSON(r1, r2, r3)))
	if err != nil {
		t.Fatal(err)
	}
	srv.FailDetailContaining("MalformedDetail", 100, "poison-")

	if _, err := h.Invoke(context.Background(), body); err != nil {
		t.Fatalf("Invoke = %v, want success with the poison record parked", err)
	}
	if got := len(srv.Accepted()); got != 2 {
		t.Fatalf("%d activities on the bus, want the 2 good ones", got)
	}
	msgs := q.Messages(url)
	if len(msgs) != 1 {
		t.Fatalf("%d parked messages, want 1", len(msgs))
	}
	var rec struct {
		RequestContext struct {
			Condition string `json:"condition"`
		} `json:"requestContext"`
		RequestPayload  events.CloudwatchLogsEvent `json:"requestPayload"`
		ResponsePayload struct {
			ErrorMessage string `json:"errorMessage"`
		} `json:"responsePayload"`
	}
	if err := json.Unmarshal([]byte(msgs[0].Body), &rec); err != nil {
		t.Fatal(err)
	}
	data := decodeLogs(t, rec.RequestPayload.AWSLogs.Data)
	if rec.RequestContext.Condition != parkedCondition || len(data.LogEvents) != 1 || !strings.Contains(data.LogEvents[0].Message, `"eventID":"poison-`) ||
		!strings.Contains(rec.ResponsePayload.ErrorMessage, "MalformedDetail") {
		t.Fatalf("parked %s, want the poison record alone with its error code", msgs[0].Body)
	}
	// The parked payload is a batch the function reads again as it did.
	acts, err := New(Options{}).FromSubscription(rec.RequestPayload, nil)
	if err != nil || len(acts) != 1 || !strings.HasPrefix(acts[0].ID, "poison-") {
		t.Fatalf("parked payload reads as %d activities, %v", len(acts), err)
	}

	// When nothing was published, the batch is retried whole (nothing is
	// sent twice) and nothing is parked.
	srv.FailDetailContaining("AccessDeniedException", 100, "")
	if _, err := h.Invoke(context.Background(), body); err == nil {
		t.Fatal("Invoke succeeded with nothing published")
	}
	if len(q.Messages(url)) != 1 {
		t.Fatal("a batch of which nothing was published was parked")
	}
}

func decodeLogs(t *testing.T, b64 string) events.CloudwatchLogsData {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	var d events.CloudwatchLogsData
	if err := json.Unmarshal(plain, &d); err != nil {
		t.Fatal(err)
	}
	return d
}
