package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/correlation"
	"github.com/activity-aware/ids/destinations/delivery"
	"github.com/activity-aware/ids/destinations/dispatch"
	"github.com/activity-aware/ids/destinations/eventtext"
	"github.com/activity-aware/ids/destinations/secrets"
	"github.com/activity-aware/ids/destinations/webhook/signature"
	"github.com/activity-aware/ids/eventbus"
	"github.com/activity-aware/ids/internal/localsecrets"
	"github.com/activity-aware/ids/internal/localwebhook"
	"github.com/activity-aware/ids/internal/testactivities"
)

var _ = flag.Bool("update", false, "rewrite the golden files in testdata/")

func indent(t testing.TB, body []byte) []byte {
	var b bytes.Buffer
	if err := json.Indent(&b, body, "", "  "); err != nil {
		t.Fatal(err)
	}
	return append(b.Bytes(), '\n')
}

// TestRenderGolden renders every sample activity; the payload is what a
// receiver parses, so it is pinned byte for byte.
func TestRenderGolden(t *testing.T) {
	for name, a := range testactivities.Samples(t) {
		t.Run(name, func(t *testing.T) {
			body, id, err := Render(a)
			if err != nil {
				t.Fatal(err)
			}
			checkPayload(t, a, body, id)
			testactivities.Golden(t, filepath.Join("testdata", name+".golden.json"), indent(t, body))
		})
	}
}

// checkPayload asserts what every webhook must satisfy: the Standard
// Webhooks shape, the activity unchanged as data, and an id without the
// separator of the signed content.
func checkPayload(t testing.TB, a *activity.Activity, body []byte, id string) {
	t.Helper()
	var p Payload
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("payload is not JSON: %v", err)
	}
	if p.Type != EventType || !p.Timestamp.Equal(a.Time) {
		t.Errorf("type %q timestamp %v", p.Type, p.Timestamp)
	}
	back, err := activity.Parse(p.Data)
	if err != nil {
		t.Fatalf("data is not an activity: %v", err)
	}
	if back.ID != asJSON(a.ID) || back.Subject != asJSON(a.Subject) || back.Actor.UserAgent != asJSON(a.Actor.UserAgent) {
		t.Errorf("the activity changed on the way")
	}
	if strings.ContainsAny(id, ". \n") || !strings.HasPrefix(id, "msg_") || id != MessageID(a) {
		t.Errorf("webhook-id %q", id)
	}
	for _, c := range body {
		if c < 0x20 {
			t.Fatalf("raw control byte %#x in the body", c)
		}
	}
}

// TestRenderDigestGolden renders the digests of a burst, of hostile
// activities and of a suppression: the documented shape, pinned byte for
// byte.
func TestRenderDigestGolden(t *testing.T) {
	for name, d := range testactivities.Digests(t) {
		t.Run(name, func(t *testing.T) {
			body, id, err := RenderDigest(d)
			if err != nil {
				t.Fatal(err)
			}
			checkDigest(t, d, body, id)
			testactivities.Golden(t, filepath.Join("testdata", "digest-"+name+".golden.json"), indent(t, body))
		})
	}
}

// checkDigest asserts what every digest webhook must satisfy: the Standard
// Webhooks shape with the digest type, the counts as the digest states
// them, a link only to the AWS console, and an id stable for the window.
func checkDigest(t testing.TB, d *correlation.Digest, body []byte, id string) {
	t.Helper()
	var p Payload
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("payload is not JSON: %v", err)
	}
	var dd Digest
	dec := json.NewDecoder(bytes.NewReader(p.Data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&dd); err != nil {
		t.Fatalf("data is not a digest: %v", err)
	}
	if p.Type != DigestType || !p.Timestamp.Equal(d.End) || dd.SchemaVersion != DigestSchemaVersion {
		t.Errorf("type %q timestamp %v version %q", p.Type, p.Timestamp, dd.SchemaVersion)
	}
	if dd.Count != d.Count || dd.SuppressedCount != d.Suppressed || dd.Suppressed != d.BySuppression || dd.Group != d.Group() ||
		(!d.BySuppression && dd.Folded != d.Count-1) {
		t.Errorf("counts %+v, digest %+v", dd, d.Breakdown)
	}
	if dd.First.Link != "" && !eventtext.ConsoleURL(dd.First.Link) {
		t.Errorf("link to %q", dd.First.Link)
	}
	again, id2, _ := RenderDigest(d)
	if strings.ContainsAny(id, ". \n") || !strings.HasPrefix(id, "msg_") || id2 != id || !bytes.Equal(again, body) {
		t.Errorf("webhook-id %q, again %q", id, id2)
	}
	for _, c := range body {
		if c < 0x20 {
			t.Fatalf("raw control byte %#x in the body", c)
		}
	}
}

