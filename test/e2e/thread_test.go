package e2e

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/activity-aware/ids/correlation"
	"github.com/activity-aware/ids/destinations/slack"
	"github.com/activity-aware/ids/internal/localslack"
	"github.com/activity-aware/ids/internal/probe"
)

// threadWindow replaces the template's notification window in scenario 18,
// so the sweep after it runs within the test.
const threadWindow = 15 * time.Second

// sweepNow invokes the destination as the minute schedule does, retrying as
// Lambda's asynchronous retries would.
func (p *pipeline) sweepNow(t *testing.T) {
	t.Helper()
	sweep := fmt.Sprintf(`{"version":"0","id":"sweep","detail-type":"Scheduled Event","source":"aws.events","account":%q,"time":%q,"region":%q,"resources":[],"detail":{}}`,
		localAccount, time.Now().UTC().Format(time.RFC3339), localRegion)
	for attempt := 0; ; attempt++ {
		res, err := p.dest.Invoke(context.Background(), []byte(sweep))
		if err != nil {
			t.Fatal(err)
		}
		if !res.Failed() {
			return
		}
		if attempt == 2 {
			t.Fatalf("sweep failed: %v", res.Err)
		}
	}
}

// threadScenario: the Slack destination in app mode (a bot token and a
// channel in the secret, the local Web API), the template's path with the
// notification policy on: 40 denials by one principal and a critical
// StopLogging are published, routed to the pacing queues (every 7th entry
// twice) and handed to the compiled function under the runtime emulator in
// the mapping's batches; Slack rate limits twice and fails once on the way.
// The first denial is the parent, the other 39 replies in its thread, whose
// count line chat.update keeps; after the window the sweep sets the final
// count and posts the digest as the thread's last reply. The critical and
// the derived burst are messages of their own.
func threadScenario(t *testing.T, r *row) {
	const denials = 40
	p := newPipeline(t, options{
		aggregate: true,
		slackApp:  true,
		sourceEnv: withStopLoggingCritical(),
		destEnv:   map[string]string{slack.EnvNotifyWindow: threadWindow.String()},
	})
	batchSize := dep.dests["slack"].mappings[0].BatchSize

	start := time.Now()
	records := probe.Burst(denials)
	requireOK(t, "source", p.invokeSource(subscription(records), len(records)))
	queue, redelivered := p.enqueue(t, 7)
	if p.filtered > 0 {
		t.Fatalf("the rules pass %d activities less", p.filtered)
	}
	// One execution environment takes the queue in the mapping's batches,
	// a failed message going back to the end; Slack misbehaves once the
	// thread has its parent.
	batchFailures, parked := drain(t, p.dest, queue, batchSize, func(round int) {
		if round == 0 {
			p.slack.Fail(localslack.RateLimited(1), 2)
			p.slack.Fail(localslack.ServerError(), 1)
		}
	})
	drained := time.Since(start)

	// What reached the channel.
	published := p.published()
	ids := map[string]int{}
	var denialParents []localslack.APIMessage
	top := p.slack.TopLevel(e2eChannel)
	for _, m := range top {
		id := eventIDInMessage.FindStringSubmatch(string(m.Blocks))
		if id == nil {
			t.Fatalf("a top-level message names no event: %q", m.Text)
		}
		ids[id[1]]++
		if id[1] != probe.StopLoggingID && !strings.HasPrefix(id[1], correlation.DenialBurstID) {
			denialParents = append(denialParents, m)
		}
	}
	if len(denialParents) != 1 {
		t.Fatalf("%d top-level denials, want one parent", len(denialParents))
	}
	parent := denialParents[0]
	// The window opened as its first denial was handled, before the parent
	// was posted (a ts is the local Slack's clock): a second after the
	// parent's time and the window it has ended, however long a busy
	// machine took to drain the queue (the test's start was too early).
	posted, err := strconv.ParseFloat(parent.TS, 64)
	if err != nil {
		t.Fatalf("parent ts %q: %v", parent.TS, err)
	}
	time.Sleep(time.Until(time.UnixMicro(int64(posted * 1e6)).Add(threadWindow + time.Second)))
	p.sweepNow(t)
	replies := p.slack.Replies(e2eChannel, parent.TS)
	if len(replies) != denials {
		t.Fatalf("%d replies, want %d repeats and the digest", len(replies), denials)
	}
	for _, m := range replies[:len(replies)-1] {
		id := eventIDInMessage.FindStringSubmatch(string(m.Blocks))
		if id == nil {
			t.Fatalf("a reply names no event: %q", m.Text)
		}
		ids[id[1]]++
	}
	digest := replies[len(replies)-1]
	if mm := digestCount.FindStringSubmatch(digest.Text); mm == nil || mm[1] != fmt.Sprint(denials) {
		t.Fatalf("last reply is not the digest of %d denials: %q", denials, digest.Text)
	}
	final, _ := p.slack.Message(e2eChannel, parent.TS)
	wantCount := fmt.Sprintf("%d more in thread · window closed", denials-1)
	if !strings.Contains(string(final.Blocks), wantCount) {
		t.Fatalf("parent's count: want %q in %s", wantCount, final.Blocks)
	}
	lost := 0
	for _, a := range published {
		switch ids[a.ID] {
		case 0:
			lost++
			t.Errorf("activity %s (%s) not posted", a.ID, a.Subject)
		case 1:
		default:
			t.Errorf("activity %s posted %d times", a.ID, ids[a.ID])
		}
	}
	if len(published) < denials+1 || len(p.slack.Messages()) != 0 || len(p.slack.Refused()) != 0 || parked != 0 {
		t.Fatalf("published %d, webhook messages %d, refused %v, parked %d", len(published), len(p.slack.Messages()), p.slack.Refused(), parked)
	}
	r.tally = tally{published: len(published), posted: len(p.slack.Posted()), lost: lost,
		retries: fmt.Sprintf("Slack's 429 (Retry-After: 1) twice and 500 once waited out; %d messages failed alone and redelivered; %d entries delivered twice", batchFailures, redelivered)}
	r.outcome = fmt.Sprintf("%d top-level messages (the first denial, the critical StopLogging, the burst), %d replies in the first denial's thread (%d denials and the digest of %d), "+
		"its count line updated %d times to “%s”; %d activities handled in %.1f s; none posted twice",
		len(top), len(replies), denials-1, denials, final.Updates, wantCount, len(published)+redelivered, drained.Seconds())
	t.Log(r.outcome)
}
