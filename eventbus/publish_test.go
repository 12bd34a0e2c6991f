package eventbus_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/smithy-go"
	"golang.org/x/sync/errgroup"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/eventbus"
	"github.com/activity-aware/ids/internal/localeventbridge"
)

func TestPublishBatching(t *testing.T) {
	tests := []struct {
		name            string
		acts            func(t *testing.T) []*activity.Activity
		maxRequestBytes int // publisher setting and server limit; 0: 256 KB
		wantRequests    int
		wantTruncated   int
	}{
		{"one", func(t *testing.T) []*activity.Activity { return activities(t, 1) }, 0, 1, 0},
		{"ten fill one request", func(t *testing.T) []*activity.Activity { return activities(t, 10) }, 0, 1, 0},
		{"eleven need two", func(t *testing.T) []*activity.Activity { return activities(t, 11) }, 0, 2, 0},
		{"twenty-five need three", func(t *testing.T) []*activity.Activity { return activities(t, 25) }, 0, 3, 0},
		// 100 KB entries: two fit in 256 KB, so nine need five requests.
		{"large split by bytes", func(t *testing.T) []*activity.Activity { return large(t, 9, 100_000) }, 0, 5, 0},
		// The byte limit is a setting: at 1 MB nine such entries share one request.
		{"large with a 1 MB limit", func(t *testing.T) []*activity.Activity { return large(t, 9, 100_000) }, 1 << 20, 1, 0},
		// A 300 KB record is trimmed to fit one entry and marked truncated.
		{"oversized records are bounded", func(t *testing.T) []*activity.Activity { return large(t, 3, 300_000) }, 0, 3, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, tt.maxRequestBytes)
			p := newPublisher(t, srv, eventbus.Config{MaxRequestBytes: tt.maxRequestBytes})
			acts := tt.acts(t)
			if err := p.Publish(withTimeout(t, 10*time.Second), acts); err != nil {
				t.Fatalf("Publish: %v", err)
			}
			if got := srv.PutEventsRequests(); got != tt.wantRequests {
				t.Errorf("PutEvents requests = %d, want %d", got, tt.wantRequests)
			}
			if got := srv.Requests(); got != tt.wantRequests {
				t.Errorf("HTTP requests = %d, want %d (no retries)", got, tt.wantRequests)
			}
			wantPublishedOnce(t, srv, ids(acts))
			truncated := 0
			for _, e := range srv.Accepted() {
				a, _ := activity.Parse([]byte(e.Detail))
				if a.Truncated {
					truncated++
				}
			}
			if truncated != tt.wantTruncated {
				t.Errorf("truncated entries = %d, want %d", truncated, tt.wantTruncated)
			}
			if len(srv.Rejected()) != 0 {
				t.Errorf("rejected entries: %+v", srv.Rejected())
			}
		})
	}
}

