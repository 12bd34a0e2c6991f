package e2e

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/activity-aware/ids/correlation"
	"github.com/activity-aware/ids/destinations/slack"
	"github.com/activity-aware/ids/internal/lambdaemu"
	"github.com/activity-aware/ids/internal/probe"
	"github.com/activity-aware/ids/sources/cloudtrail"
)

// aggregationWindow replaces the template's 10-minute notification window in
// scenario 15, so the sweep after the window runs within the test.
const aggregationWindow = 20 * time.Second

var (
	eventIDInMessage = regexp.MustCompile(`Event ID: ([^"\s]+)`)
	digestCount      = regexp.MustCompile(`— (\d+) denied calls? in`)
)

// pacingQueue is one of the destination's SQS queues as its event source
// mapping sees it: messages in order, a failed one visible again at the back.
type pacingQueue struct {
	id       string
	batch    int
	mu       sync.Mutex
	messages []*queued
}

type queued struct {
	messageID, body, activityID string
	// queue is the pacing queue the rule put it in.
	queue    string
	routed   time.Time
	receives int
}

func (q *pacingQueue) push(m *queued) {
	q.mu.Lock()
	q.messages = append(q.messages, m)
	q.mu.Unlock()
}

func (q *pacingQueue) take() []*queued {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := min(q.batch, len(q.messages))
	out := q.messages[:n:n]
	q.messages = q.messages[n:]
	return out
}

func (q *pacingQueue) empty() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.messages) == 0
}

// withStopLoggingCritical is the source's environment with the template's
// detections and the self-trail-or-log-group-stopped preset, through which
// StopLogging is critical (the template's default detections are the denial
// pattern only).
func withStopLoggingCritical() map[string]string {
	dets := dep.source.Env[cloudtrail.EnvDetections]
	if !strings.Contains(dets, "self-trail-or-log-group-stopped") {
		dets += ",self-trail-or-log-group-stopped"
	}
	return map[string]string{cloudtrail.EnvDetections: dets}
}