// asJSON is s as JSON carries it: invalid UTF-8 becomes U+FFFD.
func asJSON(s string) string {
	b, _ := json.Marshal(s)
	var out string
	_ = json.Unmarshal(b, &out)
	return out
}

func TestRenderHostile(t *testing.T) {
	h := testactivities.Hostile()
	ev := testactivities.Event(t, h)
	a, err := activity.Parse(ev.Detail)
	if err != nil {
		t.Fatal(err)
	}
	body, id, err := Render(a)
	if err != nil {
		t.Fatal(err)
	}
	checkPayload(t, a, body, id)
	// The same activity always carries the same id; another one never.
	other := *a
	other.ID += "x"
	if MessageID(&other) == id {
		t.Error("two activities share a webhook-id")
	}
}

func testClient() *Client {
	r := delivery.NewRetrier("")
	r.BaseBackoff, r.MaxBackoff = 5*time.Millisecond, 20*time.Millisecond
	return NewClient(&http.Client{Timeout: 2 * time.Second}, &r)
}

func sample(t testing.TB) *activity.Activity {
	return testactivities.Samples(t)["iam-getpolicy-denied"]
}

func TestPostDeliversVerifiably(t *testing.T) {
	s := localwebhook.New(localwebhook.Options{})
	defer s.Close()
	tgt, err := TargetFromSecret(s.SecretValue())
	if err != nil {
		t.Fatal(err)
	}
	a := sample(t)
	body, id, _ := Render(a)
	n, err := testClient().Post(t.Context(), tgt, id, body, nil)
	if err != nil || n != 1 {
		t.Fatalf("Post = %d, %v", n, err)
	}
	d := s.Deliveries()
	if len(d) != 1 || d[0].ID != id || !bytes.Equal(d[0].Body, body) {
		t.Fatalf("deliveries %+v", d)
	}
	// A receiver holding another secret refuses it.
	other := localwebhook.New(localwebhook.Options{})
	defer other.Close()
	tgt.URL = other.URL()
	_, err = testClient().Post(t.Context(), tgt, id, body, nil)
	var de *delivery.Error
	if !errors.As(err, &de) || de.StatusCode != http.StatusUnauthorized || !de.Permanent || de.Code != "invalid_signature" {
		t.Fatalf("Post with the wrong key = %v", err)
	}
}

func TestPostAnswers(t *testing.T) {
	tests := []struct {
		name      string
		setup     func(*localwebhook.Server)
		requests  int
		permanent bool
		ok        bool
		status    int
	}{
		{"429 then accepted, one delivery, same id", func(s *localwebhook.Server) { s.Fail(localwebhook.RateLimited("1"), 1) }, 2, false, true, 0},
		{"503 twice then accepted", func(s *localwebhook.Server) { s.Fail(localwebhook.Unavailable(), 2) }, 3, false, true, 0},
		{"410 gone is permanent", func(s *localwebhook.Server) { s.Fail(localwebhook.Gone(), 1) }, 1, true, false, 410},
		{"outage gives up, retryable", func(s *localwebhook.Server) { s.Fail(localwebhook.Unavailable(), 100) }, delivery.DefaultMaxAttempts, false, false, 503},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := localwebhook.New(localwebhook.Options{})
			defer s.Close()
			tt.setup(s)
			tgt, _ := TargetFromSecret(s.SecretValue())
			body, id, _ := Render(sample(t))
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			n, err := testClient().Post(ctx, tgt, id, body, nil)
			if (err == nil) != tt.ok || n != tt.requests || s.Requests() != tt.requests {
				t.Fatalf("Post = %d, %v after %d requests", n, err, s.Requests())
			}
			if tt.ok {
				if len(s.Deliveries()) != 1 || s.Repeats() != 0 {
					t.Fatalf("%d deliveries, %d repeats", len(s.Deliveries()), s.Repeats())
				}
				return
			}
			var de *delivery.Error
			if !errors.As(err, &de) || de.Permanent != tt.permanent || de.StatusCode != tt.status {
				t.Fatalf("error %v", err)
			}
			if strings.Contains(err.Error(), s.URL()) || strings.Contains(err.Error(), s.Secret()) {
				t.Fatalf("error reveals the target: %v", err)
			}
		})
	}
}

