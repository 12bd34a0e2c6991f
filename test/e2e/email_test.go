package e2e

import (
	"strings"
	"testing"

	"github.com/activity-aware/ids/destinations/email"
	"github.com/activity-aware/ids/internal/localaws"
	"github.com/activity-aware/ids/internal/localsns"
)

// TestEmailScenarios runs the e-mail destination as the template deploys it
// (EmailTopic=create) under the runtime emulator against a local SNS that
// enforces Publish's rules: success, throttled (the SDK's retryer), a
// permanent error (AuthorizationError: no retry, the invocation fails into
// Lambda's retries and the on-failure queue) and an outage (the SDK gives
// up; Lambda's retry after it delivers), with nothing lost.
func TestEmailScenarios(t *testing.T) {
	t.Run("success", func(t *testing.T) {
		t.Parallel()
		p := newPipeline(t, options{destination: "email"})
		payload, n := subscription(repoDenials(t)[:3]), 3
		requireOK(t, "source", p.invokeSource(payload, n))
		requireOK(t, "destination", p.deliver(0)...)
		want(t, p.tally(), n, n, "0")
		checkMail(t, p)
	})
	t.Run("throttled", func(t *testing.T) {
		t.Parallel()
		p := newPipeline(t, options{destination: "email"})
		requireOK(t, "source", p.invokeSource(sampleEvent(t, "iam-getpolicy-denied.json"), 1))
		p.sns.Fail(2, &localaws.Error{Status: 400, Type: "Throttling", Message: "Rate exceeded"})
		requireOK(t, "destination", p.deliver(0)...)
		want(t, p.tally(), 1, 1, "2 email")
		checkMail(t, p)
	})
	t.Run("permanent error", func(t *testing.T) {
		t.Parallel()
		p := newPipeline(t, options{destination: "email"})
		requireOK(t, "source", p.invokeSource(sampleEvent(t, "iam-getpolicy-denied.json"), 1))
		p.sns.Fail(1, localsns.ErrAuthorization)
		inv := p.deliver(0)[0]
		if inv.res.Err == nil || !strings.Contains(inv.res.Err.Message, "AuthorizationError") {
			t.Fatalf("invocation error %v, want AuthorizationError", inv.res.Err)
		}
		if n := p.sns.Requests(); n != 1 {
			t.Errorf("%d requests, want 1 (no retry of a permanent error)", n)
		}
		want(t, p.tally(), 1, 0, "0")
	})
	t.Run("outage", func(t *testing.T) {
		t.Parallel()
		p := newPipeline(t, options{destination: "email"})
		requireOK(t, "source", p.invokeSource(sampleEvent(t, "iam-getpolicy-denied.json"), 1))
		// The SDK's three attempts all fail; Lambda's retry comes after.
		p.sns.FailInternal(3)
		if first := p.deliver(1)[0]; !first.res.Failed() {
			t.Fatalf("the first delivery succeeded during the outage")
		}
		p.redeliver(0)
		want(t, p.tally(), 1, 1, "2 email + 1 Lambda")
		checkMail(t, p)
	})
}

// checkMail checks each published activity arrived once as SNS accepts it,
// with the subject the renderer gives it.
func checkMail(t *testing.T, p *pipeline) {
	t.Helper()
	msgs, acts := p.sns.Published(), p.published()
	if len(msgs) != len(acts) {
		t.Fatalf("%d mails for %d activities", len(msgs), len(acts))
	}
	for i, m := range msgs {
		want := email.Render(acts[i])
		if m.Subject != want.Subject || m.Message != want.Text || localsns.CheckSubject(m.Subject) != "" {
			t.Errorf("mail %d = %q, want %q", i, m.Subject, want.Subject)
		}
	}
}
