package correlation_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/correlation"
	"github.com/activity-aware/ids/internal/dynalite"
)

// settleFailsOnce is a Store whose first Settle fails, as an invocation that
// counted an activity and died before it settled the activity's claim.
type settleFailsOnce struct {
	correlation.Store
	failed atomic.Bool
}

func (s *settleFailsOnce) Settle(ctx context.Context, key correlation.Key, state string, marks correlation.Claimed, expires time.Time) error {
	if s.failed.CompareAndSwap(false, true) {
		return errors.New("invocation timed out")
	}
	return s.Store.Settle(ctx, key, state, marks, expires)
}

func TestNotifierRetryAfterCountingCountsOnce(t *testing.T) {
	stores(t, testNotifierRetryAfterCountingCountsOnce)
}

// testNotifierRetryAfterCountingCountsOnce retries activities whose first
// invocation counted them and then ended without settling: the opener's
// post is still owed, a folded activity is counted once, and the digest's
// count is the number of activities.
func testNotifierRetryAfterCountingCountsOnce(t *testing.T, store correlation.Store) {
	ctx := context.Background()
	n := notifier(store)
	acts := denials("erin", 5, time.Second)
	// The opener: decided (counted), never posted nor failed.
	if d, err := n.Decide(ctx, acts[0], t0); err != nil || d.Action != correlation.Post {
		t.Fatalf("opener: %v %v", d.Action, err)
	}
	retry := t0.Add(correlation.DefaultLease + time.Second)
	d, err := n.Decide(ctx, acts[0], retry)
	if err != nil || d.Action != correlation.Post {
		t.Fatalf("opener retried after its lease: %v %v, want its owed post", d.Action, err)
	}
	if err := n.Posted(ctx, d, retry); err != nil {
		t.Fatal(err)
	}
	// The second: counted, then its settle failed.
	flaky := &settleFailsOnce{Store: store}
	nf := notifier(flaky)
	if _, err := nf.Decide(ctx, acts[1], retry); err == nil {
		t.Fatal("the failing settle did not fail the decision")
	}
	if d, err := nf.Decide(ctx, acts[1], retry.Add(correlation.DefaultLease+time.Second)); err != nil || d.Action != correlation.Fold {
		t.Fatalf("retried fold: %v %v", d.Action, err)
	}
	for _, a := range acts[2:] {
		if d, err := n.Decide(ctx, a, retry); err != nil || d.Action != correlation.Fold {
			t.Fatalf("%s: %v %v", a.ID, d.Action, err)
		}
	}
	ds, err := n.Sweep(ctx, t0.Add(time.Hour))
	if err != nil || len(ds) != 1 {
		t.Fatalf("digests %d, %v", len(ds), err)
	}
	if ds[0].Count != 5 || ds[0].Folded() != 4 {
		t.Fatalf("digest counts %d (%d folded), want 5 (4): a retried activity was counted twice", ds[0].Count, ds[0].Folded())
	}
}

// TestDynamoDBLostAnswerCountsOnce loses the answer to the store's first
// counting UpdateItem after dynalite applied it (the connection drops, as
// a network fault or a timeout would): the real SDK retries the request,
// and the window still counts the activity once.
func TestDynamoDBLostAnswerCountsOnce(t *testing.T) {
	srv, table := local.Table(t, correlation.TableSchema)
	target, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	var lost, counts atomic.Int64
	proxy := httputil.NewSingleHostReverseProxy(target)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		counting := r.Header.Get("X-Amz-Target") == "DynamoDB_20120810.UpdateItem" && bytes.Contains(body, []byte(" ADD "))
		if counting {
			counts.Add(1)
		}
		if !counting || !lost.CompareAndSwap(0, 1) {
			proxy.ServeHTTP(w, r)
			return
		}
		// Apply the request, then drop the connection unanswered.
		rec := httptest.NewRecorder()
		proxy.ServeHTTP(rec, r)
		if rec.Code != http.StatusOK {
			t.Errorf("the lost request failed at dynalite: %d %s", rec.Code, rec.Body)
		}
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		conn.Close()
	}))
	defer front.Close()
	n := notifier(correlation.NewDynamoDBStore(dynalite.NewClient(front.URL), table))
	ctx := context.Background()
	acts := denials("frank", 3, time.Second)
	d, err := n.Decide(ctx, acts[0], t0)
	if err != nil || d.Action != correlation.Post {
		t.Fatalf("opener: %v %v", d.Action, err)
	}
	if err := n.Posted(ctx, d, t0); err != nil {
		t.Fatal(err)
	}
	for _, a := range acts[1:] {
		if d, err := n.Decide(ctx, a, t0); err != nil || d.Action != correlation.Fold {
			t.Fatalf("%s: %v %v", a.ID, d.Action, err)
		}
	}
	if lost.Load() != 1 || counts.Load() != 4 {
		t.Fatalf("lost %d answers over %d counting requests, want 1 over 4 (3 activities, one sent twice by the SDK)", lost.Load(), counts.Load())
	}
	ds, err := n.Sweep(ctx, t0.Add(time.Hour))
	if err != nil || len(ds) != 1 {
		t.Fatalf("digests %d, %v", len(ds), err)
	}
	if ds[0].Count != 3 {
		t.Fatalf("digest counts %d, want 3: the retried request counted twice", ds[0].Count)
	}
}

func TestOnceLimit(t *testing.T) { stores(t, testOnceLimit) }

