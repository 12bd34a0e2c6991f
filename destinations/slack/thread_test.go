package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/activity-aware/ids/correlation"
	"github.com/activity-aware/ids/internal/dynalite"
	"github.com/activity-aware/ids/internal/emfparse"
	"github.com/activity-aware/ids/internal/localslack"
	"github.com/activity-aware/ids/monitoring/metrics"
)

var local dynalite.Shared

func TestMain(m *testing.M) { os.Exit(local.Main(m)) }

// stores runs f with the in-memory store and with DynamoDB (dynalite, the
// deployed store's code against a local DynamoDB).
func stores(t *testing.T, f func(t *testing.T, s correlation.Store)) {
	t.Run("memory", func(t *testing.T) { f(t, correlation.NewMemoryStore()) })
	t.Run("dynamodb", func(t *testing.T) {
		srv, table := local.Table(t, correlation.TableSchema)
		f(t, correlation.NewDynamoDBStore(srv.Client(), table))
	})
}

var eventIDOf = regexp.MustCompile(`Event ID: ([^"\s]+)`)

// threadRig is the destination in app mode against a local Slack, with a
// notification policy in store and a clock the test moves.
type threadRig struct {
	srv *localslack.Server
	h   *Handler
	now time.Time
	mu  sync.Mutex
	// emf holds the handler's metric lines.
	emf bytes.Buffer
}

func newThreadRig(t *testing.T, store correlation.Store, threads bool, opts ...Option) *threadRig {
	s := localslack.New()
	t.Cleanup(s.Close)
	s.AddBot(botToken, botChannel)
	r := &threadRig{srv: s, now: time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)}
	r.h = &Handler{
		Secret:   &fakeSecret{value: `{"botToken":"` + botToken + `","channel":"` + botChannel + `"}`},
		Client:   testClient(append([]Option{WithAPIURL(s.APIURL())}, opts...)...),
		Trust:    testTrust,
		Logger:   slogDiscard(),
		Notifier: &correlation.Notifier{Store: store, Policy: correlation.Policy{Destination: "slack-app"}},
		Threads:  threads,
		Metrics:  metrics.New(&r.emf, "ids-SlackDestination", metrics.DimDestination, "slack"),
		Now: func() time.Time {
			r.mu.Lock()
			defer r.mu.Unlock()
			return r.now
		},
	}
	return r
}

func (r *threadRig) advance(d time.Duration) {
	r.mu.Lock()
	r.now = r.now.Add(d)
	r.mu.Unlock()
}

// burst is n denials of one principal (one group), ids denial-0…
func burst(t *testing.T, n int) []events.EventBridgeEvent {
	var evs []events.EventBridgeEvent
	for i := range n {
		evs = append(evs, eventFor(t, "testdata/iam-user-denial.activity.json", func(m map[string]any) { m["id"] = fmt.Sprintf("denial-%d", i) }))
	}
	return evs
}

// drain delivers evs as the pacing queue does: batches of up to 10, a
// failed message back at the end of the queue, until none is left; it
// returns how many receives failed.
func (r *threadRig) drain(t *testing.T, evs []events.EventBridgeEvent) (failed int) {
	t.Helper()
	type msg struct {
		id   string
		body string
	}
	var queue []msg
	for i, ev := range evs {
		b, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		queue = append(queue, msg{fmt.Sprintf("m-%d", i), string(b)})
	}
	for rounds := 0; len(queue) > 0; rounds++ {
		if rounds > 100 {
			t.Fatalf("queue not drained: %d left", len(queue))
		}
		n := min(10, len(queue))
		batch, rest := queue[:n], queue[n:]
		var sqs events.SQSEvent
		byID := map[string]msg{}
		for _, m := range batch {
			sqs.Records = append(sqs.Records, events.SQSMessage{MessageId: m.id, Body: m.body})
			byID[m.id] = m
		}
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		resp, err := r.h.HandleSQS(ctx, sqs)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		queue = rest
		for _, f := range resp.BatchItemFailures {
			queue = append(queue, byID[f.ItemIdentifier])
			failed++
		}
		r.advance(time.Second)
	}
	return failed
}

// posted counts every activity id across the channel's messages, parents
// and replies.
func (r *threadRig) posted() map[string]int {
	ids := map[string]int{}
	for _, m := range r.srv.Posted() {
		if strings.HasPrefix(m.Text, "Digest") {
			continue
		}
		for _, id := range eventIDOf.FindAllStringSubmatch(string(m.Blocks), -1) {
			ids[id[1]]++
		}
	}
	return ids
}