func TestPublishPartialFailures(t *testing.T) {
	tests := []struct {
		name         string
		n            int
		inject       func(srv *localeventbridge.Server, acts []*activity.Activity)
		wantRequests int
		// wantUndelivered maps an activity index to the error code it must be
		// reported with; every other activity must be published exactly once.
		wantUndelivered map[int]string
	}{
		{
			name: "3 of 10 throttled once, then accepted",
			n:    10,
			inject: func(srv *localeventbridge.Server, _ []*activity.Activity) {
				srv.FailIndexes("ThrottlingException", 1, 2, 5, 7)
			},
			wantRequests: 2,
		},
		{
			name: "internal failure twice for one entry",
			n:    10,
			inject: func(srv *localeventbridge.Server, acts []*activity.Activity) {
				srv.FailDetailContaining("InternalFailure", 2, acts[4].ID)
			},
			wantRequests: 3,
		},
		{
			name: "retried entries in each of three batches",
			n:    25,
			inject: func(srv *localeventbridge.Server, acts []*activity.Activity) {
				for _, i := range []int{0, 13, 24} {
					srv.FailDetailContaining("ThrottlingException", 1, acts[i].ID)
				}
			},
			wantRequests: 6,
		},
		{
			name: "throttled beyond the attempt budget",
			n:    10,
			inject: func(srv *localeventbridge.Server, acts []*activity.Activity) {
				srv.FailDetailContaining("ThrottlingException", 100, acts[3].ID)
				srv.FailDetailContaining("ThrottlingException", 100, acts[8].ID)
			},
			wantRequests:    eventbus.DefaultMaxAttempts,
			wantUndelivered: map[int]string{3: "ThrottlingException", 8: "ThrottlingException"},
		},
		{
			name: "non-retryable codes are not retried",
			n:    10,
			inject: func(srv *localeventbridge.Server, acts []*activity.Activity) {
				srv.FailDetailContaining("NotAuthorizedForSourceException", 100, acts[1].ID)
				srv.FailDetailContaining("AccessDeniedException", 100, acts[6].ID)
			},
			wantRequests:    1,
			wantUndelivered: map[int]string{1: "NotAuthorizedForSourceException", 6: "AccessDeniedException"},
		},
		{
			name: "retryable and non-retryable in one request",
			n:    10,
			inject: func(srv *localeventbridge.Server, acts []*activity.Activity) {
				srv.FailDetailContaining("MalformedDetail", 1, acts[0].ID)
				srv.FailDetailContaining("InternalFailure", 1, acts[9].ID)
			},
			wantRequests:    2,
			wantUndelivered: map[int]string{0: "MalformedDetail"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, 0)
			p := newPublisher(t, srv, eventbus.Config{})
			acts := activities(t, tt.n)
			tt.inject(srv, acts)

			err := p.Publish(withTimeout(t, 10*time.Second), acts)

			if got := srv.PutEventsRequests(); got != tt.wantRequests {
				t.Errorf("PutEvents requests = %d, want %d", got, tt.wantRequests)
			}
			var delivered []string
			for i, a := range acts {
				if _, ok := tt.wantUndelivered[i]; !ok {
					delivered = append(delivered, a.ID)
				}
			}
			wantPublishedOnce(t, srv, delivered)
			checkUndelivered(t, err, acts, tt.wantUndelivered)
			// Every entry the endpoint saw beyond each activity's first
			// attempt is a retry the publisher counted (the source's
			// PublishRetries metric).
			if want := int64(len(srv.Accepted()) + len(srv.Rejected()) - tt.n); p.Retried() != want {
				t.Errorf("Retried() = %d, want %d", p.Retried(), want)
			}
		})
	}
}

// checkUndelivered fails unless err reports exactly the wanted activities
// (index → code), each named in its text.
func checkUndelivered(t *testing.T, err error, acts []*activity.Activity, want map[int]string) {
	t.Helper()
	if len(want) == 0 {
		if err != nil {
			t.Fatalf("Publish: %v", err)
		}
		return
	}
	if !errors.Is(err, eventbus.ErrUndelivered) {
		t.Fatalf("Publish error = %v, want ErrUndelivered", err)
	}
	var ue *eventbus.UndeliveredError
	if !errors.As(err, &ue) {
		t.Fatalf("Publish error %T is not an *UndeliveredError", err)
	}
	if ue.Total != len(acts) || len(ue.Failures) != len(want) {
		t.Errorf("failures = %+v of %d, want %d of %d", ue.Failures, ue.Total, len(want), len(acts))
	}
	got := map[string]string{}
	for _, f := range ue.Failures {
		got[f.ID] = f.Code
	}
	for i, code := range want {
		id := acts[i].ID
		if got[id] != code {
			t.Errorf("activity %s reported with code %q, want %q", id, got[id], code)
		}
		if !strings.Contains(err.Error(), id+" ("+code+")") {
			t.Errorf("error text does not name %s (%s): %v", id, code, err)
		}
	}
}

