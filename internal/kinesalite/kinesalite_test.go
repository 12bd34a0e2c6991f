package kinesalite_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/activity-aware/ids/internal/kinesalite"
)

func TestPutAndGet(t *testing.T) {
	ctx := context.Background()
	s, err := kinesalite.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.CreateStream(ctx, "logs", 1); err != nil {
		t.Fatal(err)
	}
	c := s.Client()
	put, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("logs"), PartitionKey: aws.String("k"), Data: []byte{0x1f, 0x8b, 0, 1}})
	if err != nil {
		t.Fatal(err)
	}
	it, err := c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String("logs"), ShardId: put.ShardId, ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Records) != 1 || string(got.Records[0].Data) != "\x1f\x8b\x00\x01" || *got.Records[0].SequenceNumber != *put.SequenceNumber {
		t.Errorf("records %+v", got.Records)
	}
}
