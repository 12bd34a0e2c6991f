package slack

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	slackapi "github.com/slack-go/slack"

	"github.com/activity-aware/ids/internal/localslack"
)

// secretToken is the webhook path's secret part; no error may show it.
const secretToken = "s3cr3tT0ken"

func testClient(opts ...Option) *Client {
	return NewClient(&http.Client{Timeout: 5 * time.Second}, append([]Option{WithBackoff(10*time.Millisecond, 50*time.Millisecond), WithLoopback()}, opts...)...)
}

func testMessage(t *testing.T) *slackapi.WebhookMessage {
	return Render(loadActivity(t, "testdata/iam-user-denial.activity.json"))
}

// faultyServer is a local Slack that answers every post with fault, and its
// webhook URL.
func faultyServer(t *testing.T, fault localslack.Fault) (*localslack.Server, string) {
	t.Helper()
	s := localslack.New()
	t.Cleanup(s.Close)
	s.Fail(fault, 100)
	return s, s.URLFor(secretToken)
}

func assertNoURL(t *testing.T, err error, webhookURL string) {
	t.Helper()
	if err != nil && (strings.Contains(err.Error(), secretToken) || strings.Contains(err.Error(), webhookURL)) {
		t.Fatalf("error reveals the webhook URL: %v", err)
	}
}

func TestPostDelivers(t *testing.T) {
	s := localslack.New()
	defer s.Close()
	url := s.URLFor(secretToken)
	if err := testClient().Post(t.Context(), url, testMessage(t)); err != nil {
		t.Fatalf("Post: %v", err)
	}
	msgs := s.Messages()
	if len(msgs) != 1 || s.Requests() != 1 {
		t.Fatalf("%d messages in %d requests, want 1 in 1", len(msgs), s.Requests())
	}
	if got := msgs[0].Payload.Blocks.BlockSet[0].(*slackapi.HeaderBlock).Text.Text; got != "Access denied: IAMUser alice → iam:GetPolicy" {
		t.Fatalf("header = %q", got)
	}
}

func TestPostRetries(t *testing.T) {
	tests := []struct {
		name     string
		faults   func(*localslack.Server)
		minWait  time.Duration
		requests int
	}{
		{"429 with Retry-After waits then delivers", func(s *localslack.Server) { s.Fail(localslack.RateLimited(1), 1) }, time.Second, 2},
		{"500 rollup_error twice then 200", func(s *localslack.Server) { s.Fail(localslack.ServerError(), 2) }, 0, 3},
		{"502 without a code then 200", func(s *localslack.Server) { s.Fail(localslack.Fault{Status: 502, Body: "<html>bad gateway</html>"}, 1) }, 0, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := localslack.New()
			defer s.Close()
			tt.faults(s)
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			start := time.Now()
			attempts, err := testClient().deliver(ctx, s.URLFor(secretToken), testMessage(t), slogDiscard())
			if err != nil {
				t.Fatalf("deliver: %v", err)
			}
			if elapsed := time.Since(start); elapsed < tt.minWait {
				t.Errorf("delivered after %s, before the %s Slack asked for", elapsed, tt.minWait)
			}
			if attempts != tt.requests || s.Requests() != tt.requests || len(s.Messages()) != 1 {
				t.Errorf("attempts %d, requests %d, messages %d; want %d, %d, 1", attempts, s.Requests(), len(s.Messages()), tt.requests, tt.requests)
			}
		})
	}
}

func TestPostPermanentErrors(t *testing.T) {
	tests := []struct {
		fault  localslack.Fault
		status int
		code   string
	}{
		{localslack.InvalidBlocks(), 400, "invalid_blocks"},
		{localslack.InvalidPayload(), 400, "invalid_payload"},
		{localslack.Fault{Status: 400, Body: "no_text"}, 400, "no_text"},
		{localslack.Fault{Status: 400, Body: "too_many_attachments"}, 400, "too_many_attachments"},
		{localslack.ActionProhibited(), 403, "action_prohibited"},
		{localslack.Fault{Status: 403, Body: "invalid_token"}, 403, "invalid_token"},
		{localslack.ChannelNotFound(), 404, "channel_not_found"},
		{localslack.NoService(), 404, "no_service"},
		{localslack.ChannelIsArchived(), 410, "channel_is_archived"},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			s, url := faultyServer(t, tt.fault)
			err := testClient().Post(t.Context(), url, testMessage(t))
			var de *Error
			if !errors.As(err, &de) || de.StatusCode != tt.status || de.Code != tt.code || !de.Permanent {
				t.Fatalf("Post = %#v, want permanent %d %s", err, tt.status, tt.code)
			}
			if !errors.Is(err, ErrPermanent) || errors.Is(err, ErrRetryable) {
				t.Errorf("errors.Is: permanent %v, retryable %v", errors.Is(err, ErrPermanent), errors.Is(err, ErrRetryable))
			}
			if !strings.Contains(err.Error(), tt.code) {
				t.Errorf("error %q does not name Slack's code", err)
			}
			if s.Requests() != 1 {
				t.Errorf("%d requests, want exactly 1 (a permanent error is not retried)", s.Requests())
			}
			assertNoURL(t, err, url)
		})
	}
}

