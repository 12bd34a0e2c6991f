package cloudtrail

import (
	"bytes"
	"context"
	"fmt"

	"github.com/aws/aws-lambda-go/events"
	gojson "github.com/goccy/go-json"

	"github.com/activity-aware/ids/activity"
)

// kinesisMarker is in every Kinesis event the Lambda service sends (each
// record's eventSource) and never in a subscription event, whose only text
// is base64.
var kinesisMarker = []byte(`"aws:kinesis"`)

// HandleKinesis standardizes a batch of Kinesis records, each the gzipped
// subscription payload CloudWatch Logs writes to a stream through a logs
// destination (a CONTROL_MESSAGE yields nothing), and publishes the
// activities of every record before the first one that cannot be decoded.
//
// That record is reported as the batch's one failure: the event source
// mapping checkpoints before it and sends it and the records after it again
// (bisecting with BisectBatchOnFunctionError) until it stands alone and,
// after MaximumRetryAttempts, goes to the on-failure destination; the
// records after it are published only then, once. A publish that fails as a
// whole reports the batch's first record, so nothing of it is checkpointed
// (a partly published batch parks its undelivered log events as Handle
// does, and succeeds). Only an event that is not a Kinesis event is an
// error.
func (h *Handler) HandleKinesis(ctx context.Context, ev events.KinesisEvent) (events.KinesisEventResponse, error) {
	var resp events.KinesisEventResponse
	if len(ev.Records) == 0 {
		return resp, nil
	}
	var acts []*activity.Activity
	for _, r := range ev.Records {
		b := batches.Get().(*Batch)
		defer release(b) // once its activities are published
		got, err := h.Source.FromGzip(r.Kinesis.Data, b)
		if err != nil {
			h.logger().ErrorContext(ctx, "cloudtrail source: kinesis record not decoded",
				"sequenceNumber", r.Kinesis.SequenceNumber, "partitionKey", activity.Truncate(r.Kinesis.PartitionKey, 256),
				"eventSourceARN", r.EventSourceArn, "error", err.Error())
			resp.BatchItemFailures = []events.KinesisBatchItemFailure{{ItemIdentifier: r.Kinesis.SequenceNumber}}
			break
		}
		acts = append(acts, got...)
	}
	if err := h.publish(ctx, acts, nil); err != nil {
		resp.BatchItemFailures = []events.KinesisBatchItemFailure{{ItemIdentifier: ev.Records[0].Kinesis.SequenceNumber}}
	}
	return resp, nil
}

// invokeKinesis is Invoke on a payload that may be a Kinesis event: ok is
// false when it is not one, and Invoke reads it as a subscription event.
func (h *Handler) invokeKinesis(ctx context.Context, payload []byte) (out []byte, ok bool, err error) {
	if !bytes.Contains(payload, kinesisMarker) {
		return nil, false, nil
	}
	var ev events.KinesisEvent // goccy/go-json: FuzzKinesisEnvelope holds it to encoding/json
	if err := gojson.Unmarshal(payload, &ev); err != nil || len(ev.Records) == 0 || ev.Records[0].EventSource != "aws:kinesis" {
		return nil, false, nil
	}
	resp, err := h.HandleKinesis(ctx, ev)
	if err == nil {
		if out, err = gojson.Marshal(resp); err != nil {
			err = fmt.Errorf("cloudtrail: kinesis response: %w", err)
		}
	}
	return out, true, err
}
