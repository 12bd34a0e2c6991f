package correlation_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/activity-aware/ids/correlation"
)

// rendezvous is a Store whose first claim waits, up to a few seconds, for a
// second one to start, and which records how many claims ran at once.
type rendezvous struct {
	correlation.Store
	mu            sync.Mutex
	now, max      int
	waited        bool
	second        chan struct{}
	secondStarted sync.Once
}

func (s *rendezvous) Claim(ctx context.Context, key correlation.Key, state, by string, now time.Time, lease time.Duration, expires time.Time) (correlation.ClaimResult, error) {
	s.mu.Lock()
	s.now++
	s.max = max(s.max, s.now)
	first := !s.waited
	s.waited = true
	if s.now == 2 {
		s.secondStarted.Do(func() { close(s.second) })
	}
	s.mu.Unlock()
	if first {
		select {
		case <-s.second:
		case <-time.After(3 * time.Second):
		}
	}
	defer func() { s.mu.Lock(); s.now--; s.mu.Unlock() }()
	return s.Store.Claim(ctx, key, state, by, now, lease, expires)
}

// TestDetectorClaimsConcurrently: the claims of a batch run Concurrency at
// a time, and the count is the same.
func TestDetectorClaimsConcurrently(t *testing.T) {
	for _, concurrency := range []int{0, 3} {
		t.Run(fmt.Sprint("concurrency ", concurrency), func(t *testing.T) {
			s := &rendezvous{Store: correlation.NewMemoryStore(), second: make(chan struct{})}
			d := detector(s)
			d.Concurrency = concurrency
			derived, err := d.Observe(context.Background(), denials("gina", 100, time.Second))
			if err != nil || len(derived) != 1 {
				t.Fatalf("derived %d, %v; want the burst", len(derived), err)
			}
			if count := derived[0].Fields[0]; !strings.HasPrefix(count.Value, "100 denied calls") {
				t.Fatalf("burst's count %q, want 100 denied calls", count.Value)
			}
			limit := concurrency
			if limit == 0 {
				limit = correlation.DefaultClaimConcurrency
			}
			if s.max < 2 || s.max > limit {
				t.Fatalf("%d claims ran at once, want 2 to %d", s.max, limit)
			}
		})
	}
}

// BenchmarkObserveDynamoDB counts a maximum batch of 864 denials against
// dynalite, each request delayed by 3 ms as by a round trip to DynamoDB in a
// region, with the claims one at a time and DefaultClaimConcurrency at once.
func BenchmarkObserveDynamoDB(b *testing.B) {
	for _, concurrency := range []int{1, correlation.DefaultClaimConcurrency} {
		b.Run(fmt.Sprint("concurrency=", concurrency), func(b *testing.B) {
			s, client := dynamoStore(b)
			client.rtt = 3 * time.Millisecond
			d := detector(s)
			d.Concurrency = concurrency
			i := 0
			for b.Loop() {
				i++
				if _, err := d.Observe(context.Background(), denials(fmt.Sprint("user-", i), 864, 100*time.Millisecond)); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(client.calls.Load())/float64(b.N), "requests/op")
		})
	}
}
