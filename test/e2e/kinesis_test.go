package e2e

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/activity-aware/ids/internal/kinesalite"
	"github.com/activity-aware/ids/internal/kinesispoller"
	"github.com/activity-aware/ids/internal/subscriptiontest"
)

// kinesisScenario puts a logs destination's records (gzipped subscription
// batches of the repository's denials, from three accounts) and one corrupt
// record into kinesalite, and drains the stream into the source under the
// emulator as the template's event source mapping does (batch size 100,
// bisecting, 3 retries): the poison record is isolated and parked, every
// other log event's activity published and posted once.
func kinesisScenario(t *testing.T, r *row) {
	ctx := context.Background()
	ks, err := kinesalite.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer ks.Close()
	const stream = "cloudtrail-logs"
	if err := ks.CreateStream(ctx, stream, 1); err != nil {
		t.Fatal(err)
	}
	client := ks.Client()
	denials := repoDenials(t)
	const records, perRecord = 12, 4
	var poison string
	good := 0
	for i := range records {
		account := fmt.Sprintf("%012d", 100000000000+i%3)
		var msgs []string
		for j := range perRecord {
			msgs = append(msgs, withEventID(t, denials[(i*perRecord+j)%len(denials)], fmt.Sprintf("kinesis-%02d-%d", i, j)))
		}
		good += len(msgs)
		data := subscriptiontest.Gzip(subscriptiontest.Batch{Owner: account, UniqueIDs: true}.JSON(msgs...))
		if _, err := client.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(stream), PartitionKey: aws.String(account), Data: data}); err != nil {
			t.Fatal(err)
		}
		if i == 7 {
			cut := subscriptiontest.Gzip(subscriptiontest.Batch{Owner: account}.JSON(denials[0]))
			out, err := client.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(stream), PartitionKey: aws.String(account), Data: cut[:len(cut)/2]})
			if err != nil {
				t.Fatal(err)
			}
			poison = aws.ToString(out.SequenceNumber)
		}
	}

	p := newPipeline(t, options{})
	var parked []kinesispoller.BatchInfo
	poller := &kinesispoller.Poller{
		Client: client, StreamName: stream, StreamARN: "arn:aws:kinesis:us-east-1:111122223333:stream/" + stream,
		BatchSize: 100, MaxRetryAttempts: 3, Bisect: true,
		Invoke: func(_ context.Context, payload []byte) ([]byte, bool, error) {
			// units 0: a batch reporting item failures publishes part of
			// it by design; the count below checks every log event.
			inv := p.invokeSource(payload, 0)
			return inv.res.Payload, inv.res.Failed(), nil
		},
		OnFailure: func(_ context.Context, info kinesispoller.BatchInfo) error { parked = append(parked, info); return nil },
	}
	n, err := poller.Drain(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(parked) != 1 || parked[0].BatchSize != 1 || parked[0].StartSequenceNumber != poison {
		t.Fatalf("parked %+v, want the poison record %s alone", parked, poison)
	}
	requireOK(t, "destination", p.deliver(0)...)
	published := len(p.published())
	p.lost += good - published
	r.tally = p.tally()
	want(t, r.tally, good, good, "0")
	r.inputs = fmt.Sprintf("%d Kinesis records in kinesalite (%d gzipped subscription batches of %d denials from 3 accounts + 1 corrupt record), one shard", n, records, perRecord)
	defer func() { t.Log(r.outcome) }()
	r.outcome = fmt.Sprintf("success; the event source mapping's poller made %d invocations: the corrupt record reported as the batch item failure, bisected until alone, retried 3 times and parked (its shard and sequence number, as the on-failure queue gets them); every other log event published and posted once", poller.Invocations)
}
