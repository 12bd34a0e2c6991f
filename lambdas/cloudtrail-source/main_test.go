package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/internal/kinesalite"
	"github.com/activity-aware/ids/internal/kinesispoller"
	"github.com/activity-aware/ids/internal/lambdaemu"
	"github.com/activity-aware/ids/internal/localaws"
	"github.com/activity-aware/ids/internal/localeventbridge"
	"github.com/activity-aware/ids/internal/subscriptiontest"
	"github.com/activity-aware/ids/sources/cloudtrail"
)

// denial is a CloudTrail record of a denied call with its own event id.
func denial(id string) string {
	return `{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDAEXAMPLE","arn":"arn:aws:iam::111122223333:user/alice","accountId":"111122223333","userName":"alice"},` +
		`"eventTime":"2024-03-01T12:00:00Z","eventSource":"iam.amazonaws.com","eventName":"GetPolicy","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.7",` +
		`"errorCode":"AccessDenied","errorMessage":"denied","eventID":"` + id + `","readOnly":true,"eventType":"AwsApiCall","recipientAccountId":"111122223333"}`
}

// TestKinesisUnderEmulator puts gzipped subscription payloads into a
// kinesalite stream through the real SDK, the way a logs destination does,
// and a poller feeds them to the compiled source under the runtime
// emulator as the event source mapping (BatchSize 10, bisecting, 2
// retries) would: one poison record among them is isolated by bisecting
// and parked, every other record's activity is published on the local bus
// exactly once.
func TestKinesisUnderEmulator(t *testing.T) {
	ctx := context.Background()
	ks, err := kinesalite.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer ks.Close()
	t.Setenv("AWS_ENDPOINT_URL_KINESIS", ks.URL)
	eb := localeventbridge.New(localeventbridge.Options{
		BusName:        "bus",
		ValidateDetail: func(b []byte) error { _, err := activity.Parse(b); return err },
	})
	defer eb.Close()
	env := cloudtrail.Config{EventBusName: "bus", Detections: []string{"unauthorized-api-calls"}}.Environment()
	env["AWS_ENDPOINT_URL_EVENTBRIDGE"] = eb.URL()
	fn := lambdaemu.StartPackage(t, "../..", "./lambdas/cloudtrail-source", lambdaemu.Config{
		Name: "CloudTrailSource", Env: env,
		Timeout: 30 * time.Second, MemoryMB: 256, LogFormat: "JSON", LogLevel: "INFO",
		Region: "us-east-1", AccessKeyID: localaws.AccessKeyID, SecretAccessKey: localaws.SecretAccessKey,
	})

	// GIVEN a stream of 2 shards holding 24 records of 3 log events each
	// from 3 accounts, a CONTROL_MESSAGE, and one corrupt record.
	const stream = "cloudtrail-logs"
	if err := ks.CreateStream(ctx, stream, 2); err != nil {
		t.Fatal(err)
	}
	// The SDK's default configuration finds kinesalite through
	// AWS_ENDPOINT_URL_KINESIS, as any tool of the user's would.
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion("us-east-1"), config.WithCredentialsProvider(ks.Client().Options().Credentials))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.BaseEndpoint != nil && *cfg.BaseEndpoint != "" {
		t.Fatalf("a global endpoint %s", *cfg.BaseEndpoint)
	}
	client := kinesis.NewFromConfig(cfg)
	put := func(key string, data []byte) string {
		out, err := client.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(stream), PartitionKey: aws.String(key), Data: data})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.SequenceNumber)
	}
	want := map[string]bool{} // activity ids
	var poison string
	for i := range 24 {
		account := fmt.Sprintf("%012d", 100000000000+i%3)
		var msgs []string
		for j := range 3 {
			id := fmt.Sprintf("evt-%02d-%d", i, j)
			msgs = append(msgs, denial(id))
			want[id] = true
		}
		put(account, subscriptiontest.Gzip(subscriptiontest.Batch{Owner: account, UniqueIDs: true}.JSON(msgs...)))
		if i == 5 {
			put(account, subscriptiontest.Gzip([]byte(`{"messageType":"CONTROL_MESSAGE","logEvents":[{"id":"","timestamp":1,"message":"CWL CONTROL MESSAGE: Checking health of destination Kinesis stream."}]}`)))
		}
		if i == 13 {
			// Poison: gzip of a subscription batch cut short.
			zipped := subscriptiontest.Gzip(subscriptiontest.Batch{Owner: account}.JSON(denial("poison")))
			poison = put(account, zipped[:len(zipped)/2])
		}
	}

	// WHEN the mapping's poller drains the stream
	var parked []kinesispoller.BatchInfo
	p := &kinesispoller.Poller{
		Client: client, StreamName: stream, StreamARN: "arn:aws:kinesis:us-east-1:111122223333:stream/" + stream,
		BatchSize: 10, MaxRetryAttempts: 2, Bisect: true,
		Invoke: func(ctx context.Context, payload []byte) ([]byte, bool, error) {
			res, err := fn.Invoke(ctx, payload)
			if err != nil {
				return nil, false, err
			}
			return res.Payload, res.Failed(), nil
		},
		OnFailure: func(_ context.Context, info kinesispoller.BatchInfo) error { parked = append(parked, info); return nil },
	}
	n, err := p.Drain(ctx)
	if err != nil {
		t.Fatalf("%v\n%s", err, fn.Logs())
	}

	// THEN every record was read, the poison record alone is parked, and
	// every good log event's activity is on the bus once.
	if n != 26 {
		t.Errorf("read %d records, want 26", n)
	}
	if len(parked) != 1 || parked[0].BatchSize != 1 || parked[0].StartSequenceNumber != poison || parked[0].EndSequenceNumber != poison {
		t.Fatalf("parked %+v, want the poison record alone", parked)
	}
	seen := map[string]int{}
	for _, e := range eb.Accepted() {
		a, err := activity.Parse([]byte(e.Detail))
		if err != nil {
			t.Fatal(err)
		}
		seen[a.ID]++
	}
	for id := range want {
		if seen[id] != 1 {
			t.Errorf("activity %s published %d times, want once", id, seen[id])
		}
	}
	if len(seen) != len(want) || len(eb.Accepted()) != len(want) {
		t.Errorf("%d entries (%d ids) on the bus, want %d", len(eb.Accepted()), len(seen), len(want))
	}
	t.Logf("%d invocations for 26 records", p.Invocations)
}
