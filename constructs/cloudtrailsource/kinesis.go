package cloudtrailsource

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskinesis"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdaeventsources"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/activity-aware/ids/constructs/internal/failurequeue"
)

// Defaults of KinesisProps (docs/SCALING.md sizes them for an organization).
const (
	// DefaultShardCount: one shard takes 1 MB/s or 1,000 records/s in; a
	// logs destination record is a gzipped batch of many log events.
	DefaultShardCount = 1
	// DefaultBatchSize records (each a gzipped subscription batch) per
	// invocation; Lambda also caps a batch at 6 MB.
	DefaultBatchSize = 100
	// DefaultParallelizationFactor concurrent batches per shard (1–10):
	// concurrency is shards × this factor.
	DefaultParallelizationFactor = 2
	// DefaultStreamRetryAttempts of a failing batch (bisected on each
	// failure; a split does not count) before its records' positions go to
	// the on-failure queue.
	DefaultStreamRetryAttempts = 3
	// DefaultStreamRetentionDays keeps the records a week: the on-failure
	// queue holds a failed batch's shard and sequence numbers only, so the
	// records must still be in the stream when an operator reads them.
	DefaultStreamRetentionDays = 7
)

// KinesisProps configures the organization's CloudTrail logs path: a
// Kinesis data stream encrypted with the aws/kinesis KMS key behind a CloudWatch Logs destination
// that member accounts subscribe their CloudTrail log groups to (CloudWatch
// Logs sends across accounts only to Kinesis or Firehose), read by the
// source through an event source mapping.
type KinesisProps struct {
	// OrganizationID (o-...) whose accounts may subscribe to the
	// destination. Default: only this stack's account.
	OrganizationID *string
	// ShardCount of the stream. Default DefaultShardCount.
	ShardCount *float64
	// BatchSize of the event source mapping. Default DefaultBatchSize.
	BatchSize *float64
	// ParallelizationFactor of the mapping (1–10). Default
	// DefaultParallelizationFactor.
	ParallelizationFactor *float64
	// RetryAttempts of a failing batch. Default DefaultStreamRetryAttempts.
	RetryAttempts *float64
	// Retention of the stream's records. Default 7 days.
	Retention awscdk.Duration
}

// kinesisLogs are the parts the Kinesis path adds.
type kinesisLogs struct {
	stream      awskinesis.IStream
	destination awslogs.CfnDestination
	queue       awssqs.IQueue
}

// addKinesis defines the stream, its key, the logs destination with its
// role and policy, and the mapping to fn with its on-failure queue.
func addKinesis(c constructs.Construct, fn awslambda.IFunction, p *KinesisProps) *kinesisLogs {
	k := *p
	if k.ShardCount == nil {
		k.ShardCount = jsii.Number(DefaultShardCount)
	}
	if k.BatchSize == nil {
		k.BatchSize = jsii.Number(DefaultBatchSize)
	}
	if k.ParallelizationFactor == nil {
		k.ParallelizationFactor = jsii.Number(DefaultParallelizationFactor)
	}
	if k.RetryAttempts == nil {
		k.RetryAttempts = jsii.Number(DefaultStreamRetryAttempts)
	}
	if k.Retention == nil {
		k.Retention = awscdk.Duration_Days(jsii.Number(DefaultStreamRetentionDays))
	}
	stack := awscdk.Stack_Of(c)
	// The aws/kinesis KMS key: the writer (the role below) and the reader
	// (the function) are this account's, so a customer managed key would
	// add KMS charges per data key and no boundary (cdk-nag KDS3).
	stream := awskinesis.NewStream(c, jsii.String("LogsStream"), &awskinesis.StreamProps{
		Encryption:      awskinesis.StreamEncryption_MANAGED,
		ShardCount:      k.ShardCount,
		StreamMode:      awskinesis.StreamMode_PROVISIONED,
		RetentionPeriod: k.Retention,
	})

	// CloudWatch Logs assumes the role in this account to put the records
	// of every subscribed account's log groups; it can write to this one
	// stream and nothing else. Who may subscribe is the destination
	// policy's to say.
	role := awsiam.NewRole(c, jsii.String("LogsDestinationRole"), &awsiam.RoleProps{
		Description: jsii.String("CloudWatch Logs puts subscribed CloudTrail records into the IDS stream"),
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("logs.amazonaws.com"), &awsiam.ServicePrincipalOpts{
			Conditions: &map[string]any{"StringLike": map[string]any{
				"aws:SourceArn": stack.FormatArn(&awscdk.ArnComponents{Service: jsii.String("logs"), Account: jsii.String("*"), Resource: jsii.String("*")}),
			}},
		}),
	})
	stream.GrantWrite(role)

	name := jsii.String(*stack.StackName() + "-cloudtrail")
	arn := stack.FormatArn(&awscdk.ArnComponents{Service: jsii.String("logs"), Resource: jsii.String("destination"),
		ResourceName: name, ArnFormat: awscdk.ArnFormat_COLON_RESOURCE_NAME})
	statement := map[string]any{
		"Effect":    "Allow",
		"Principal": map[string]any{"AWS": stack.Account()},
		"Action":    "logs:PutSubscriptionFilter",
		"Resource":  arn,
	}
	if k.OrganizationID != nil && *k.OrganizationID != "" {
		statement["Principal"] = "*"
		statement["Condition"] = map[string]any{"StringEquals": map[string]any{"aws:PrincipalOrgID": k.OrganizationID}}
	}
	policy := stack.ToJsonString(map[string]any{"Version": "2012-10-17", "Statement": []any{statement}}, nil)
	dest := awslogs.NewCfnDestination(c, jsii.String("LogsDestination"), &awslogs.CfnDestinationProps{
		DestinationName:   name,
		RoleArn:           role.RoleArn(),
		TargetArn:         stream.StreamArn(),
		DestinationPolicy: policy,
	})
	// CloudWatch Logs checks at creation that it can assume the role and put.
	dest.Node().AddDependency(role)

	queue := failurequeue.New(c, jsii.String("StreamFailureQueue"),
		"the shard and sequence numbers of the stream's batches that failed every retry (the records stay in the stream for its retention)")
	fn.AddEventSource(awslambdaeventsources.NewKinesisEventSource(stream, &awslambdaeventsources.KinesisEventSourceProps{
		StartingPosition:        awslambda.StartingPosition_TRIM_HORIZON,
		BatchSize:               k.BatchSize,
		BisectBatchOnError:      jsii.Bool(true),
		ReportBatchItemFailures: jsii.Bool(true),
		RetryAttempts:           k.RetryAttempts,
		ParallelizationFactor:   k.ParallelizationFactor,
		OnFailure:               awslambdaeventsources.NewSqsDlq(queue),
	}))
	return &kinesisLogs{stream: stream, destination: dest, queue: queue}
}
