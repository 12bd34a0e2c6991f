package e2e

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/destinations/pagerduty"
	"github.com/activity-aware/ids/destinations/teams"
	"github.com/activity-aware/ids/destinations/webhook"
	"github.com/activity-aware/ids/internal/localeventbridge"
	"github.com/activity-aware/ids/internal/localhttp"
	"github.com/activity-aware/ids/internal/localpagerduty"
	"github.com/activity-aware/ids/internal/localteams"
	"github.com/activity-aware/ids/internal/localwebhook"
	"github.com/activity-aware/ids/sources/cloudtrail"
)

// destinationCase is what the common scenarios need of one destination
// beyond Slack: its faults as its service answers them.
type destinationCase struct {
	name string
	// fail queues a fault on the pipeline's receiver.
	fail func(p *pipeline, f localhttp.Fault, times int)
	// rateLimited answers 429 with Retry-After: 1; unavailable a 5xx;
	// refused a permanent 4xx with the status and code it carries.
	rateLimited, unavailable, refused localhttp.Fault
	refusedCode                       string
	// one is the sample event every scenario but success publishes (its
	// activity must pass the rule's default filter); batch is success's
	// input and its count.
	one   string
	batch func(t *testing.T) ([]byte, int)
	// sourceEnv configures the source, e.g. detections that make its
	// activities severe enough for the destination's default filter.
	sourceEnv map[string]string
	// check asserts what the receiver got for the published activities.
	check func(t *testing.T, p *pipeline)
}

var destinationCases = []destinationCase{
	{
		name:        "webhook",
		fail:        func(p *pipeline, f localhttp.Fault, n int) { p.webhook.Fail(f, n) },
		rateLimited: localwebhook.RateLimited("1"),
		unavailable: localwebhook.Unavailable(),
		refused:     localwebhook.Gone(),
		refusedCode: "410",
		one:         "iam-getpolicy-denied.json",
		batch: func(t *testing.T) ([]byte, int) {
			return subscription(repoDenials(t)[:3]), 3
		},
		check: checkWebhooks,
	},
	{
		name:        "pagerduty",
		fail:        func(p *pipeline, f localhttp.Fault, n int) { p.pagerduty.Fail(f, n) },
		rateLimited: localpagerduty.RateLimited("1"),
		unavailable: localpagerduty.ServerError(),
		// A 400 from PagerDuty: the event it refused.
		refused:     localhttp.Fault{Status: 400, ContentType: "application/json", Body: `{"status":"invalid event","message":"Event object is invalid","errors":["'routing_key' is invalid"]}`},
		refusedCode: "400 invalid event",
		// With the console presets on, the console sign-in failure is high:
		// the default rule pages for it.
		one:       "console-signin-failure.json",
		sourceEnv: map[string]string{cloudtrail.EnvDetections: "console-signin-without-mfa,console-auth-failures"},
		batch: func(t *testing.T) ([]byte, int) {
			return sampleEvent(t, "console-signin-failure.json"), 1
		},
		check: checkPagerDuty,
	},
	{
		name:        "teams",
		fail:        func(p *pipeline, f localhttp.Fault, n int) { p.teams.Fail(f, n) },
		rateLimited: localteams.RateLimited("1"),
		unavailable: localteams.ServiceUnavailable(),
		refused:     localteams.NotFound(),
		refusedCode: "404 WorkflowNotFound",
		one:         "iam-getpolicy-denied.json",
		batch: func(t *testing.T) ([]byte, int) {
			return subscription(repoDenials(t)[:3]), 3
		},
		check: checkTeams,
	},
}

// TestDestinationScenarios runs success, rate limited, permanent error and
// outage against every destination besides Slack (whose scenarios are in
// TestScenarios), each on a fresh pipeline: the real source and the
// destination function under the runtime emulator, its secret from local
// Secrets Manager, its service a local endpoint enforcing the protocol.
func TestDestinationScenarios(t *testing.T) {
	for _, dc := range destinationCases {
		t.Run(dc.name+"/success", func(t *testing.T) {
			t.Parallel()
			p := newPipeline(t, options{destination: dc.name, sourceEnv: dc.sourceEnv})
			payload, n := dc.batch(t)
			requireOK(t, "source", p.invokeSource(payload, n))
			requireOK(t, "destination", p.deliver(0)...)
			want(t, p.tally(), n, n, "0")
			dc.check(t, p)
		})
		t.Run(dc.name+"/rate limited", func(t *testing.T) {
			t.Parallel()
			p := newPipeline(t, options{destination: dc.name, sourceEnv: dc.sourceEnv})
			requireOK(t, "source", p.invokeSource(sampleEvent(t, dc.one), 1))
			dc.fail(p, dc.rateLimited, 2)
			invs := p.deliver(0)
			requireOK(t, "destination", invs...)
			want(t, p.tally(), 1, 1, "2 "+dc.name)
			if d := invs[0].res.Duration; d < 2*time.Second {
				t.Errorf("delivered after %s, want at least the 2 s the receiver asked for", d)
			}
			dc.check(t, p)
		})
		t.Run(dc.name+"/permanent error", func(t *testing.T) {
			t.Parallel()
			p := newPipeline(t, options{destination: dc.name, sourceEnv: dc.sourceEnv})
			requireOK(t, "source", p.invokeSource(sampleEvent(t, dc.one), 1))
			dc.fail(p, dc.refused, 1)
			inv := p.deliver(0)[0]
			if inv.res.Err == nil || !strings.Contains(inv.res.Err.Message, dc.refusedCode) || !strings.Contains(inv.res.Err.Message, "permanent") && !strings.Contains(inv.res.Err.Message, "answered") {
				t.Fatalf("invocation error %v, want one carrying %s", inv.res.Err, dc.refusedCode)
			}
			if n := p.recv.Requests(); n != 1 {
				t.Errorf("%d requests, want 1 (no retry of a permanent error)", n)
			}
			// Kept: the failed invocation goes to Lambda's retries and the
			// on-failure queue; nothing is counted lost.
			want(t, p.tally(), 1, 0, "0")
		})
		t.Run(dc.name+"/outage", func(t *testing.T) {
			t.Parallel()
			p := newPipeline(t, options{destination: dc.name, sourceEnv: dc.sourceEnv})
			requireOK(t, "source", p.invokeSource(sampleEvent(t, dc.one), 1))
			// Every attempt of the first invocation fails; Lambda's
			// asynchronous retry comes after the outage.
			dc.fail(p, dc.unavailable, 5)
			first := p.deliver(1)[0]
			if !first.res.Failed() {
				t.Fatalf("the first delivery succeeded during the outage")
			}
			p.redeliver(0)
			tl := p.tally()
			want(t, tl, 1, 1, "4 "+dc.name+" + 1 Lambda")
			dc.check(t, p)
		})
	}
}

