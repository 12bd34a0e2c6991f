package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/correlation"
	"github.com/activity-aware/ids/destinations/webhook"
	"github.com/activity-aware/ids/internal/lambdaemu"
	"github.com/activity-aware/ids/internal/localsns"
	"github.com/activity-aware/ids/internal/probe"
	"github.com/activity-aware/ids/sources/cloudtrail"
)

// pacedWindow replaces the template's notification window in the paced
// scenarios, so the sweep after it runs within the test.
const pacedWindow = 10 * time.Second

// maxReceives is the pacing queues' maxReceiveCount (the template's
// default): a message failed that often is parked in the failure queue.
const maxReceives = 10

// enqueue routes the entries published since the last call through the
// destination's rules into its pacing queues, as EventBridge does: each
// message in publish order, naming the queue the matching rule targets,
// every every-th entry twice (EventBridge delivers at least once). An entry
// no rule matches is counted in p.filtered.
func (p *pipeline) enqueue(t *testing.T, every int) (messages []*queued, redelivered int) {
	t.Helper()
	for _, e := range p.eb.Accepted()[p.delivered:] {
		p.delivered++
		ev, err := envelope(e)
		if err != nil {
			t.Fatal(err)
		}
		qid, ok, err := p.dd.routeOf(ev)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			p.filtered++
			continue
		}
		m := &queued{messageID: fmt.Sprintf("m-%d", p.delivered), body: string(ev), activityID: detailID(e.Detail), routed: time.Now(), queue: qid}
		messages = append(messages, m)
		if every > 0 && p.delivered%every == 0 {
			redelivered++
			again := *m
			again.messageID += "-again"
			messages = append(messages, &again)
		}
	}
	return messages, redelivered
}

// drain hands queue to the execution environment fn as the queue's event
// source mapping does: batches of batchSize, the messages the function
// reports failed (ReportBatchItemFailures) back at the end until their
// maxReceives-th receive, then parked. after, when set, runs after each
// batch (round 0 first).
func drain(t *testing.T, fn *lambdaemu.Function, queue []*queued, batchSize int, after func(round int)) (failures, parked int) {
	t.Helper()
	for round := 0; len(queue) > 0; round++ {
		n := min(batchSize, len(queue))
		batch := queue[:n]
		queue = queue[n:]
		failed, err := invokeBatch(fn, batch)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range batch {
			switch {
			case !failed[m.messageID]:
			case m.receives >= maxReceives:
				parked++
			default:
				failures++
				queue = append(queue, m)
			}
		}
		if after != nil {
			after(round)
		}
	}
	return failures, parked
}

// invokeBatch hands batch to fn as an SQS event source mapping does (one
// more receive of each message) and returns the message ids that failed: the
// batch item failures the function reported, or every message when the
// invocation itself failed.
func invokeBatch(fn *lambdaemu.Function, batch []*queued) (failed map[string]bool, err error) {
	ev := events.SQSEvent{}
	for _, m := range batch {
		m.receives++
		ev.Records = append(ev.Records, events.SQSMessage{MessageId: m.messageID, Body: m.body, EventSource: "aws:sqs"})
	}
	payload, _ := json.Marshal(ev)
	res, err := fn.Invoke(context.Background(), payload)
	if err != nil {
		return nil, fmt.Errorf("invoke destination: %w", err)
	}
	failed = map[string]bool{}
	if res.Failed() {
		for _, m := range batch {
			failed[m.messageID] = true
		}
		return failed, nil
	}
	var resp events.SQSEventResponse
	if err := json.Unmarshal(res.Payload, &resp); err != nil {
		return nil, fmt.Errorf("destination answer %s: %w", res.Payload, err)
	}
	for _, f := range resp.BatchItemFailures {
		failed[f.ItemIdentifier] = true
	}
	return failed, nil
}

// received is what a destination's receiver got, read back: the activities
// delivered one by one (by id) and the digests' totals.
type received struct {
	ids     map[string]int
	digests []int64
	// incidents counts PagerDuty's distinct dedup keys (0 elsewhere).
	incidents int
}

var (
	teamsEventID  = regexp.MustCompile(`Event ID: ([^"·]+?)(?: · |")`)
	digestSummary = regexp.MustCompile(`: (\d+) (?:denied calls?|activit(?:y|ies)) in `)
	mailEventID   = regexp.MustCompile(`(?m)^Activity Aware IDS - source [^\n]* - event (\S+)`)
)

// pacedCase is one destination's paced scenario: its input and how its
// receiver's messages read back.
type pacedCase struct {
	destination string
	// records are the CloudTrail records published (one payload), with
	// the source's detections.
	records   func(t *testing.T) []string
	sourceEnv func() map[string]string
	// refuse makes the receiver refuse the next delivery for good (its
	// permanent error), so that message fails alone and comes back.
	refuse func(p *pipeline)
	read   func(t *testing.T, p *pipeline) received
}

