package teams

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/activity-aware/ids/destinations/delivery"
	"github.com/activity-aware/ids/destinations/dispatch"
	"github.com/activity-aware/ids/destinations/eventtext"
	"github.com/activity-aware/ids/destinations/secrets"
	"github.com/activity-aware/ids/internal/localsecrets"
	"github.com/activity-aware/ids/internal/localteams"
	"github.com/activity-aware/ids/internal/testactivities"
)

var _ = flag.Bool("update", false, "rewrite the golden files in testdata/")

// ours is the card's own markup at the start of a text block: the severity
// line and the permission's label.
var ours = regexp.MustCompile(`^\*\*(Missing|Guardrail denial):\*\* |^\*\*[A-Z]+\*\*( · Detection: )?`)

// checkMessage asserts what every message must satisfy: Teams (as
// localteams checks it) accepts it, it fits MaxMessage, and no text from the
// event is live markup; buttons go to the AWS console only.
func checkMessage(t testing.TB, m *Message) []byte {
	t.Helper()
	body, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := localteams.CheckMessage(body); err != nil || len(body) > MaxMessage {
		t.Fatalf("Teams would refuse the message (%d bytes): %v", len(body), err)
	}
	card := m.Attachments[0].Content
	var texts []string
	for _, e := range card.Body {
		switch e["type"] {
		case "TextBlock":
			texts = append(texts, ours.ReplaceAllString(e["text"].(string), ""))
		case "FactSet":
			for _, f := range e["facts"].([]Fact) {
				texts = append(texts, f.Value)
			}
		}
	}
	for _, a := range card.Actions {
		texts = append(texts, a["title"].(string))
		if !eventtext.ConsoleURL(a["url"].(string)) {
			t.Errorf("button to %v", a["url"])
		}
	}
	for _, s := range texts {
		if live := localteams.LiveMarkup(s); len(live) > 0 {
			t.Errorf("live markup %q in %q", live, s)
		}
		for _, r := range s {
			if r < 0x20 || eventtext.Invisible(r) {
				t.Errorf("rune %U in %q", r, s)
			}
		}
	}
	return body
}

func TestRenderGolden(t *testing.T) {
	for name, a := range testactivities.Cases(t) {
		t.Run(name, func(t *testing.T) {
			body := checkMessage(t, Render(a))
			var b bytes.Buffer
			if err := json.Indent(&b, body, "", "  "); err != nil {
				t.Fatal(err)
			}
			testactivities.Golden(t, filepath.Join("testdata", name+".golden.json"), append(b.Bytes(), '\n'))
		})
	}
}

// TestRenderDigestGolden: the digest cards of a burst, of hostile
// activities and of a suppression, checked as every message is.
func TestRenderDigestGolden(t *testing.T) {
	for name, d := range testactivities.Digests(t) {
		t.Run(name, func(t *testing.T) {
			body := checkMessage(t, RenderDigest(d))
			var b bytes.Buffer
			if err := json.Indent(&b, body, "", "  "); err != nil {
				t.Fatal(err)
			}
			testactivities.Golden(t, filepath.Join("testdata", "digest-"+name+".golden.json"), append(b.Bytes(), '\n'))
		})
	}
}

func TestSafe(t *testing.T) {
	for in, want := range map[string]string{
		"- item":                  "‐ item",
		"1. all clear":            "1․ all clear",
		"**bold** [x](https://e)": "∗∗bold∗∗ ［x］(https[:]//e)",
		"mallory@evil.example":    "mallory＠evil.example",
		"# Resolved":              "＃ Resolved",
		"role/my_role":            "role/my＿role",
		"203.0.113.50":            "203.0.113.50",
		"-1 is not a list":        "-1 is not a list",
	} {
		if got := safe(in, 100); got != want {
			t.Errorf("safe(%q) = %q, want %q", in, got, want)
		}
	}
}

func testClient() *Client {
	r := delivery.NewRetrier("")
	r.BaseBackoff, r.MaxBackoff = 5*time.Millisecond, 20*time.Millisecond
	return NewClient(&http.Client{Timeout: 2 * time.Second}, &r)
}

func TestPostAnswers(t *testing.T) {
	m := Render(testactivities.Samples(t)["iam-getpolicy-denied"])
	tests := []struct {
		name      string
		fault     func(*localteams.Server)
		msg       *Message
		requests  int
		ok        bool
		status    int
		permanent bool
	}{
		{"202", func(*localteams.Server) {}, m, 1, true, 0, false},
		{"429 then 202", func(s *localteams.Server) { s.Fail(localteams.RateLimited("1"), 1) }, m, 2, true, 0, false},
		{"503 then 202", func(s *localteams.Server) { s.Fail(localteams.ServiceUnavailable(), 1) }, m, 2, true, 0, false},
		{"404 deleted workflow is permanent", func(s *localteams.Server) { s.Fail(localteams.NotFound(), 1) }, m, 1, false, 404, true},
		{"413 beyond 28 KB is permanent", func(*localteams.Server) {}, tooBig(m), 1, false, 413, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := localteams.New(0)
			defer s.Close()
			tt.fault(s)
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			n, err := testClient().Post(ctx, s.URL(), tt.msg, nil)
			if (err == nil) != tt.ok || n != tt.requests {
				t.Fatalf("Post = %d, %v", n, err)
			}
			if tt.ok {
				if len(s.Messages()) != 1 {
					t.Fatalf("%d messages", len(s.Messages()))
				}
				return
			}
			var de *delivery.Error
			if !errors.As(err, &de) || de.StatusCode != tt.status || de.Permanent != tt.permanent || strings.Contains(err.Error(), s.URL()) {
				t.Fatalf("error %v", err)
			}
		})
	}
}

// tooBig is m with a text block no renderer of ours would make.
func tooBig(m *Message) *Message {
	big := *m
	card := m.Attachments[0].Content
	card.Body = append(append([]map[string]any(nil), card.Body...), map[string]any{"type": "TextBlock", "text": strings.Repeat("x", 30*1024)})
	big.Attachments = []Attachment{{ContentType: CardContentType, Content: card}}
	return &big
}

func TestWebhookURLFromSecret(t *testing.T) {
	for v, ok := range map[string]bool{
		"https://prod-00.westeurope.logic.azure.com:443/workflows/x/triggers/manual/paths/invoke?sig=s3cr3t":           true,
		`{"url":"https://default0123.environment.api.powerplatform.com/powerautomate/automations/direct/workflows/x"}`: true,
		"https://evil.example/workflows/x": false,
		"http://prod-00.logic.azure.com/":  false,
	} {
		_, err := WebhookURLFromSecret(v)
		if (err == nil) != ok || (err != nil && strings.Contains(err.Error(), "s3cr3t")) {
			t.Errorf("WebhookURLFromSecret(%s) = %v", v, err)
		}
	}
}

func TestHandle(t *testing.T) {
	s := localteams.New(0)
	defer s.Close()
	const arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:aaids/teams-AbCdEf"
	sm := localsecrets.New(arn, s.URL())
	defer sm.Close()
	h := &dispatch.Handler{Name: "teams", Trust: testactivities.Trust, Deliverer: &Destination{
		Secret: secrets.NewCache(secretsmanager.NewFromConfig(sm.AWSConfig()), arn, time.Minute),
		Client: testClient(),
	}}
	if err := h.Handle(t.Context(), testactivities.Event(t, testactivities.Hostile())); err != nil {
		t.Fatalf("Handle: %v", err)
	}
	if len(s.Messages()) != 1 || len(s.Refused()) != 0 {
		t.Fatalf("%d messages, refused %v", len(s.Messages()), s.Refused())
	}
}
