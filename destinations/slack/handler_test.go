package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/destinations/secrets"
	"github.com/activity-aware/ids/eventbus"
	"github.com/activity-aware/ids/internal/localsecrets"
	"github.com/activity-aware/ids/internal/localslack"
)

func slogDiscard() *slog.Logger { return slog.New(slog.DiscardHandler) }

// testTrust trusts the account eventFor's events are published by.
var testTrust = eventbus.Trust{Accounts: []string{"123456789012"}}

// fakeSecret is a secret whose value a test can rotate.
type fakeSecret struct {
	mu    sync.Mutex
	value string
	err   error
}

func (s *fakeSecret) Value(context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.value, s.err
}

func (s *fakeSecret) set(v string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.value = v
}

var _ Secret = (*fakeSecret)(nil)

// fakeDecoder answers sts:DecodeAuthorizationMessage with a fixed document.
type fakeDecoder struct {
	doc   string
	calls int
}

func (d *fakeDecoder) DecodeAuthorizationMessage(_ context.Context, encoded string) (string, error) {
	d.calls++
	if encoded == "" {
		return "", errors.New("empty")
	}
	return d.doc, nil
}

func eventFor(t *testing.T, path string, edit func(map[string]any)) events.EventBridgeEvent {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatal(err)
		}
		edit(m)
		if data, err = json.Marshal(m); err != nil {
			t.Fatal(err)
		}
	}
	return events.EventBridgeEvent{
		Version: "0", ID: "6a7e8feb-b491-4cf7-a9f1-bf3703467718", DetailType: activity.DetailType,
		Source: activity.SourcePrefix + "cloudtrail", AccountID: "123456789012", Region: "us-east-1",
		Detail: data,
	}
}

func TestHandle(t *testing.T) {
	s := localslack.New()
	defer s.Close()
	url := s.URLFor(secretToken)
	denial := "testdata/iam-user-denial.activity.json"
	tests := []struct {
		name     string
		secret   string
		secErr   error
		event    events.EventBridgeEvent
		wantErr  error
		errText  string
		messages int
	}{
		{name: "bare URL secret", secret: url, event: eventFor(t, denial, nil), messages: 1},
		{name: "JSON secret", secret: `{"url": "` + url + `"}`, event: eventFor(t, denial, nil), messages: 1},
		{name: "any 1.x", secret: url, event: eventFor(t, denial, func(m map[string]any) { m["schemaVersion"] = "1.9"; m["futureField"] = true }), messages: 1},
		{
			name: "unknown major version", secret: url,
			event:   eventFor(t, denial, func(m map[string]any) { m["schemaVersion"] = "2.0" }),
			wantErr: activity.ErrUnsupportedVersion, errText: `"2.0"`,
		},
		{name: "secret unreadable", secErr: errors.New("secrets: AccessDeniedException"), event: eventFor(t, denial, nil), errText: "read webhook secret: secrets: AccessDeniedException"},
		{name: "secret not a Slack URL", secret: "https://evil.example/services/" + secretToken, event: eventFor(t, denial, nil), wantErr: ErrInvalidSecret, errText: "host is not"},
		{name: "secret JSON without url", secret: `{"webhook": "` + url + `"}`, event: eventFor(t, denial, nil), wantErr: ErrInvalidSecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(s.Messages())
			var logs bytes.Buffer
			h := &Handler{
				Secret: &fakeSecret{value: tt.secret, err: tt.secErr},
				Client: testClient(), Trust: testTrust,
				Logger: slog.New(slog.NewJSONHandler(&logs, nil)),
			}
			err := h.Handle(t.Context(), tt.event)
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("Handle = %v, want %v", err, tt.wantErr)
			}
			if tt.errText != "" && (err == nil || !strings.Contains(err.Error(), tt.errText)) {
				t.Fatalf("Handle = %v, want it to say %q", err, tt.errText)
			}
			if tt.wantErr == nil && tt.errText == "" && err != nil {
				t.Fatalf("Handle: %v", err)
			}
			if got := len(s.Messages()) - before; got != tt.messages {
				t.Fatalf("%d messages posted, want %d", got, tt.messages)
			}
			assertNoURL(t, err, url)
			if strings.Contains(logs.String(), secretToken) {
				t.Fatalf("logs reveal the webhook URL: %s", logs.String())
			}
			if tt.messages == 1 && !strings.Contains(logs.String(), `"activityId":"3f9e8c1a-5b2d-4c6e-9f0a-1b2c3d4e5f60"`) {
				t.Errorf("delivery log lacks the activity id: %s", logs.String())
			}
		})
	}
}