// aggregationScenario: a burst of 500 denied calls by one principal with one
// critical activity (StopLogging) in the middle, through the template's path
// with the notification policy on: the source derives the burst, the rules
// put activities into the two pacing queues (critical and high into the
// priority one), each queue's mapping hands batches to its own execution
// environment of the destination, which reports failed messages alone;
// Slack allows about one message a second (burst 3) and answers 429 with
// Retry-After past it; some entries are delivered twice, as EventBridge may.
// After the window, the minute sweep posts the digest.
func aggregationScenario(t *testing.T, r *row) {
	const denials = 500
	p := newPipeline(t, options{
		aggregate: true,
		sourceEnv: withStopLoggingCritical(),
		destEnv:   map[string]string{slack.EnvNotifyWindow: aggregationWindow.String()},
	})
	p.slack.RateLimit(1, 3)

	queues := map[string]*pacingQueue{}
	var order []*pacingQueue
	for _, m := range dep.dests["slack"].mappings {
		if m.MaxConcurrency < 2 || m.BatchSize < 1 || len(m.ResponseTypes) != 1 || m.ResponseTypes[0] != "ReportBatchItemFailures" {
			t.Fatalf("mapping of %s: %+v", m.QueueID, m)
		}
		q := &pacingQueue{id: m.QueueID, batch: m.BatchSize}
		queues[m.QueueID] = q
		order = append(order, q)
	}
	// Each queue is read by its own execution environment (the mapping
	// allows two; one already outpaces Slack's rate).
	var (
		done                     atomic.Bool
		handled, redelivered     atomic.Int64
		parked, batchItemFailure atomic.Int64
		wg                       sync.WaitGroup
	)
	for i, q := range order {
		fn := p.dest
		if i > 0 {
			fn = p.start(dep.dest, dep.destBin, fmt.Sprintf("SlackDestination%d", i), p.destEnv, p.destTimeout)
		}
		wg.Add(1)
		go func(q *pacingQueue, fn *lambdaemu.Function) {
			defer wg.Done()
			for {
				batch := q.take()
				if len(batch) == 0 {
					if done.Load() && q.empty() {
						return
					}
					time.Sleep(10 * time.Millisecond)
					continue
				}
				failed, err := invokeBatch(fn, batch)
				if err != nil {
					t.Error(err)
					return
				}
				for _, m := range batch {
					switch {
					case !failed[m.messageID]:
						handled.Add(1)
					case m.receives >= maxReceives:
						parked.Add(1) // the failure queue keeps it
					default:
						batchItemFailure.Add(1)
						q.push(m)
					}
				}
			}
		}(q, fn)
	}

	// The source: batches of 50 records, one invocation each; what they
	// publish goes straight to the rules.
	records := probe.Burst(denials)
	var routedAt = map[string]time.Time{}
	route := func() {
		for _, e := range p.eb.Accepted()[p.delivered:] {
			p.delivered++
			ev, err := envelope(e)
			if err != nil {
				t.Fatal(err)
			}
			qid, ok, err := dep.dests["slack"].routeOf(ev)
			if err != nil || !ok {
				t.Fatalf("no rule routes %s (%v)", e.Detail[:min(80, len(e.Detail))], err)
			}
			id := detailID(e.Detail)
			m := &queued{messageID: fmt.Sprintf("m-%d", p.delivered), body: string(ev), activityID: id, routed: time.Now()}
			routedAt[id] = m.routed
			queues[qid].push(m)
			if p.delivered%20 == 0 { // EventBridge delivers at least once
				redelivered.Add(1)
				queues[qid].push(&queued{messageID: m.messageID + "-again", body: m.body, activityID: id, routed: m.routed})
			}
		}
	}
	start := time.Now()
	for i := 0; i < len(records); i += 50 {
		batch := records[i:min(i+50, len(records))]
		requireOK(t, "source", p.invokeSource(subscription(batch), len(batch)))
		route()
	}
	done.Store(true)
	wg.Wait()
	drained := time.Since(start)

	// No further traffic: the minute sweep after the window posts the digest.
	// Every window opened while the queues drained, as an activity of its
	// group was handled: a second after the drain and the window, each has
	// ended, however long a busy machine took (the start was too early).
	time.Sleep(aggregationWindow + time.Second)
	p.sweepNow(t)

	// What reached Slack.
	published := p.published()
	var bursts, denialPosts, criticalPosts, digests int
	var digestTotal int
	var criticalDelay time.Duration
	posted := map[string]int{}
	for _, m := range p.slack.Messages() {
		if mm := digestCount.FindStringSubmatch(m.Payload.Text); mm != nil && strings.HasPrefix(m.Payload.Text, "Digest: ") {
			digests++
			n, _ := strconv.Atoi(mm[1])
			digestTotal += n
			continue
		}
		id := eventIDInMessage.FindStringSubmatch(string(m.Raw))
		if id == nil {
			t.Errorf("a message names no event: %s", m.Payload.Text)
			continue
		}
		posted[id[1]]++
		switch {
		case id[1] == probe.StopLoggingID:
			criticalPosts++
			criticalDelay = m.Received.Sub(routedAt[id[1]])
		case strings.HasPrefix(id[1], correlation.DenialBurstID):
			bursts++
		default:
			denialPosts++
		}
	}
	for id, n := range posted {
		if n > 1 {
			t.Errorf("activity %s posted %d times", id, n)
		}
	}
	// Every denial is posted (the first of its window) or counted in its
	// window's digest, whose total includes the first.
	accounted := digestTotal + denialPosts - digests + criticalPosts + bursts
	lost := len(published) - accounted
	if len(published) != denials+2 || bursts != 1 || criticalPosts != 1 || digests < 1 || lost != 0 || parked.Load() != 0 {
		t.Errorf("published %d (want %d), bursts posted %d, critical posted %d, digests %d totalling %d, first posts %d, lost %d, parked %d",
			len(published), denials+2, bursts, criticalPosts, digests, digestTotal, denialPosts, lost, parked.Load())
	}
	msgs := len(p.slack.Messages())
	if msgs > 10 {
		t.Errorf("%d messages for %d activities, want a handful", msgs, len(published))
	}
	r.tally = tally{published: len(published), posted: msgs, lost: lost,
		retries: fmt.Sprintf("%d Slack 429s waited out; %d messages failed alone and redelivered; %d entries delivered twice", p.slack.RateLimited(), batchItemFailure.Load(), redelivered.Load())}
	r.outcome = fmt.Sprintf("%d messages: the first denial, the burst (“%d denied calls”), the critical StopLogging %s after it was published, %d digest(s) counting %d denials; "+
		"%d activities handled in %.1f s; none posted twice", msgs, correlation.DefaultBurstCount, criticalDelay.Round(time.Millisecond), digests, digestTotal, handled.Load(), drained.Seconds())
	t.Log(r.outcome)
}