// refuseOnce refuses the next delivery with the destination's permanent
// error from destinationCases.
func refuseOnce(name string) func(p *pipeline) {
	return func(p *pipeline) {
		for _, dc := range destinationCases {
			if dc.name == name {
				dc.fail(p, dc.refused, 1)
			}
		}
	}
}

var pacedCases = map[string]pacedCase{
	"webhook": {destination: "webhook", records: burstRecords, refuse: refuseOnce("webhook"), sourceEnv: withStopLoggingCritical, read: func(t *testing.T, p *pipeline) received {
		r := received{ids: map[string]int{}}
		for _, d := range p.webhook.Deliveries() {
			var body webhook.Payload
			if err := json.Unmarshal(d.Body, &body); err != nil {
				t.Fatal(err)
			}
			switch body.Type {
			case webhook.DigestType:
				var dg webhook.Digest
				if err := json.Unmarshal(body.Data, &dg); err != nil {
					t.Fatal(err)
				}
				r.digests = append(r.digests, dg.Count)
			case webhook.EventType:
				a, err := activity.Parse(body.Data)
				if err != nil {
					t.Fatal(err)
				}
				r.ids[a.ID]++
			default:
				t.Errorf("webhook of type %q", body.Type)
			}
		}
		return r
	}},
	"teams": {destination: "teams", records: burstRecords, refuse: refuseOnce("teams"), sourceEnv: withStopLoggingCritical, read: func(t *testing.T, p *pipeline) received {
		r := received{ids: map[string]int{}}
		for _, raw := range p.teams.Messages() {
			if strings.Contains(string(raw), `"text":"Digest: `) {
				r.digests = append(r.digests, digestTotal(t, string(raw)))
				continue
			}
			m := teamsEventID.FindStringSubmatch(string(raw))
			if m == nil {
				t.Fatalf("a card names no event: %.300s", raw)
			}
			r.ids[m[1]]++
		}
		return r
	}},
	"email": {destination: "email", records: burstRecords, refuse: func(p *pipeline) { p.sns.Fail(1, localsns.ErrAuthorization) }, sourceEnv: withStopLoggingCritical, read: func(t *testing.T, p *pipeline) received {
		r := received{ids: map[string]int{}}
		for _, m := range p.sns.Published() {
			if strings.HasPrefix(m.Subject, "[") && strings.Contains(m.Subject, "] Digest: ") {
				r.digests = append(r.digests, digestTotal(t, m.Message))
				continue
			}
			id := mailEventID.FindStringSubmatch(m.Message)
			if id == nil {
				t.Fatalf("a mail names no event: %q", m.Subject)
			}
			r.ids[id[1]]++
		}
		return r
	}},
	// PagerDuty pages for high and above: a burst of console sign-in
	// failures (high with the console presets) by one user.
	"pagerduty": {destination: "pagerduty", records: signInFailures, refuse: refuseOnce("pagerduty"), sourceEnv: func() map[string]string {
		return map[string]string{cloudtrail.EnvDetections: "console-signin-without-mfa,console-auth-failures"}
	},
		read: func(t *testing.T, p *pipeline) received {
			r := received{ids: map[string]int{}}
			keys := map[string]bool{}
			for _, e := range p.pagerduty.Events() {
				keys[e.DedupKey] = true
				if e.Payload.Class == "digest" {
					n, err := strconv.ParseInt(e.Payload.CustomDetails["count"], 10, 64)
					if err != nil {
						t.Fatalf("digest count %q", e.Payload.CustomDetails["count"])
					}
					r.digests = append(r.digests, n)
					continue
				}
				r.ids[e.Payload.CustomDetails["activity id"]]++
			}
			r.incidents = len(keys)
			return r
		}},
}

// digestTotal reads a digest's total from its summary line.
func digestTotal(t *testing.T, text string) int64 {
	t.Helper()
	m := digestSummary.FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("a digest states no total: %.400s", text)
	}
	n, _ := strconv.ParseInt(m[1], 10, 64)
	return n
}

// pacedDenials is the burst the paced scenarios publish (beyond the
// source's burst threshold, so the source derives the burst too).
const pacedDenials = 24

func burstRecords(*testing.T) []string { return probe.Burst(pacedDenials) }