func TestHandleDeliveryFailureIsAnError(t *testing.T) {
	s := localslack.New()
	defer s.Close()
	s.Fail(localslack.ChannelIsArchived(), 1)
	h := &Handler{Secret: &fakeSecret{value: s.URL()}, Client: testClient(), Trust: testTrust}
	err := h.Handle(t.Context(), eventFor(t, "testdata/iam-user-denial.activity.json", nil))
	if !errors.Is(err, ErrPermanent) || !strings.Contains(err.Error(), "channel_is_archived") || s.Requests() != 1 {
		t.Fatalf("Handle = %v after %d requests, want a permanent channel_is_archived error after 1", err, s.Requests())
	}
}

func TestHandleUsesRotatedSecret(t *testing.T) {
	s := localslack.New()
	defer s.Close()
	secret := &fakeSecret{value: s.URLFor("before")}
	h := &Handler{Secret: secret, Client: testClient(), Trust: testTrust}
	ev := eventFor(t, "testdata/iam-user-denial.activity.json", nil)
	if err := h.Handle(t.Context(), ev); err != nil {
		t.Fatal(err)
	}
	secret.set(`{"url":"` + s.URLFor("after") + `"}`)
	if err := h.Handle(t.Context(), ev); err != nil {
		t.Fatal(err)
	}
	msgs := s.Messages()
	if len(msgs) != 2 || !strings.HasSuffix(msgs[0].Path, "/before") || !strings.HasSuffix(msgs[1].Path, "/after") {
		t.Fatalf("posted to %v, want /before then /after", paths(msgs))
	}
}

func paths(msgs []localslack.Message) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = m.Path
	}
	return out
}

func TestHandleDecodesAuthorizationMessage(t *testing.T) {
	s := localslack.New()
	defer s.Close()
	dec := &fakeDecoder{doc: `{"allowed":false,"explicitDeny":false,"matchedStatements":{"items":[]},"failures":{"items":[]},
		"context":{"principal":{"id":"AROA27EXAMPLEID:aws-go-sdk","arn":"arn:aws:sts::751353041310:assumed-role/stratus/aws-go-sdk"},
		"action":"ec2:RunInstances","resource":"arn:aws:ec2:ca-central-1:751353041310:instance/*","conditions":{"items":[]}}}`}
	h := &Handler{Secret: &fakeSecret{value: s.URL()}, Client: testClient(), Trust: testTrust, Decoder: dec}
	if err := h.Handle(t.Context(), eventFor(t, "testdata/assumed-role-ec2-denial.activity.json", nil)); err != nil {
		t.Fatal(err)
	}
	if err := h.Handle(t.Context(), eventFor(t, "testdata/iam-user-denial.activity.json", nil)); err != nil {
		t.Fatal(err)
	}
	if dec.calls != 1 {
		t.Fatalf("decoder called %d times, want once (only the encoded message)", dec.calls)
	}
	want := "*Missing:* `ec2:RunInstances` on `arn:aws:ec2:ca-central-1:751353041310:instance/*` — no policy allows it (decoded authorization message)"
	if raw := string(s.Messages()[0].Raw); !strings.Contains(raw, jsonString(want)) {
		t.Fatalf("message lacks %q:\n%s", want, raw)
	}
}

// jsonString is s as slack-go encodes it inside a JSON string.
func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return strings.Trim(string(b), `"`)
}