func TestPostGivesUp(t *testing.T) {
	tests := []struct {
		name     string
		fault    localslack.Fault
		timeout  time.Duration
		opts     []Option
		requests int
		reason   string
	}{
		{"5xx beyond max attempts", localslack.ServerError(), 10 * time.Second, []Option{WithMaxAttempts(3)}, 3, "gave up after 3 attempts"},
		{"Retry-After beyond the deadline", localslack.RateLimited(30), 5 * time.Second, nil, 1, "would pass the deadline"},
		{"hang fails before the deadline", localslack.Hang(), 1500 * time.Millisecond, []Option{WithDeadlineMargin(300 * time.Millisecond)}, 1, "no time left before the deadline"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, url := faultyServer(t, tt.fault)
			ctx, cancel := context.WithTimeout(t.Context(), tt.timeout)
			defer cancel()
			deadline, _ := ctx.Deadline()
			err := testClient(tt.opts...).Post(ctx, url, testMessage(t))
			if time.Now().After(deadline) {
				t.Errorf("Post returned after the deadline")
			}
			if !errors.Is(err, ErrRetryable) || errors.Is(err, ErrPermanent) {
				t.Fatalf("Post = %v, want a retryable error", err)
			}
			if !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("error %q does not say %q", err, tt.reason)
			}
			if s.Requests() != tt.requests || len(s.Messages()) != 0 {
				t.Errorf("%d requests, %d messages; want %d, 0", s.Requests(), len(s.Messages()), tt.requests)
			}
			assertNoURL(t, err, url)
		})
	}
}

func TestPostHangTimesOutWithoutDeadline(t *testing.T) {
	s := localslack.New()
	defer s.Close()
	s.Fail(localslack.Hang(), 100)
	c := NewClient(&http.Client{Timeout: 200 * time.Millisecond}, WithMaxAttempts(2), WithBackoff(time.Millisecond, time.Millisecond), WithLoopback())
	err := c.Post(context.Background(), s.URLFor(secretToken), testMessage(t))
	if !errors.Is(err, ErrRetryable) || s.Requests() != 2 {
		t.Fatalf("Post = %v after %d requests, want retryable after 2", err, s.Requests())
	}
	assertNoURL(t, err, s.URLFor(secretToken))
}

func TestPostNetworkError(t *testing.T) {
	s := localslack.New()
	url := s.URLFor(secretToken)
	s.Close()
	err := testClient(WithMaxAttempts(2)).Post(t.Context(), url, testMessage(t))
	if !errors.Is(err, ErrRetryable) || !strings.Contains(err.Error(), "connect") {
		t.Fatalf("Post = %v, want a retryable connection error", err)
	}
	assertNoURL(t, err, url)
}

func TestPostRefusesBadInput(t *testing.T) {
	s := localslack.New()
	defer s.Close()
	c := testClient()

	err := c.Post(t.Context(), "http://example.com/services/T/B/"+secretToken, testMessage(t))
	if !errors.Is(err, ErrInvalidWebhookURL) || !errors.Is(err, ErrPermanent) {
		t.Fatalf("Post to a non-Slack http URL = %v", err)
	}
	assertNoURL(t, err, "http://example.com/services/T/B/"+secretToken)

	// A message beyond Slack's limits: localslack answers as Slack would.
	big := &slackapi.WebhookMessage{Text: "x", Blocks: &slackapi.Blocks{}}
	for range 51 {
		big.Blocks.BlockSet = append(big.Blocks.BlockSet, slackapi.NewDividerBlock())
	}
	err = c.Post(t.Context(), s.URL(), big)
	var de *Error
	if !errors.As(err, &de) || de.Code != "invalid_blocks" || s.Requests() != 1 {
		t.Fatalf("Post of 51 blocks = %v after %d requests", err, s.Requests())
	}
}

func TestPostDoesNotFollowRedirects(t *testing.T) {
	target := localslack.New()
	defer target.Close()
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL(), http.StatusTemporaryRedirect)
	}))
	defer redirector.Close()
	err := testClient().Post(t.Context(), redirector.URL+"/services/T/B/"+secretToken, testMessage(t))
	var de *Error
	if !errors.As(err, &de) || de.StatusCode != http.StatusTemporaryRedirect || !de.Permanent || target.Requests() != 0 {
		t.Fatalf("Post = %v; target got %d requests, want a permanent error and none", err, target.Requests())
	}
}
