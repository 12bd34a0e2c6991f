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

	"github.com/aws/aws-lambda-go/events"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/eventbus"
	"github.com/activity-aware/ids/internal/localslack"
)

func slogDiscard() *slog.Logger { return slog.New(slog.DiscardHandler) }

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
		{
			name: "not an activity", secret: url,
			event:   func() events.EventBridgeEvent { e := eventFor(t, denial, nil); e.Source = "aws.ec2"; return e }(),
			wantErr: eventbus.ErrNotActivity,
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
				Client: testClient(),
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
	h := &Handler{Secret: &fakeSecret{value: s.URL()}, Client: testClient()}
	err := h.Handle(t.Context(), eventFor(t, "testdata/iam-user-denial.activity.json", nil))
	if !errors.Is(err, ErrPermanent) || !strings.Contains(err.Error(), "channel_is_archived") || s.Requests() != 1 {
		t.Fatalf("Handle = %v after %d requests, want a permanent channel_is_archived error after 1", err, s.Requests())
	}
}

func TestHandleUsesRotatedSecret(t *testing.T) {
	s := localslack.New()
	defer s.Close()
	secret := &fakeSecret{value: s.URLFor("before")}
	h := &Handler{Secret: secret, Client: testClient()}
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
	h := &Handler{Secret: &fakeSecret{value: s.URL()}, Client: testClient(), Decoder: dec}
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
