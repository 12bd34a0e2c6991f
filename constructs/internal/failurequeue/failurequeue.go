// Package failurequeue provides the queues that keep what a function or a
// rule could not deliver: encrypted, TLS-only, and kept for the longest
// retention SQS allows, so an operator has two weeks to look and redrive.
package failurequeue

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// RetentionDays is how long a failed event waits in the queue.
const RetentionDays = 14

// New defines a failure queue. keeps says what the queue keeps, for the
// cdk-nag reviewer, e.g. "asynchronous invocations of the source that failed
// every retry".
func New(scope constructs.Construct, id *string, keeps string) awssqs.Queue {
	// SQS-managed encryption: both AWS services that write here (Lambda
	// destinations, EventBridge DLQs) can use it without a key policy.
	q := awssqs.NewQueue(scope, id, &awssqs.QueueProps{
		Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:      jsii.Bool(true),
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(RetentionDays)),
	})
	cdknag.NagSuppressions_AddResourceSuppressions(q, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-SQS3"),
		Reason: jsii.String("This queue is itself the last stop: it keeps " + keeps +
			"; a dead-letter queue behind it would only move the same messages again."),
	}}, jsii.Bool(false))
	return q
}