// checkThreadedBurst: one parent, every other activity once in its thread,
// the digest last in the thread, the parent's count the final one; nothing
// refused, nothing lost.
func (r *threadRig) checkThreadedBurst(t *testing.T, n int) {
	t.Helper()
	r.advance(correlation.DefaultWindow)
	if err := r.h.Sweep(t.Context()); err != nil {
		t.Fatal(err)
	}
	top := r.srv.TopLevel(botChannel)
	if len(top) != 1 {
		t.Fatalf("%d top-level messages, want the one parent", len(top))
	}
	replies := r.srv.Replies(botChannel, top[0].TS)
	if len(replies) != n {
		t.Fatalf("%d replies, want %d repeats and the digest", len(replies), n)
	}
	if last := replies[len(replies)-1]; !strings.HasPrefix(last.Text, "Digest") || !strings.Contains(last.Text, fmt.Sprintf("%d denied calls", n)) {
		t.Fatalf("last reply is not the digest of %d: %q", n, last.Text)
	} else if want := fmt.Sprintf("1 posted, %d in this thread", n-1); !strings.Contains(string(last.Blocks), want) {
		t.Fatalf("digest in the thread does not say %q: %s", want, last.Blocks)
	}
	ids := r.posted()
	for i := range n {
		if c := ids[fmt.Sprintf("denial-%d", i)]; c != 1 {
			t.Fatalf("denial-%d posted %d times, want once (%v)", i, c, ids)
		}
	}
	parent, _ := r.srv.Message(botChannel, top[0].TS)
	want := fmt.Sprintf(":thread: %d more in thread · window closed", n-1)
	if !strings.Contains(string(parent.Blocks), want) {
		t.Fatalf("parent's final count: want %q in %s", want, parent.Blocks)
	}
	if strings.Count(string(parent.Blocks), ":thread:") != 1 {
		t.Fatalf("parent has more than one count line: %s", parent.Blocks)
	}
	if err := localslack.CheckLimits(mustJSONMessage(t, parent)); err != nil {
		t.Fatal(err)
	}
	if refused := r.srv.Refused(); len(refused) != 0 {
		t.Fatalf("Slack refused: %v", refused)
	}
	// A second sweep has nothing left to say.
	before := len(r.srv.Posted())
	if err := r.h.Sweep(t.Context()); err != nil || len(r.srv.Posted()) != before {
		t.Fatalf("second sweep: %v, %d messages, want %d", err, len(r.srv.Posted()), before)
	}
}

func mustJSONMessage(t *testing.T, m localslack.APIMessage) []byte {
	b, err := json.Marshal(map[string]any{"text": m.Text, "blocks": m.Blocks})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// metric sums one of the handler's metrics.
func (r *threadRig) metric(t *testing.T, name string) float64 {
	t.Helper()
	data, err := emfparse.Lines(r.emf.String())
	if err != nil {
		t.Fatal(err)
	}
	return emfparse.Sum(data, metrics.Namespace, name, map[string]string{metrics.DimFunction: "ids-SlackDestination", metrics.DimDestination: "slack"})
}

// TestThreadedBurst: 25 denials of one principal, three delivered twice, in
// app mode with threads: one parent, 24 replies and the digest in its
// thread, the parent updated while the thread is short and then every 10th
// reply, and to the final count by the sweep; the metrics count 25 posts,
// 3 duplicates, nothing folded and one digest.
func TestThreadedBurst(t *testing.T) {
	stores(t, func(t *testing.T, store correlation.Store) {
		r := newThreadRig(t, store, true)
		evs := burst(t, 25)
		evs = append(evs, evs[3], evs[17], evs[24])
		if failed := r.drain(t, evs); failed != 0 {
			t.Fatalf("%d receives failed", failed)
		}
		// Replies 1…10 and 20 update the count.
		if got := r.srv.Updated(); got != 11 {
			t.Fatalf("%d chat.update calls during the burst, want 11", got)
		}
		top := r.srv.TopLevel(botChannel)
		if parent, _ := r.srv.Message(botChannel, top[0].TS); !strings.Contains(string(parent.Blocks), "20 more in thread") {
			t.Fatalf("parent's count after 24 replies: %s", parent.Blocks)
		}
		r.checkThreadedBurst(t, 25)
		if got := r.srv.Updated(); got != 12 {
			t.Fatalf("%d chat.update calls in all, want 12", got)
		}
		for name, want := range map[string]float64{metrics.Posts: 25, metrics.Duplicates: 3, metrics.Folded: 0, metrics.Digests: 1, metrics.DeliveryFailures: 0} {
			if got := r.metric(t, name); got != want {
				t.Errorf("%s = %v, want %v", name, got, want)
			}
		}
	})
}

// TestThreadedBurstFaults: the same burst while Slack rate limits, refuses
// a reply once (a permanent answer fails that message, whose retry posts it)
// and is down for a while: every activity still arrives once, in the thread.
func TestThreadedBurstFaults(t *testing.T) {
	tests := []struct {
		name   string
		faults func(*localslack.Server)
		failed bool
	}{
		{name: "rate limited", faults: func(s *localslack.Server) { s.Fail(localslack.RateLimited(1), 1) }},
		{name: "permanent error", faults: func(s *localslack.Server) { s.Fail(localslack.APIError("msg_too_long"), 1) }, failed: true},
		{name: "outage", faults: func(s *localslack.Server) { s.Fail(localslack.ServerError(), 5) }, failed: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stores(t, func(t *testing.T, store correlation.Store) {
				r := newThreadRig(t, store, true, WithMaxAttempts(2))
				evs := burst(t, 25)
				// The parent and four replies go through first.
				if failed := r.drain(t, evs[:5]); failed != 0 {
					t.Fatalf("%d receives failed before the fault", failed)
				}
				tt.faults(r.srv)
				if failed := r.drain(t, evs[5:]); (failed > 0) != tt.failed {
					t.Fatalf("%d receives failed, want failures %v", failed, tt.failed)
				}
				r.checkThreadedBurst(t, 25)
			})
		})
	}
}