// testOnceLimit fills a window past OnceLimit: every activity is still
// counted, those within the limit once however often they are re-sent.
func testOnceLimit(t *testing.T, store correlation.Store) {
	ctx := context.Background()
	key := correlation.Key{PK: "group#x", SK: "w#1"}
	add := func(id string) correlation.Item {
		t.Helper()
		it, err := store.Add(ctx, key, correlation.Delta{Add: map[string]int64{"n": 1}, Once: id})
		if err != nil {
			t.Fatalf("add %s: %v", id, err)
		}
		return it
	}
	n := correlation.OnceLimit + 5
	for i := range n {
		// (Repeated may be true here: the SDK retries a request whose
		// answer it did not get.)
		if it := add(fmt.Sprint("a-", i)); it.Nums["n"] != int64(i+1) {
			t.Fatalf("activity %d: count %d", i, it.Nums["n"])
		}
	}
	if it := add("a-7"); !it.Repeated || it.Nums["n"] != int64(n) {
		t.Fatalf("re-sent a-7: count %d, repeated %v; want %d, repeated", it.Nums["n"], it.Repeated, n)
	}
	if it := add(fmt.Sprint("a-", n-1)); it.Repeated || it.Nums["n"] != int64(n+1) {
		t.Fatalf("re-sent past the limit: count %d, repeated %v; want counted again (%d)", it.Nums["n"], it.Repeated, n+1)
	}
}

// flakyCounts is a Store whose counting fails once, as throttling or an
// outage would: the addition (applied first when applied is set: its answer
// lost), or the claim numbered claimFails. With diesAfterClaims, the
// addition fails and so do the releases, as in an invocation that ran out
// of time between its claims and its additions.
type flakyCounts struct {
	correlation.Store
	addFails, applied, diesAfterClaims bool
	claimFails                         int64
	claims                             atomic.Int64
	failed                             atomic.Bool
}

func (s *flakyCounts) Claim(ctx context.Context, key correlation.Key, state, by string, now time.Time, lease time.Duration, expires time.Time) (correlation.ClaimResult, error) {
	if s.claims.Add(1) == s.claimFails && s.failed.CompareAndSwap(false, true) {
		return correlation.ClaimResult{}, errors.New("throttled")
	}
	return s.Store.Claim(ctx, key, state, by, now, lease, expires)
}

func (s *flakyCounts) Release(ctx context.Context, key correlation.Key) error {
	if s.diesAfterClaims && s.failed.Load() {
		return context.DeadlineExceeded
	}
	return s.Store.Release(ctx, key)
}

func (s *flakyCounts) Add(ctx context.Context, key correlation.Key, d correlation.Delta) (correlation.Item, error) {
	if s.addFails && s.failed.CompareAndSwap(false, true) {
		if s.applied {
			if _, err := s.Store.Add(ctx, key, d); err != nil {
				return correlation.Item{}, err
			}
		}
		return correlation.Item{}, errors.New("throttled")
	}
	return s.Store.Add(ctx, key, d)
}

func TestDetectorRetryAfterAFailedCount(t *testing.T) { stores(t, testDetectorRetryAfterAFailedCount) }

// testDetectorRetryAfterAFailedCount fails the count of a batch of 25
// denials once, in four ways, and retries the batch as Lambda does (or, split,
// in two other batches, as a bisected Kinesis batch): the retry derives the
// burst, from a count of 25 (not 0 nor 50).
func testDetectorRetryAfterAFailedCount(t *testing.T, store correlation.Store) {
	ctx := context.Background()
	for _, tt := range []struct {
		user  string
		flaky *flakyCounts
		split bool
	}{
		{"count-fails", &flakyCounts{addFails: true}, false},
		{"count-lost", &flakyCounts{addFails: true, applied: true}, false},
		{"claim-fails", &flakyCounts{claimFails: 10}, false},
		{"time-out", &flakyCounts{addFails: true, diesAfterClaims: true}, false},
		{"count-fails-split", &flakyCounts{addFails: true}, true},
		{"claim-fails-split", &flakyCounts{claimFails: 10}, true},
	} {
		t.Run(tt.user, func(t *testing.T) {
			user, flaky := tt.user, tt.flaky
			flaky.Store = store
			d := detector(flaky)
			acts := denials(user, 25, time.Second)
			if _, err := d.Observe(ctx, acts); err == nil {
				t.Fatal("the failure did not fail the observation")
			}
			retries := [][]*activity.Activity{acts}
			if tt.split {
				retries = [][]*activity.Activity{acts[:12], acts[12:]}
			}
			derived := observe(t, d, retries...)
			if len(derived) != 1 {
				t.Fatalf("the retry derived %d activities; want the burst", len(derived))
			}
			if count := derived[0].Fields[0]; count.Key != "Count" || !strings.HasPrefix(count.Value, "25 denied calls") {
				t.Fatalf("burst's count %+v, want 25 denied calls", count)
			}
			// Delivered again, the batch takes back its claims and counts
			// nothing more: the burst it derives again is the same one.
			if again, err := d.Observe(ctx, acts); err != nil || len(again) > 1 || len(again) == 1 && again[0].ID != derived[0].ID {
				t.Fatalf("a third delivery derived %d, %v; want nothing new", len(again), err)
			}
			// Its activities in another batch are not counted again.
			other := append(denials(user+"-other", 1, time.Second), acts...)
			if again, err := d.Observe(ctx, other); err != nil || len(again) != 0 {
				t.Fatalf("a re-delivery in another batch derived %d, %v", len(again), err)
			}
			window := correlation.Key{PK: "burst#" + correlation.DenialBurstID + "#" + acts[0].Actor.ARN, SK: strconv.FormatInt(t0.UnixNano()/int64(correlation.DefaultBurstWindow), 10)}
			if it, ok, err := store.Get(ctx, window); err != nil || !ok || it.Nums["n"] != 25 {
				t.Fatalf("the window counts %d (%v, %v), want 25", it.Nums["n"], ok, err)
			}
		})
	}
}

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