// TestHandleUnverified sends events a principal of another account (or of
// the organization) could put on the bus. None may render as an alert: each
// becomes the unverified-activity notice, naming the publishing account, and
// the handler does not fail (the notice is the record of the attempt).
func TestHandleUnverified(t *testing.T) {
	s := localslack.New()
	defer s.Close()
	denial := "testdata/iam-user-denial.activity.json"
	org := eventbus.Trust{Accounts: []string{"123456789012"}, Organization: true}
	from := func(account string, edit func(*events.EventBridgeEvent)) events.EventBridgeEvent {
		ev := eventFor(t, denial, nil)
		ev.AccountID = account
		if edit != nil {
			edit(&ev)
		}
		return ev
	}
	tests := []struct {
		name     string
		trust    eventbus.Trust
		ctx      func(context.Context) context.Context
		event    events.EventBridgeEvent
		verified bool
		reason   string
	}{
		{name: "trusted producer", trust: testTrust, event: from("123456789012", nil), verified: true},
		{name: "untrusted account", trust: testTrust, event: from("999999999999", nil), reason: "not a trusted producer"},
		{name: "source without the prefix", trust: testTrust, event: from("123456789012", func(e *events.EventBridgeEvent) { e.Source = "aws.ec2" }), reason: "does not start with"},
		{name: "other detail type", trust: testTrust, event: from("123456789012", func(e *events.EventBridgeEvent) { e.DetailType = "Alert" }), reason: "detail-type"},
		{name: "organization member speaking for itself", trust: org, event: from("210987654321", func(e *events.EventBridgeEvent) {
			e.Detail = []byte(strings.Replace(string(e.Detail), `"123456789012"`, `"210987654321"`, 1))
		}), verified: true},
		{name: "organization member speaking for another account", trust: org, event: from("210987654321", nil), reason: "about itself only"},
		{name: "default trust is the function's own account", ctx: ownAccount("123456789012"), event: from("123456789012", nil), verified: true},
		{name: "default trust refuses other accounts", ctx: ownAccount("123456789012"), event: from("999999999999", nil), reason: "not a trusted producer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(s.Messages())
			var logs bytes.Buffer
			h := &Handler{Secret: &fakeSecret{value: s.URL()}, Client: testClient(), Trust: tt.trust, Logger: slog.New(slog.NewJSONHandler(&logs, nil))}
			ctx := t.Context()
			if tt.ctx != nil {
				ctx = tt.ctx(ctx)
			}
			if err := h.Handle(ctx, tt.event); err != nil {
				t.Fatalf("Handle: %v", err)
			}
			msgs := s.Messages()[before:]
			if len(msgs) != 1 {
				t.Fatalf("%d messages, want 1", len(msgs))
			}
			raw := string(msgs[0].Raw)
			isNotice := strings.Contains(raw, "Unverified activity: not shown")
			if tt.verified {
				if isNotice || !strings.Contains(raw, "Access denied: IAMUser alice") {
					t.Fatalf("a verified activity should render as its alert:\n%.400s", raw)
				}
				return
			}
			if !isNotice || strings.Contains(raw, "Access denied: IAMUser alice") || strings.Contains(raw, "cloudtrailv2") {
				t.Fatalf("an unverified event rendered what it claims:\n%.600s", raw)
			}
			for _, want := range []string{jsonString("*Published by account*\n`" + tt.event.AccountID + "`"), tt.reason} {
				if !strings.Contains(raw, want) {
					t.Errorf("notice lacks %q:\n%s", want, raw)
				}
			}
			if !strings.Contains(logs.String(), `"unverified":1`) {
				t.Errorf("log does not count the unverified event: %s", logs.String())
			}
			checkMessage(t, msgs[0].Raw)
		})
	}
}

// ownAccount puts a Lambda invocation context for a function of account in
// ctx, as the runtime does.
func ownAccount(account string) func(context.Context) context.Context {
	return func(ctx context.Context) context.Context {
		return lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{
			AwsRequestID:       "req-1",
			InvokedFunctionArn: "arn:aws:lambda:us-east-1:" + account + ":function:slack-destination",
		})
	}
}

// TestHandleDropsAGoneWebhook: Slack answers that the cached webhook no
// longer exists (no_service, channel_not_found, invalid_token, 403/404/410);
// the secret was rotated meanwhile. The next event must go to the rotated
// URL, read through the real cache from a local Secrets Manager, not after
// the cache's hour; an answer that says nothing about the URL (a 5xx, a
// refused message) keeps the cached value.
func TestHandleDropsAGoneWebhook(t *testing.T) {
	tests := []struct {
		name    string
		fault   localslack.Fault
		rotated bool
	}{
		{"no_service", localslack.NoService(), true},
		{"channel_not_found", localslack.ChannelNotFound(), true},
		{"invalid_token 403", localslack.Fault{Status: 403, Body: "invalid_token"}, true},
		{"action_prohibited 403", localslack.ActionProhibited(), true},
		{"410", localslack.ChannelIsArchived(), true},
		{"invalid_blocks 400 keeps the URL", localslack.InvalidBlocks(), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := localslack.New()
			defer s.Close()
			sm := localsecrets.New("arn:aws:secretsmanager:us-east-1:123456789012:secret:hook-AbCdEf", s.URLFor("before"))
			defer sm.Close()
			client := secretsmanager.NewFromConfig(sm.AWSConfig(), func(o *secretsmanager.Options) { o.RetryMaxAttempts = 1 })
			h := &Handler{Secret: secrets.NewCache(client, sm.ARN(), time.Hour), Client: testClient(), Trust: testTrust}
			ev := eventFor(t, "testdata/iam-user-denial.activity.json", nil)
			s.Fail(tt.fault, 1)
			if err := h.Handle(t.Context(), ev); err == nil {
				t.Fatal("the refused post succeeded")
			}
			sm.SetValue(s.URLFor("after"))
			if err := h.Handle(t.Context(), ev); err != nil {
				t.Fatal(err)
			}
			want := "/before"
			if tt.rotated {
				want = "/after"
			}
			msgs := s.Messages()
			if len(msgs) != 1 || !strings.HasSuffix(msgs[0].Path, want) {
				t.Fatalf("posted to %v, want %s", paths(msgs), want)
			}
		})
	}
}