// redeliver invokes the destination again with the i-th published entry, as
// Lambda's asynchronous retry of a failed invocation does.
func (p *pipeline) redeliver(i int) {
	p.t.Helper()
	e := p.eb.Accepted()[i]
	ev, err := envelope(e)
	if err != nil {
		p.t.Fatal(err)
	}
	before := p.recv.Accepted()
	res, err := p.dest.Invoke(context.Background(), ev)
	if err != nil {
		p.t.Fatalf("invoke destination: %v", err)
	}
	inv := invocation{res: res, units: 1, out: p.recv.Accepted() - before, id: detailID(e.Detail)}
	if res.Failed() {
		p.t.Fatalf("the retry failed too: %v", res.Err)
	}
	if inv.out != 1 {
		p.lost++
	}
	p.lambdaRetries++
	p.byDest = append(p.byDest, inv)
}

// checkWebhooks checks that each published activity arrived once, signed
// (the receiver verified it), with the webhook-id derived from it and the
// activity unchanged as its data.
func checkWebhooks(t *testing.T, p *pipeline) {
	t.Helper()
	byID := map[string]localwebhook.Delivery{}
	for _, d := range p.webhook.Deliveries() {
		if _, dup := byID[d.ID]; dup {
			t.Errorf("webhook-id %s delivered twice", d.ID)
		}
		byID[d.ID] = d
	}
	for _, a := range p.published() {
		d, ok := byID[webhook.MessageID(a)]
		if !ok {
			t.Errorf("activity %s has no webhook", a.ID)
			continue
		}
		var body webhook.Payload
		if err := json.Unmarshal(d.Body, &body); err != nil {
			t.Fatal(err)
		}
		got, err := activity.Parse(body.Data)
		if err != nil || got.ID != a.ID || got.Subject != a.Subject || body.Type != webhook.EventType {
			t.Errorf("webhook for %s carries %+v (%v)", a.ID, body.Type, err)
		}
	}
	if len(byID) != len(p.published()) {
		t.Errorf("%d webhooks for %d activities", len(byID), len(p.published()))
	}
}

// checkPagerDuty checks that each published activity triggered one event
// with the routing key of the secret, the activity's dedup key and the
// severity mapped, and that a medium activity does not pass the rule.
func checkPagerDuty(t *testing.T, p *pipeline) {
	t.Helper()
	events := p.pagerduty.Events()
	acts := p.published()
	if len(events) != len(acts) {
		t.Fatalf("%d events for %d activities", len(events), len(acts))
	}
	for i, a := range acts {
		e := events[i]
		if e.RoutingKey != e2eRoutingKey || e.DedupKey != pagerduty.DedupKey(a) || e.Payload.Severity != pagerduty.Severity(a.Severity) {
			t.Errorf("event %d: key %q dedup %q severity %q", i, e.RoutingKey, e.DedupKey, e.Payload.Severity)
		}
	}
	medium := localeventbridge.Entry{Source: "activity-aware-ids.cloudtrail", DetailType: "Activity",
		Detail: `{"schemaVersion":"1.0","id":"m","source":"cloudtrail","subject":"s","severity":"medium","time":"2024-01-01T00:00:00Z","account":{"id":"111122223333"}}`}
	ev, err := envelope(medium)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := p.dd.routeOf(ev); ok || err != nil {
		t.Errorf("the PagerDuty rule passes a medium activity (%v)", err)
	}
}

// checkTeams checks that each published activity arrived as one card
// Teams accepts, headed by the activity's subject.
func checkTeams(t *testing.T, p *pipeline) {
	t.Helper()
	msgs := p.teams.Messages()
	acts := p.published()
	if len(msgs) != len(acts) || len(p.teams.Refused()) > 0 {
		t.Fatalf("%d cards for %d activities; refused %v", len(msgs), len(acts), p.teams.Refused())
	}
	for i, raw := range msgs {
		var m teams.Message
		if err := json.Unmarshal(raw, &m); err != nil || localteams.CheckMessage(raw) != nil {
			t.Fatalf("card %d: %v", i, err)
		}
		if h, _ := m.Attachments[0].Content.Body[0]["text"].(string); h == "" || !strings.Contains(acts[i].Subject, strings.Split(h, " ")[0]) {
			t.Errorf("card %d header %q, activity %q", i, h, acts[i].Subject)
		}
	}
}
