package pagerduty

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/destinations/delivery"
	"github.com/activity-aware/ids/destinations/dispatch"
	"github.com/activity-aware/ids/destinations/eventtext"
	"github.com/activity-aware/ids/destinations/secrets"
	"github.com/activity-aware/ids/internal/localpagerduty"
	"github.com/activity-aware/ids/internal/localsecrets"
	"github.com/activity-aware/ids/internal/testactivities"
)

var _ = flag.Bool("update", false, "rewrite the golden files in testdata/")

const testKey = "R0123456789abcdef0123456789ABCDE"

// encode is the event as sent, with the routing key.
func encode(t testing.TB, e *Event) []byte {
	t.Helper()
	withKey := *e
	withKey.RoutingKey = testKey
	b, err := json.Marshal(&withKey)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// checkEvent asserts what every event must satisfy: PagerDuty (as
// localpagerduty checks it) accepts it, and no string from the activity
// carries a line break, an angle bracket, a live URL scheme or an invisible
// character; links go to the AWS console only.
func checkEvent(t testing.TB, e *Event) {
	t.Helper()
	if problems := localpagerduty.Check(encode(t, e)); len(problems) > 0 {
		t.Fatalf("PagerDuty would refuse the event: %v", problems)
	}
	texts := []string{e.DedupKey, e.Payload.Summary, e.Payload.Source, e.Payload.Class, e.Payload.Component, e.Payload.Group}
	for k, v := range e.Payload.CustomDetails {
		texts = append(texts, k, v)
	}
	for _, l := range e.Links {
		texts = append(texts, l.Text)
		if !eventtext.ConsoleURL(l.Href) {
			t.Errorf("link to %q", l.Href)
		}
	}
	for _, s := range texts {
		if strings.ContainsAny(s, "\n\r<>") || strings.Contains(s, "://") {
			t.Errorf("unsafe text %q", s)
		}
		for _, r := range s {
			if r < 0x20 || eventtext.Invisible(r) {
				t.Errorf("rune %U in %q", r, s)
			}
		}
	}
	if n := utf8.RuneCountInString(e.Payload.Summary); n > MaxSummary {
		t.Errorf("summary of %d characters", n)
	}
}

func indent(t testing.TB, e *Event) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(e); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestRenderGolden(t *testing.T) {
	for name, a := range testactivities.Cases(t) {
		t.Run(name, func(t *testing.T) {
			e := Render(a)
			checkEvent(t, e)
			testactivities.Golden(t, filepath.Join("testdata", name+".golden.json"), indent(t, e))
		})
	}
}

// TestRenderDigestGolden: a group's digest is a trigger on the group's
// incident (the dedup_key its first activity triggered), checked as every
// event is; a suppression's digest does not page.
func TestRenderDigestGolden(t *testing.T) {
	sample := testactivities.Samples(t)["iam-getpolicy-denied"]
	for name, d := range testactivities.Digests(t) {
		t.Run(name, func(t *testing.T) {
			e := RenderDigest(d)
			if d.BySuppression {
				if e != nil {
					t.Fatalf("a suppression's digest pages: %+v", e)
				}
				return
			}
			checkEvent(t, e)
			if name == "sample-burst" && e.DedupKey != DedupKey(sample) {
				t.Errorf("digest dedup_key %q, the burst's first activity's %q: two incidents", e.DedupKey, DedupKey(sample))
			}
			testactivities.Golden(t, filepath.Join("testdata", "digest-"+name+".golden.json"), indent(t, e))
		})
	}
}

func TestRenderSeverityAndDedup(t *testing.T) {
	a := testactivities.Samples(t)["iam-getpolicy-denied"]
	for sev, want := range map[activity.Severity]string{activity.Critical: "critical", activity.High: "error", activity.Medium: "warning", activity.Low: "info", activity.Info: "info"} {
		b := *a
		b.Severity = sev
		if got := Render(&b).Payload.Severity; got != want {
			t.Errorf("%s → %s, want %s", sev, got, want)
		}
	}
	// The same principal's next denial of the same kind is the same incident;
	// another principal's is not.
	next := *a
	next.ID, next.Time = "other-event", a.Time.Add(time.Minute)
	other := *a
	actor := *a.Actor
	actor.ARN = "arn:aws:iam::111122223333:user/someone-else"
	other.Actor = &actor
	if DedupKey(&next) != DedupKey(a) || DedupKey(&other) == DedupKey(a) || len(DedupKey(a)) > MaxDedupKey {
		t.Errorf("dedup keys %q %q %q", DedupKey(a), DedupKey(&next), DedupKey(&other))
	}
}

func testClient(url string) *Client {
	r := delivery.NewRetrier("")
	r.BaseBackoff, r.MaxBackoff = 5*time.Millisecond, 20*time.Millisecond
	return NewClient(&http.Client{Timeout: 2 * time.Second}, url, &r)
}

func TestSendAnswers(t *testing.T) {
	e := Render(testactivities.Samples(t)["iam-getpolicy-denied"])
	tests := []struct {
		name      string
		fault     func(*localpagerduty.Server)
		key       string
		requests  int
		ok        bool
		permanent bool
		status    int
		code      string
	}{
		{"202 accepted", func(*localpagerduty.Server) {}, testKey, 1, true, false, 0, ""},
		{"429 then 202", func(s *localpagerduty.Server) { s.Fail(localpagerduty.RateLimited("1"), 1) }, testKey, 2, true, false, 0, ""},
		{"500 twice then 202", func(s *localpagerduty.Server) { s.Fail(localpagerduty.ServerError(), 2) }, testKey, 3, true, false, 0, ""},
		{"400 invalid event is permanent", func(*localpagerduty.Server) {}, strings.Repeat("x", 31), 1, false, true, 400, "invalid event"},
		{"outage gives up, retryable", func(s *localpagerduty.Server) { s.Fail(localpagerduty.ServerError(), 100) }, testKey, delivery.DefaultMaxAttempts, false, false, 500, "internal error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := localpagerduty.New(0)
			defer s.Close()
			tt.fault(s)
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			n, err := testClient(s.URL()).Send(ctx, tt.key, e, nil)
			if (err == nil) != tt.ok || n != tt.requests || s.Requests() != tt.requests {
				t.Fatalf("Send = %d, %v after %d requests", n, err, s.Requests())
			}
			if tt.ok {
				if len(s.Events()) != 1 {
					t.Fatalf("%d events", len(s.Events()))
				}
				return
			}
			var de *delivery.Error
			if !errors.As(err, &de) || de.Permanent != tt.permanent || de.StatusCode != tt.status || de.Code != tt.code {
				t.Fatalf("error %#v", err)
			}
			if strings.Contains(err.Error(), tt.key) {
				t.Fatal("the error reveals the routing key")
			}
		})
	}
}