// TestAppModeWithoutThreads: threads off, the app mode posts as the webhook
// mode does: the first message, then the digest, both top-level.
func TestAppModeWithoutThreads(t *testing.T) {
	r := newThreadRig(t, correlation.NewMemoryStore(), false)
	if failed := r.drain(t, burst(t, 25)); failed != 0 {
		t.Fatalf("%d receives failed", failed)
	}
	r.advance(correlation.DefaultWindow)
	if err := r.h.Sweep(t.Context()); err != nil {
		t.Fatal(err)
	}
	top := r.srv.TopLevel(botChannel)
	if len(top) != 2 || len(r.srv.Posted()) != 2 || r.srv.Updated() != 0 {
		t.Fatalf("%d top-level of %d messages, %d updates; want the first and the digest, no thread", len(top), len(r.srv.Posted()), r.srv.Updated())
	}
	if !strings.Contains(top[1].Text, "25 denied calls") || !strings.Contains(string(top[1].Blocks), "1 posted, 24 folded") {
		t.Fatalf("digest: %q", top[1].Text)
	}
}

// TestThreadRevokedToken: a revoked token fails the post permanently and
// drops the cached secret, so a rotated token is read at once.
func TestThreadRevokedToken(t *testing.T) {
	r := newThreadRig(t, correlation.NewMemoryStore(), true)
	sec := &invalidatingSecret{fakeSecret: fakeSecret{value: `{"botToken":"` + botToken + `","channel":"` + botChannel + `"}`}}
	r.h.Secret = sec
	r.srv.RevokeToken(botToken)
	if failed := r.drain(t, burst(t, 1)[:0]); failed != 0 {
		t.Fatal(failed)
	}
	ctx := t.Context()
	err := r.h.Handle(ctx, burst(t, 1)[0])
	if err == nil || !strings.Contains(err.Error(), "token_revoked") || sec.invalidated != 1 {
		t.Fatalf("err = %v, %d invalidations; want token_revoked and the secret dropped", err, sec.invalidated)
	}
	r.srv.AddBot(otherToken, botChannel)
	sec.set(`{"botToken":"` + otherToken + `","channel":"` + botChannel + `"}`)
	if err := r.h.Handle(ctx, burst(t, 1)[0]); err != nil {
		t.Fatalf("after rotation: %v", err)
	}
	if n := len(r.srv.TopLevel(botChannel)); n != 1 {
		t.Fatalf("%d messages, want the activity posted once", n)
	}
}

type invalidatingSecret struct {
	fakeSecret
	invalidated int
}

func (s *invalidatingSecret) Invalidate() { s.invalidated++ }

// TestThreadParentDeleted: someone deletes the thread's first message in
// the middle of a burst: the later repeats (Slack: thread_not_found) and the
// digest are posted on their own, none lost, none failed.
func TestThreadParentDeleted(t *testing.T) {
	stores(t, func(t *testing.T, store correlation.Store) {
		r := newThreadRig(t, store, true)
		evs := burst(t, 6)
		if failed := r.drain(t, evs[:3]); failed != 0 {
			t.Fatalf("%d receives failed", failed)
		}
		parent := r.srv.TopLevel(botChannel)[0]
		if !r.srv.DeleteMessage(botChannel, parent.TS) {
			t.Fatal("delete")
		}
		if failed := r.drain(t, evs[3:]); failed != 0 {
			t.Fatalf("%d receives failed after the parent was deleted", failed)
		}
		r.advance(correlation.DefaultWindow)
		if err := r.h.Sweep(t.Context()); err != nil {
			t.Fatal(err)
		}
		// denial-0, the parent, is gone with its message; the others are there once.
		ids := r.posted()
		for i := 1; i < 6; i++ {
			if id := fmt.Sprintf("denial-%d", i); ids[id] != 1 {
				t.Fatalf("%s posted %d times (%v)", id, ids[id], ids)
			}
		}
		top := r.srv.TopLevel(botChannel)
		if len(top) != 4 || !strings.HasPrefix(top[3].Text, "Digest") || !strings.Contains(string(top[3].Blocks), "1 posted, 5 folded") {
			t.Fatalf("%d top-level messages, want the 3 repeats after the deletion and the digest (flat): %+v", len(top), top)
		}
		if n := len(r.srv.Replies(botChannel, parent.TS)); n != 2 {
			t.Fatalf("%d replies kept, want the 2 before the deletion", n)
		}
	})
}
