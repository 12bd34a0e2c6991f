package cloudtrail

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/eventbus"
)

// FailureQueue keeps the log events of a batch that could not be published
// while the rest of the batch was: the Handler parks them there and
// succeeds, so Lambda does not retry the batch and re-send what the bus
// accepted. SQSFailureQueue implements it.
type FailureQueue interface {
	Park(ctx context.Context, body []byte) error
}

// SQSFailureQueue parks messages in an SQS queue: the function's on-failure
// queue, whose alarm and `aaids redrive` already serve it.
type SQSFailureQueue struct {
	Client *sqs.Client
	URL    string
}

var _ FailureQueue = (*SQSFailureQueue)(nil)

// Park sends body as one message.
func (q *SQSFailureQueue) Park(ctx context.Context, body []byte) error {
	if _, err := q.Client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(q.URL), MessageBody: aws.String(string(body))}); err != nil {
		return fmt.Errorf("cloudtrail: park undelivered log events: %w", err)
	}
	return nil
}

// parkedRecord is the document Lambda itself writes to an on-failure
// destination, so that the queue's readers (`aaids redrive`, which invokes
// the function again with requestPayload) need no second format.
type parkedRecord struct {
	RequestContext struct {
		RequestID              string `json:"requestId,omitempty"`
		FunctionARN            string `json:"functionArn,omitempty"`
		Condition              string `json:"condition"`
		ApproximateInvokeCount int    `json:"approximateInvokeCount"`
	} `json:"requestContext"`
	RequestPayload  events.CloudwatchLogsEvent `json:"requestPayload"`
	ResponseContext struct {
		FunctionError string `json:"functionError"`
	} `json:"responseContext"`
	ResponsePayload struct {
		ErrorMessage string `json:"errorMessage"`
	} `json:"responsePayload"`
}

// parkedCondition names why the records were parked, in the place Lambda
// names its own conditions (RetriesExhausted, EventAgeExceeded).
const parkedCondition = "PublishFailed"

// parkBody is the on-failure record of the activities in failed: its
// requestPayload is a CloudWatch Logs subscription event holding their log
// events only, each with the original record, so a redrive re-publishes
// exactly them.
func parkBody(ctx context.Context, acts []*activity.Activity, ue *eventbus.UndeliveredError) ([]byte, int, error) {
	why := map[string]string{}
	for _, f := range ue.Failures {
		why[f.ID] = f.Code
	}
	var data events.CloudwatchLogsData
	var codes []string
	for _, a := range acts {
		code, failed := why[a.ID]
		if !failed || a.Origin == nil {
			continue
		}
		if data.LogGroup == "" {
			data = events.CloudwatchLogsData{Owner: a.Origin.Owner, LogGroup: a.Origin.LogGroup, LogStream: a.Origin.LogStream,
				SubscriptionFilters: a.Origin.SubscriptionFilters, MessageType: "DATA_MESSAGE"}
		}
		data.LogEvents = append(data.LogEvents, events.CloudwatchLogsLogEvent{ID: a.Origin.LogEventID, Timestamp: a.Time.UnixMilli(), Message: string(a.Detail)})
		codes = append(codes, activity.Truncate(a.ID, 80)+" ("+code+")")
	}
	if len(data.LogEvents) == 0 {
		return nil, 0, nil
	}
	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	if err := errors.Join(json.NewEncoder(zw).Encode(data), zw.Close()); err != nil {
		return nil, 0, fmt.Errorf("cloudtrail: park: %w", err)
	}
	var rec parkedRecord
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		rec.RequestContext.RequestID, rec.RequestContext.FunctionARN = lc.AwsRequestID, lc.InvokedFunctionArn
	}
	rec.RequestContext.Condition = parkedCondition
	rec.RequestContext.ApproximateInvokeCount = 1
	rec.RequestPayload.AWSLogs.Data = base64.StdEncoding.EncodeToString(zipped.Bytes())
	rec.ResponseContext.FunctionError = "Unhandled"
	rec.ResponsePayload.ErrorMessage = "undelivered: " + strings.Join(codes, ", ")
	body, err := json.Marshal(rec)
	if err != nil {
		return nil, 0, fmt.Errorf("cloudtrail: park: %w", err)
	}
	return body, len(data.LogEvents), nil
}
