package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/activity-aware/ids/destinations/email"
	"github.com/activity-aware/ids/destinations/pagerduty"
	"github.com/activity-aware/ids/destinations/webhook"
	"github.com/activity-aware/ids/internal/localpagerduty"
	"github.com/activity-aware/ids/internal/localsns"
	"github.com/activity-aware/ids/internal/localteams"
	"github.com/activity-aware/ids/internal/localwebhook"
)

// runAaidsEnv is runAaids with an environment.
func runAaidsEnv(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, Stdio{In: strings.NewReader(""), Out: &out, Err: &errOut, Getenv: func(k string) string { return env[k] }})
	return code, out.String(), errOut.String()
}

func TestReplayWebhook(t *testing.T) {
	in := writeInput(t, "trail.json", `{"Records":[`+denied+`]}`)
	code, out, errOut := runAaids(t, "replay", "--format", "webhook", in)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var p webhook.Payload
	if len(lines) != 1 || json.Unmarshal([]byte(lines[0]), &p) != nil || p.Type != webhook.EventType {
		t.Fatalf("want one webhook body per line, got:\n%s", out)
	}

	srv := localwebhook.New(localwebhook.Options{})
	defer srv.Close()
	env := map[string]string{envSigningSecret: srv.Secret()}
	code, out2, errOut := runAaidsEnv(t, env, "replay", "--format", "webhook", "--post", srv.URL(), in)
	if code != exitOK || len(srv.Deliveries()) != 1 || summary(t, errOut).posted != 1 {
		t.Fatalf("--post: exit %d, %d deliveries: %s", code, len(srv.Deliveries()), errOut)
	}
	if !bytes.Equal(srv.Deliveries()[0].Body, []byte(strings.TrimSpace(out2))) {
		t.Error("what was posted differs from what was printed")
	}

	// A receiver refusing the signature: a failed post, named, without the secret.
	other := localwebhook.New(localwebhook.Options{})
	defer other.Close()
	code, _, errOut = runAaidsEnv(t, env, "replay", "--format", "webhook", "--post", other.URL(), in)
	if code != exitInput || !strings.Contains(errOut, "401 invalid_signature") || strings.Contains(errOut, srv.Secret()) {
		t.Fatalf("exit %d:\n%s", code, errOut)
	}
	// Posting needs the signing secret.
	code, _, errOut = runAaids(t, "replay", "--format", "webhook", "--post", srv.URL(), in)
	if code != exitUsage || !strings.Contains(errOut, envSigningSecret) {
		t.Fatalf("without the secret: exit %d:\n%s", code, errOut)
	}
}

func TestReplayPagerDuty(t *testing.T) {
	// The console presets make the sign-in failure high: it pages; the
	// medium denial does not.
	in := writeInput(t, "trail.json", `{"Records":[`+denied+`]}`)
	signin := "../../sample-events/console-signin-failure.json"
	args := []string{"replay", "--format", "pagerduty", "--detections", "console-signin-without-mfa,console-auth-failures", in, signin}
	code, out, errOut := runAaids(t, args...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var e pagerduty.Event
	if len(lines) != 1 || json.Unmarshal([]byte(lines[0]), &e) != nil || e.Payload.Severity != "error" || e.RoutingKey != "" {
		t.Fatalf("want one trigger event without its routing key, got:\n%s", out)
	}

	srv := localpagerduty.New(0)
	defer srv.Close()
	const key = "R0123456789abcdef0123456789ABCDE"
	code, _, errOut = runAaidsEnv(t, map[string]string{envRoutingKey: key}, append(args[:3], append([]string{"--post", srv.URL()}, args[3:]...)...)...)
	if code != exitOK || len(srv.Events()) != 1 || srv.Events()[0].RoutingKey != key {
		t.Fatalf("--post: exit %d, %d events: %s", code, len(srv.Events()), errOut)
	}
	code, _, errOut = runAaids(t, "replay", "--format", "pagerduty", "--post", srv.URL(), in)
	if code != exitUsage || !strings.Contains(errOut, envRoutingKey) {
		t.Fatalf("without the key: exit %d: %s", code, errOut)
	}
}

// TestReplayTeams checks the card printed is what --post delivers, and a
// hostile record's text is not live in it.
func TestReplayTeams(t *testing.T) {
	in := writeInput(t, "trail.json", `{"Records":[`+denied+`]}`)
	code, out, errOut := runAaids(t, "replay", "--format", "teams", in)
	if code != exitOK || localteams.CheckMessage([]byte(strings.TrimSpace(out))) != nil {
		t.Fatalf("exit %d, card %s: %s", code, out, errOut)
	}
	srv := localteams.New(localteams.PerSecond)
	defer srv.Close()
	code, _, errOut = runAaids(t, "replay", "--format", "teams", "--post", srv.URL(), in)
	if code != exitOK || len(srv.Messages()) != 1 || string(srv.Messages()[0]) != strings.TrimSpace(out) {
		t.Fatalf("--post: exit %d, %d messages: %s", code, len(srv.Messages()), errOut)
	}
	srv.Fail(localteams.NotFound(), 5)
	code, _, errOut = runAaids(t, "replay", "--format", "teams", "--post", srv.URL(), in)
	if code != exitInput || !strings.Contains(errOut, "404 WorkflowNotFound") {
		t.Fatalf("deleted workflow: exit %d: %s", code, errOut)
	}
}

// TestReplayEmail checks the mail printed is what --post publishes through
// the real SNS client to a local SNS endpoint, and a missing topic fails.
func TestReplayEmail(t *testing.T) {
	in := writeInput(t, "trail.json", `{"Records":[`+denied+`]}`)
	code, out, errOut := runAaids(t, "replay", "--format", "email", in)
	var m email.Mail
	if code != exitOK || json.Unmarshal([]byte(strings.TrimSpace(out)), &m) != nil || localsns.CheckSubject(m.Subject) != "" || m.Text == "" {
		t.Fatalf("exit %d, mail %s: %s", code, out, errOut)
	}
	const topic = "arn:aws:sns:us-east-1:123456789012:aaids-email"
	srv := localsns.New(topic)
	defer srv.Close()
	srv.Setenv(t)
	code, _, errOut = runAaids(t, "replay", "--format", "email", "--post", topic, in)
	if p := srv.Published(); code != exitOK || len(p) != 1 || p[0].Subject != m.Subject || p[0].Message != m.Text {
		t.Fatalf("--post: exit %d, published %+v: %s", code, p, errOut)
	}
	code, _, errOut = runAaids(t, "replay", "--format", "email", "--post", topic+"-gone", in)
	if code != exitInput || !strings.Contains(errOut, "NotFound") {
		t.Fatalf("missing topic: exit %d: %s", code, errOut)
	}
	if code, _, _ = runAaids(t, "replay", "--format", "email", "--post", "https://example.com/", in); code != exitUsage {
		t.Fatalf("a URL for --post: exit %d", code)
	}
}