// signInFailures are 12 copies of the recorded console sign-in failure,
// each its own event.
func signInFailures(t *testing.T) []string {
	data, err := os.ReadFile(filepath.Join(repoRoot(), "sample-events", "decoded", "console-signin-failure.json"))
	if err != nil {
		t.Fatal(err)
	}
	var payload struct {
		LogEvents []struct{ Message string } `json:"logEvents"`
	}
	if err := json.Unmarshal(data, &payload); err != nil || len(payload.LogEvents) == 0 {
		t.Fatalf("sample: %v", err)
	}
	out := make([]string, 12)
	for i := range out {
		out[i] = withEventID(t, payload.LogEvents[0].Message, fmt.Sprintf("signin-failure-%02d", i))
	}
	return out
}

// pacedScenario runs one destination's template path with the notification
// policy on: the source publishes a burst, the rules put it into the two
// pacing queues (every 5th entry twice), each queue's mapping hands its
// batches to its own execution environment of the compiled function under
// the runtime emulator; the receiver refuses the first delivery for good
// once (that message fails alone and is delivered when it comes back);
// after the window the minute sweep delivers the digest. The group's first activity is delivered at once, the repeats are
// folded into the one digest, critical and high activities of other groups
// are delivered on their own; each activity is delivered or counted once.
func pacedScenario(name string) func(t *testing.T, r *row) {
	return func(t *testing.T, r *row) {
		pc := pacedCases[name]
		p := newPipeline(t, options{
			destination: pc.destination, aggregate: true, sourceEnv: pc.sourceEnv(),
			destEnv: map[string]string{correlation.EnvNotifyWindow: pacedWindow.String()},
		})
		records := pc.records(t)
		pc.refuse(p)
		requireOK(t, "source", p.invokeSource(subscription(records), len(records)))
		messages, redelivered := p.enqueue(t, 5)
		queues := map[string][]*queued{}
		for _, m := range messages {
			queues[m.queue] = append(queues[m.queue], m)
		}
		if len(p.dd.mappings) != 2 {
			t.Fatalf("%d event source mappings, want the two pacing queues'", len(p.dd.mappings))
		}
		failures, parked := 0, 0
		for i, m := range p.dd.mappings {
			if m.MaxConcurrency != 2 || len(m.ResponseTypes) != 1 || m.ResponseTypes[0] != "ReportBatchItemFailures" {
				t.Fatalf("mapping of %s: %+v", m.QueueID, m)
			}
			fn := p.dest
			if i > 0 {
				fn = p.start(p.dd.fn, p.dd.bin, fmt.Sprintf("%s%d", name, i), p.destEnv, p.destTimeout)
			}
			f, k := drain(t, fn, queues[m.QueueID], m.BatchSize, nil)
			failures, parked = failures+f, parked+k
			delete(queues, m.QueueID)
		}
		if len(queues) > 0 {
			t.Fatalf("rules fill queues no mapping drains: %v", queues)
		}
		// Every window opened while the queues drained: a second after the
		// drain and the window, each has ended (see aggregationScenario).
		time.Sleep(pacedWindow + time.Second)
		p.sweepNow(t)

		got := pc.read(t, p)
		routed := map[string]bool{}
		for _, a := range p.published() {
			routed[a.ID] = true
		}
		delivered := 0
		for id, n := range got.ids {
			if n > 1 {
				t.Errorf("activity %s delivered %d times", id, n)
			}
			if !routed[id] {
				t.Errorf("delivered %q, which was never published", id)
			}
			delivered++
		}
		var folded int64
		for _, n := range got.digests {
			folded += n - 1 // a digest's total counts its group's first, delivered
		}
		// What the rules passed is delivered, or folded into a digest.
		passed := len(routed) - p.filtered
		lost := passed - delivered - int(folded)
		if lost != 0 || len(got.digests) != 1 || parked != 0 || failures != 1 {
			t.Errorf("published %d, passed the rules %d, delivered %d, digests %v, lost %d, parked %d, failed alone %d (want 1)",
				len(routed), passed, delivered, got.digests, lost, parked, failures)
		}
		if name == "pagerduty" && got.incidents != delivered {
			t.Errorf("%d incidents (dedup keys) for %d triggered activities: the digest opened one of its own", got.incidents, delivered)
		}
		r.tally = tally{published: len(routed), posted: delivered + len(got.digests), lost: lost,
			retries: fmt.Sprintf("%d messages failed alone and redelivered; %d entries delivered twice", failures, redelivered)}
		r.outcome = fmt.Sprintf("%d of %d activities passed the rules: %d delivered at once, the burst's repeats folded into %d digest(s) of %v; none delivered twice, none parked",
			passed, len(routed), delivered, len(got.digests), got.digests)
		if name == "pagerduty" {
			r.outcome += fmt.Sprintf("; %d incident(s)", got.incidents)
		}
		t.Logf("published %d, delivered %d, lost %d; %s; %s", r.tally.published, r.tally.posted, r.tally.lost, r.tally.retries, r.outcome)
	}
}
