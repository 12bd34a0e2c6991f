package correlation_test

import (
	"context"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/activity-aware/ids/correlation"
	"github.com/activity-aware/ids/internal/dynalite"
)

var local dynalite.Shared

func TestMain(m *testing.M) { os.Exit(local.Main(m)) }

// countingClient counts the DynamoDB requests the store makes; with rtt,
// each request first waits that long, as for the network's round trip to
// DynamoDB in a region.
type countingClient struct {
	*dynamodb.Client
	calls atomic.Int64
	rtt   time.Duration
}

func (c *countingClient) count() {
	c.calls.Add(1)
	time.Sleep(c.rtt)
}

func (c *countingClient) GetItem(ctx context.Context, in *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	c.count()
	return c.Client.GetItem(ctx, in, o...)
}
func (c *countingClient) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	c.count()
	return c.Client.PutItem(ctx, in, o...)
}
func (c *countingClient) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	c.count()
	return c.Client.UpdateItem(ctx, in, o...)
}
func (c *countingClient) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	c.count()
	return c.Client.DeleteItem(ctx, in, o...)
}
func (c *countingClient) Query(ctx context.Context, in *dynamodb.QueryInput, o ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	c.count()
	return c.Client.Query(ctx, in, o...)
}

// dynamoStore returns a store in a new table of the package's dynalite,
// started on first use.
func dynamoStore(tb testing.TB) (*correlation.DynamoDBStore, *countingClient) {
	tb.Helper()
	srv, table := local.Table(tb, correlation.TableSchema)
	client := &countingClient{Client: srv.Client()}
	return correlation.NewDynamoDBStore(client, table), client
}

// stores runs f against each Store implementation.
func stores(t *testing.T, f func(t *testing.T, s correlation.Store)) {
	t.Run("memory", func(t *testing.T) { f(t, correlation.NewMemoryStore()) })
	t.Run("dynamodb", func(t *testing.T) {
		s, _ := dynamoStore(t)
		f(t, s)
	})
}

// TestDynamoDBConcurrentInvocations races two invocations on one group
// against dynalite, every activity delivered to both: one post, every other
// activity folded once, one digest with the full count.
func TestDynamoDBConcurrentInvocations(t *testing.T) {
	s, _ := dynamoStore(t)
	testConcurrent(t, s)
}

func TestDynamoDBSuppressionsRoundTrip(t *testing.T) {
	ctx := context.Background()
	s, _ := dynamoStore(t)
	want := correlation.Suppression{ID: "sup-1", Principal: "arn:aws:iam::111122223333:user/scanner", SourceIP: "198.51.100.0/24",
		Account: "111122223333", Until: t0.Add(time.Hour), Reason: "approved scanner", Created: t0}
	if err := s.PutSuppression(ctx, want); err != nil {
		t.Fatal(err)
	}
	got, err := s.Suppressions(ctx)
	if err != nil || len(got) != 1 || got[0] != want {
		t.Fatalf("got %+v, %v; want %+v", got, err, want)
	}
	if err := s.DeleteSuppression(ctx, "sup-1"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSuppression(ctx, "sup-1"); err == nil {
		t.Fatal("deleting a missing suppression succeeded")
	}
}

// BenchmarkNotifierDynamoDB is the notifier's cost per activity with its
// state in dynalite: a flood from one principal (one post, the rest folded),
// reporting the DynamoDB requests per activity.
func BenchmarkNotifierDynamoDB(b *testing.B) {
	ctx := context.Background()
	s, client := dynamoStore(b)
	n := &correlation.Notifier{Store: s, Policy: correlation.Policy{Destination: "bench", Window: 24 * time.Hour}}
	acts := denials("bench", b.N, time.Millisecond)
	b.ResetTimer()
	for i := range b.N {
		d, err := n.Decide(ctx, acts[i], t0)
		if err != nil {
			b.Fatal(err)
		}
		if d.Action == correlation.Post {
			if err := n.Posted(ctx, d, t0); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(client.calls.Load())/float64(b.N), "requests/activity")
}

// BenchmarkDetectorDynamoDB is the burst detector's cost per denied activity
// in batches of 50, with its state in dynalite.
func BenchmarkDetectorDynamoDB(b *testing.B) {
	ctx := context.Background()
	s, client := dynamoStore(b)
	d := detector(s)
	acts := denials("bench", b.N, time.Millisecond)
	b.ResetTimer()
	for i := 0; i < b.N; i += 50 {
		if _, err := d.Observe(ctx, acts[i:min(i+50, b.N)]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(client.calls.Load())/float64(b.N), "requests/activity")
}