func TestPublishRequestFailures(t *testing.T) {
	tests := []struct {
		name         string
		inject       func(srv *localeventbridge.Server)
		wantHTTP     int
		wantCode     string // "" when all must be published
		wantDeadline bool
	}{
		{"throttled twice, the SDK retries", func(s *localeventbridge.Server) { s.Throttle(2) }, 3, "", false},
		{"500 twice, the SDK retries", func(s *localeventbridge.Server) { s.FailInternal(2) }, 3, "", false},
		{"throttled beyond the SDK's attempts", func(s *localeventbridge.Server) { s.Throttle(50) }, eventbus.ClientMaxAttempts, "ThrottlingException", false},
		{"500 beyond the SDK's attempts", func(s *localeventbridge.Server) { s.FailInternal(50) }, eventbus.ClientMaxAttempts, "InternalException", false},
		{"hangs until the deadline", func(s *localeventbridge.Server) { s.Hang(50) }, 1, "DeadlineExceeded", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, 0)
			// The hang ends at the margin's deadline, 1.4 s before the
			// invocation's (no wall-clock bound: the machine may be slow,
			// only the order of the two deadlines matters).
			margin, timeout := 100*time.Millisecond, 1500*time.Millisecond
			if tt.wantDeadline {
				margin, timeout = 1400*time.Millisecond, 3*time.Second
			}
			p := newPublisher(t, srv, eventbus.Config{DeadlineMargin: margin})
			acts := activities(t, 7)
			tt.inject(srv)

			ctx := withTimeout(t, timeout)
			err := p.Publish(ctx, acts)
			invocationOver := ctx.Err() != nil

			if got := srv.Requests(); got != tt.wantHTTP {
				t.Errorf("HTTP requests = %d, want %d", got, tt.wantHTTP)
			}
			if tt.wantCode == "" {
				if err != nil {
					t.Fatalf("Publish: %v", err)
				}
				wantPublishedOnce(t, srv, ids(acts))
				return
			}
			want := map[int]string{}
			for i := range acts {
				want[i] = tt.wantCode
			}
			checkUndelivered(t, err, acts, want)
			if len(srv.Accepted()) != 0 {
				t.Errorf("accepted %d entries, want none", len(srv.Accepted()))
			}
			var apiErr smithy.APIError
			if !tt.wantDeadline && (!errors.As(err, &apiErr) || apiErr.ErrorCode() != tt.wantCode) {
				t.Errorf("error does not carry the API error %s: %v", tt.wantCode, err)
			}
			if tt.wantDeadline {
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("error does not match context.DeadlineExceeded: %v", err)
				}
				if invocationOver {
					t.Error("Publish returned after the invocation's deadline, not at its margin")
				}
			}
		})
	}
}

func TestPublishBackoffStopsAtTheDeadline(t *testing.T) {
	srv := newServer(t, 0)
	// A backoff of a minute does not fit before a 3 s deadline: Publish
	// returns at once instead of sleeping past it.
	p := newPublisher(t, srv, eventbus.Config{BaseDelay: time.Minute, MaxDelay: time.Hour, DeadlineMargin: 50 * time.Millisecond})
	acts := activities(t, 4)
	srv.FailDetailContaining("ThrottlingException", 100, acts[2].ID)

	ctx := withTimeout(t, 3*time.Second)
	err := p.Publish(ctx, acts)
	if ctx.Err() != nil {
		t.Error("Publish returned after its deadline: it slept into the backoff")
	}
	// The backoff may be short enough to fit once or more before the deadline;
	// either way the entry ends undelivered and is named, the rest published.
	checkUndelivered(t, err, acts, map[int]string{2: "ThrottlingException"})
	wantPublishedOnce(t, srv, ids([]*activity.Activity{acts[0], acts[1], acts[3]}))
}

func TestPublishInvalidActivities(t *testing.T) {
	srv := newServer(t, 0)
	p := newPublisher(t, srv, eventbus.Config{})
	acts := activities(t, 5)
	acts[1].Subject = ""
	acts[3].SchemaVersion = "2.0"

	err := p.Publish(withTimeout(t, 10*time.Second), acts)

	checkUndelivered(t, err, acts, map[int]string{1: "InvalidActivity", 3: "InvalidActivity"})
	if !errors.Is(err, activity.ErrInvalid) && !errors.Is(err, activity.ErrUnsupportedVersion) {
		t.Errorf("error does not carry the activity error: %v", err)
	}
	wantPublishedOnce(t, srv, ids([]*activity.Activity{acts[0], acts[2], acts[4]}))
}