func TestRoutingKeyFromSecret(t *testing.T) {
	for value, ok := range map[string]bool{
		testKey:                             true,
		`{"routingKey":"` + testKey + `"}`:  true,
		"short":                             false,
		`{"routingKey":"` + testKey + `x"}`: false,
		`{"url":"x"}`:                       false,
	} {
		got, err := RoutingKeyFromSecret(value)
		if (err == nil) != ok || (ok && got != testKey) || (err != nil && strings.Contains(err.Error(), testKey)) {
			t.Errorf("RoutingKeyFromSecret(%s) = %q, %v", value, got, err)
		}
	}
	if _, err := ConfigFromEnv(func(k string) string {
		return map[string]string{EnvSecretARN: "arn:x", EnvEventsURL: "https://evil.example/v2/enqueue"}[k]
	}); err == nil {
		t.Error("an events URL outside PagerDuty passed")
	}
}

// TestHandle runs the function's handler against local Secrets Manager and
// PagerDuty: a burst of one principal's denials is one alert.
func TestHandle(t *testing.T) {
	s := localpagerduty.New(0)
	defer s.Close()
	const arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:aaids/pagerduty-AbCdEf"
	sm := localsecrets.New(arn, `{"routingKey":"`+testKey+`"}`)
	defer sm.Close()
	h := &dispatch.Handler{Name: "pagerduty", Trust: testactivities.Trust, Deliverer: &Destination{
		Secret: secrets.NewCache(secretsmanager.NewFromConfig(sm.AWSConfig()), arn, time.Minute),
		Client: testClient(s.URL()),
	}}
	a := testactivities.Samples(t)["iam-getpolicy-denied"]
	for i := range 3 {
		b := *a
		b.ID = a.ID + string(rune('a'+i))
		if err := h.Handle(t.Context(), testactivities.Event(t, &b)); err != nil {
			t.Fatalf("Handle: %v", err)
		}
	}
	if alerts := s.Alerts(); len(alerts) != 1 || alerts[DedupKey(a)] != 3 {
		t.Fatalf("alerts %v, want one with 3 triggers", alerts)
	}
	if s.Events()[0].RoutingKey != testKey {
		t.Error("routing key not sent")
	}
}
