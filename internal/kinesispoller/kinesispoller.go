// Package kinesispoller feeds the records of a Kinesis data stream to a
// function the way a Lambda event source mapping does, for tests against
// kinesalite and the runtime emulator: it reads every shard from
// TRIM_HORIZON with GetShardIterator and GetRecords, invokes the function
// with an events.KinesisEvent of up to BatchSize records, and on a failure
// checkpoints before the lowest sequence number the function reported in
// its batch item failures (or the batch's first record when it failed
// outright or reported an unknown one), bisects what is left with Bisect,
// and retries a batch that cannot be split MaxRetryAttempts times before
// it hands its shard and sequence numbers to OnFailure (what the mapping
// writes to its on-failure destination). A split does not count as a
// retry, as in Lambda.
package kinesispoller

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// API is the part of *kinesis.Client the poller uses.
type API interface {
	ListShards(ctx context.Context, in *kinesis.ListShardsInput, optFns ...func(*kinesis.Options)) (*kinesis.ListShardsOutput, error)
	GetShardIterator(ctx context.Context, in *kinesis.GetShardIteratorInput, optFns ...func(*kinesis.Options)) (*kinesis.GetShardIteratorOutput, error)
	GetRecords(ctx context.Context, in *kinesis.GetRecordsInput, optFns ...func(*kinesis.Options)) (*kinesis.GetRecordsOutput, error)
}

var _ API = (*kinesis.Client)(nil)

// BatchInfo is what the on-failure destination receives about a batch that
// failed every retry (Lambda's KinesisBatchInfo): where its records are,
// not the records.
type BatchInfo struct {
	ShardID             string `json:"shardId"`
	StartSequenceNumber string `json:"startSequenceNumber"`
	EndSequenceNumber   string `json:"endSequenceNumber"`
	BatchSize           int    `json:"batchSize"`
	StreamARN           string `json:"streamArn"`
}

// Poller is one event source mapping.
type Poller struct {
	Client     API
	StreamName string
	// StreamARN is the records' eventSourceARN.
	StreamARN string
	// BatchSize, MaxRetryAttempts and Bisect are the mapping's BatchSize,
	// MaximumRetryAttempts and BisectBatchOnFunctionError.
	BatchSize        int
	MaxRetryAttempts int
	Bisect           bool
	// Invoke invokes the function with payload: its response payload, and
	// failed when the invocation failed (an error or a timeout). err is
	// the harness's own failure and stops the poller.
	Invoke func(ctx context.Context, payload []byte) (response []byte, failed bool, err error)
	// OnFailure receives the batches that failed every retry.
	OnFailure func(ctx context.Context, info BatchInfo) error

	// Invocations counts the invocations so far.
	Invocations int
}

// Drain feeds every record in the stream now, shard by shard, and returns
// the number of records read.
func (p *Poller) Drain(ctx context.Context) (int, error) {
	shards, err := p.Client.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String(p.StreamName)})
	if err != nil {
		return 0, fmt.Errorf("kinesispoller: list shards: %w", err)
	}
	total := 0
	for _, sh := range shards.Shards {
		it, err := p.Client.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String(p.StreamName),
			ShardId: sh.ShardId, ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
		if err != nil {
			return total, fmt.Errorf("kinesispoller: shard iterator: %w", err)
		}
		iter := it.ShardIterator
		for iter != nil {
			out, err := p.Client.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iter, Limit: aws.Int32(int32(p.BatchSize))})
			if err != nil {
				return total, fmt.Errorf("kinesispoller: get records: %w", err)
			}
			if len(out.Records) == 0 {
				break // caught up: the stream holds no more for now
			}
			total += len(out.Records)
			if err := p.process(ctx, aws.ToString(sh.ShardId), out.Records); err != nil {
				return total, err
			}
			iter = out.NextShardIterator
		}
	}
	return total, nil
}

// process delivers one batch until every record is checkpointed or parked.
func (p *Poller) process(ctx context.Context, shard string, recs []types.Record) error {
	retries := 0
	for len(recs) > 0 {
		payload, err := p.event(shard, recs)
		if err != nil {
			return err
		}
		p.Invocations++
		resp, failed, err := p.Invoke(ctx, payload)
		if err != nil {
			return fmt.Errorf("kinesispoller: invoke: %w", err)
		}
		from := checkpoint(recs, resp, failed)
		if from < 0 {
			return nil
		}
		recs = recs[from:]
		if p.Bisect && len(recs) > 1 {
			half := len(recs) / 2
			if err := p.process(ctx, shard, recs[:half]); err != nil {
				return err
			}
			return p.process(ctx, shard, recs[half:])
		}
		retries++
		if retries > p.MaxRetryAttempts {
			return p.OnFailure(ctx, BatchInfo{ShardID: shard, StartSequenceNumber: aws.ToString(recs[0].SequenceNumber),
				EndSequenceNumber: aws.ToString(recs[len(recs)-1].SequenceNumber), BatchSize: len(recs), StreamARN: p.StreamARN})
		}
	}
	return nil
}

// checkpoint returns the index of the first record to deliver again, or -1
// when the batch succeeded.
func checkpoint(recs []types.Record, resp []byte, failed bool) int {
	if failed {
		return 0
	}
	var r events.KinesisEventResponse
	if len(resp) == 0 || string(resp) == "null" {
		return -1
	}
	if err := json.Unmarshal(resp, &r); err != nil {
		return -1 // any other answer is a success to Lambda
	}
	if len(r.BatchItemFailures) == 0 {
		return -1
	}
	from := len(recs)
	for _, f := range r.BatchItemFailures {
		found := false
		for i, rec := range recs {
			if aws.ToString(rec.SequenceNumber) == f.ItemIdentifier {
				from, found = min(from, i), true
			}
		}
		if !found { // an empty or unknown identifier fails the whole batch
			return 0
		}
	}
	return from
}

// event is the invocation payload of recs, as the mapping sends it.
func (p *Poller) event(shard string, recs []types.Record) ([]byte, error) {
	var ev events.KinesisEvent
	for _, r := range recs {
		var at time.Time
		if r.ApproximateArrivalTimestamp != nil {
			at = *r.ApproximateArrivalTimestamp
		}
		ev.Records = append(ev.Records, events.KinesisEventRecord{
			AwsRegion:      "us-east-1",
			EventID:        shard + ":" + aws.ToString(r.SequenceNumber),
			EventName:      "aws:kinesis:record",
			EventSource:    "aws:kinesis",
			EventSourceArn: p.StreamARN,
			EventVersion:   "1.0",
			Kinesis: events.KinesisRecord{
				ApproximateArrivalTimestamp: events.SecondsEpochTime{Time: at},
				Data:                        r.Data,
				PartitionKey:                aws.ToString(r.PartitionKey),
				SequenceNumber:              aws.ToString(r.SequenceNumber),
				KinesisSchemaVersion:        "1.0",
			},
		})
	}
	b, err := json.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("kinesispoller: event: %w", err)
	}
	return b, nil
}