func TestUndeliveredErrorIsBounded(t *testing.T) {
	srv := newServer(t, 0)
	p := newPublisher(t, srv, eventbus.Config{})
	acts := activities(t, 25)
	srv.FailEntries(localeventbridge.EntryFault{
		Match: func(int, *localeventbridge.Entry) bool { return true },
		Code:  "AccessDeniedException", Message: strings.Repeat("not authorized ", 50), Times: 1000,
	})

	err := p.Publish(withTimeout(t, 10*time.Second), acts)

	if !errors.Is(err, eventbus.ErrUndelivered) {
		t.Fatalf("Publish error = %v, want ErrUndelivered", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, "25 of 25 activities") || !strings.Contains(msg, "and 15 more") {
		t.Errorf("error text does not count the failures: %s", msg)
	}
	if strings.Contains(msg, "not authorized") || len(msg) > 1200 {
		t.Errorf("error text is not bounded (%d bytes): %s", len(msg), msg)
	}
}

func TestNewPublisherConfig(t *testing.T) {
	srv := newServer(t, 0)
	client := newClient(srv)
	tests := []struct {
		name   string
		client eventbus.PutEventsAPI
		cfg    eventbus.Config
		ok     bool
	}{
		{"defaults", client, eventbus.Config{BusName: testBus}, true},
		{"no bus", client, eventbus.Config{}, false},
		{"no client", nil, eventbus.Config{BusName: testBus}, false},
		{"max delay below base", client, eventbus.Config{BusName: testBus, BaseDelay: time.Second, MaxDelay: time.Millisecond}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := eventbus.NewPublisher(tt.client, tt.cfg)
			if tt.ok != (err == nil) || (err != nil && !errors.Is(err, eventbus.ErrConfig)) {
				t.Errorf("NewPublisher error = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

func TestPublishEmpty(t *testing.T) {
	srv := newServer(t, 0)
	p := newPublisher(t, srv, eventbus.Config{})
	if err := p.Publish(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if srv.Requests() != 0 {
		t.Errorf("requests = %d for no activities", srv.Requests())
	}
}

// TestPublishSharedFixtures publishes every recorded CloudTrail record in
// ../shared/fixtures: each must be accepted exactly once, within the limits.
func TestPublishSharedFixtures(t *testing.T) {
	acts := fixtureActivities(t)
	srv := newServer(t, 0)
	p := newPublisher(t, srv, eventbus.Config{})
	srv.FailIndexes("ThrottlingException", 3, 9)

	if err := p.Publish(withTimeout(t, 30*time.Second), acts); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	wantPublishedOnce(t, srv, ids(acts))
	if min := (len(acts) + 9) / 10; srv.PutEventsRequests() < min {
		t.Errorf("PutEvents requests = %d, fewer than %d", srv.PutEventsRequests(), min)
	}
	t.Logf("%d records, %d PutEvents requests", len(acts), srv.PutEventsRequests())
}

// TestPublishConcurrentCalls publishes from several goroutines at once with
// one Publisher: each call's entries share blocks that a call releases for
// the next, so a block released before its requests were sent would carry
// another call's Details by the time it went out.
func TestPublishConcurrentCalls(t *testing.T) {
	srv := newServer(t, 0)
	p := newPublisher(t, srv, eventbus.Config{})
	var all []string
	calls := make([][]*activity.Activity, 4)
	for c := range calls {
		for i := range 5 {
			acts := activities(t, 120)
			for _, a := range acts {
				a.ID = fmt.Sprintf("call%d-%d-%s", c, i, a.ID)
			}
			calls[c] = append(calls[c], acts...)
		}
		all = append(all, ids(calls[c])...)
	}
	g := new(errgroup.Group)
	for _, acts := range calls {
		g.Go(func() error {
			for chunk := range slices.Chunk(acts, 120) { // one call after another, as batches come
				if err := p.Publish(withTimeout(t, 30*time.Second), chunk); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	wantPublishedOnce(t, srv, all)
}

// TestPublishThroughEnvironmentEndpoint runs the way the Lambda does: the
// configuration comes from the environment, and AWS_ENDPOINT_URL_EVENTBRIDGE
// points the client built by NewClient at the local endpoint.
func TestPublishThroughEnvironmentEndpoint(t *testing.T) {
	srv := newServer(t, 0)
	srv.Setenv(t)
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	p, err := eventbus.NewPublisher(eventbus.NewClient(cfg), eventbus.Config{BusName: testBus, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	acts := activities(t, 3)
	if err := p.Publish(withTimeout(t, 10*time.Second), acts); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	wantPublishedOnce(t, srv, ids(acts))
}

// BenchmarkPublish publishes every shared fixture record through the real SDK
// to the local endpoint: entry encoding, batching, signing and the round trips.
func BenchmarkPublish(b *testing.B) {
	acts := fixtureActivities(b)
	srv := localeventbridge.New(localeventbridge.Options{BusName: testBus})
	defer srv.Close()
	p, err := eventbus.NewPublisher(eventbus.NewClient(srv.AWSConfig()), eventbus.Config{BusName: testBus, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := p.Publish(context.Background(), acts); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(acts)*b.N)/b.Elapsed().Seconds(), "activities/s")
}
