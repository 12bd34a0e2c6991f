package localsqs

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// TestThroughTheSDK drives the server with the real sqs client, whose
// middleware checks the body digests.
func TestThroughTheSDK(t *testing.T) {
	s := New("parked")
	defer s.Close()
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	s.Now = func() time.Time { return now }
	c := sqs.NewFromConfig(s.AWSConfig())
	ctx := context.Background()

	url, err := c.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("parked")})
	if err != nil || *url.QueueUrl != s.QueueURL("parked") {
		t.Fatalf("GetQueueUrl = %v, %v", url, err)
	}
	q := url.QueueUrl
	if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: q, MessageBody: aws.String(`{"a":1}`),
		MessageAttributes: map[string]types.MessageAttributeValue{"ERROR_CODE": {DataType: aws.String("String"), StringValue: aws.String("SDK_CLIENT_ERROR")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Send(*q, `{"b":2}`, nil); err != nil {
		t.Fatal(err)
	}
	visible := func() string {
		t.Helper()
		out, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: q, AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameApproximateNumberOfMessages}})
		if err != nil {
			t.Fatal(err)
		}
		return out.Attributes["ApproximateNumberOfMessages"]
	}
	if v := visible(); v != "2" {
		t.Fatalf("visible = %s, want 2", v)
	}

	got, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q, MaxNumberOfMessages: 10, VisibilityTimeout: 60,
		MessageAttributeNames: []string{"All"}, MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Messages) != 2 || *got.Messages[0].MessageAttributes["ERROR_CODE"].StringValue != "SDK_CLIENT_ERROR" || got.Messages[1].Attributes["ApproximateReceiveCount"] != "1" {
		t.Fatalf("received %+v", got.Messages)
	}
	if v := visible(); v != "0" {
		t.Fatalf("visible while in flight = %s, want 0", v)
	}
	again, _ := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q, MaxNumberOfMessages: 10})
	if len(again.Messages) != 0 {
		t.Fatalf("in-flight messages received again: %d", len(again.Messages))
	}

	// Delete one; release the other at once.
	if _, err := c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: q, ReceiptHandle: got.Messages[0].ReceiptHandle}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: q, ReceiptHandle: got.Messages[0].ReceiptHandle}); err == nil {
		t.Fatal("a stale receipt handle deleted again")
	}
	if _, err := c.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: q, ReceiptHandle: got.Messages[1].ReceiptHandle, VisibilityTimeout: 0}); err != nil {
		t.Fatal(err)
	}
	if v := visible(); v != "1" {
		t.Fatalf("visible after release = %s, want 1", v)
	}
	// A receive after the timeout makes the old handle stale.
	r2, _ := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q, VisibilityTimeout: 1})
	now = now.Add(2 * time.Second)
	r3, _ := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q})
	if len(r2.Messages) != 1 || len(r3.Messages) != 1 || r3.Messages[0].Attributes != nil {
		t.Fatalf("receives after the timeout: %+v, %+v", r2.Messages, r3.Messages)
	}
	if _, err := c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: q, ReceiptHandle: r2.Messages[0].ReceiptHandle}); err == nil {
		t.Fatal("the handle of an earlier receive deleted the message")
	}
	if s.Deleted() != 1 || len(s.Messages(*q)) != 1 || s.Messages(*q)[0].Receives != 3 {
		t.Fatalf("deleted %d, left %+v", s.Deleted(), s.Messages(*q))
	}

	var nq *types.QueueDoesNotExist
	if _, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(s.URL() + "/" + Account + "/nope")}); !errors.As(err, &nq) {
		t.Fatalf("unknown queue: %v, want QueueDoesNotExist", err)
	}
}