func TestPostRefusedBySize(t *testing.T) {
	s := localwebhook.New(localwebhook.Options{MaxBody: 1024})
	defer s.Close()
	tgt, _ := TargetFromSecret(s.SecretValue())
	body, id, _ := Render(sample(t))
	_, err := testClient().Post(t.Context(), tgt, id, body, nil)
	var de *delivery.Error
	if !errors.As(err, &de) || de.StatusCode != http.StatusRequestEntityTooLarge || !de.Permanent {
		t.Fatalf("Post of %d bytes to a 1 KiB receiver = %v", len(body), err)
	}
}

func TestTargetFromSecret(t *testing.T) {
	good := signature.GenerateSecret()
	tests := []struct{ value, problem string }{
		{`{"url":"https://hooks.example.com/x","signingSecret":"` + good + `"}`, ""},
		{`{"url":"https://hooks.example.com/x","signingSecret":"` + strings.TrimPrefix(good, signature.Prefix) + `"}`, ""},
		{`https://hooks.example.com/x`, "not a JSON object"},
		{`{"url":"http://hooks.example.com/x","signingSecret":"` + good + `"}`, "scheme"},
		{`{"url":"https://hooks.example.com/x","signingSecret":"short"}`, "signingSecret"},
		{`{"url":"https://hooks.example.com/x"}`, "signingSecret"},
	}
	for _, tt := range tests {
		_, err := TargetFromSecret(tt.value)
		if (err == nil) != (tt.problem == "") || (err != nil && (!errors.Is(err, ErrInvalidSecret) || !strings.Contains(err.Error(), tt.problem))) {
			t.Errorf("TargetFromSecret(%s) = %v, want %q", tt.value, err, tt.problem)
		}
		if err != nil && strings.Contains(err.Error(), good) {
			t.Errorf("error reveals the signing secret: %v", err)
		}
	}
}

// TestHandle runs the function's handler: the event from the bus, the secret
// from a local Secrets Manager, the webhook to a local receiver.
func TestHandle(t *testing.T) {
	s := localwebhook.New(localwebhook.Options{})
	defer s.Close()
	const arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:aaids/webhook-AbCdEf"
	sm := localsecrets.New(arn, s.SecretValue())
	defer sm.Close()
	var logs bytes.Buffer
	h := &dispatch.Handler{
		Name:      "webhook",
		Trust:     eventbus.Trust{Accounts: []string{"123456789012"}},
		Deliverer: &Destination{Secret: secrets.NewCache(secretsmanager.NewFromConfig(sm.AWSConfig()), arn, time.Minute), Client: testClient()},
		Logger:    slog.New(slog.NewJSONHandler(&logs, nil)),
	}
	a := sample(t)
	if err := h.Handle(t.Context(), testactivities.Event(t, a)); err != nil {
		t.Fatalf("Handle: %v", err)
	}
	if d := s.Deliveries(); len(d) != 1 || d[0].ID != MessageID(a) {
		t.Fatalf("deliveries %+v", d)
	}
	// Refused permanently: an error (so Lambda retries, then keeps it).
	s.Fail(localwebhook.Gone(), 1)
	err := h.Handle(t.Context(), testactivities.Event(t, a))
	if !errors.Is(err, delivery.ErrPermanent) {
		t.Fatalf("Handle after 410 = %v", err)
	}
	if strings.Contains(logs.String(), s.Secret()) || strings.Contains(logs.String(), s.URL()) {
		t.Fatal("logs reveal the secret")
	}
}
