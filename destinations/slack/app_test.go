package slack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	slackapi "github.com/slack-go/slack"

	"github.com/activity-aware/ids/internal/localslack"
)

// The app mode's test bot: its token (no error or log may show it) and its
// channel.
const (
	botToken    = "xoxb-1234567890-0987654321-s3cr3tB0tT0ken"
	botChannel  = "C0123456789"
	otherToken  = "xoxb-1234567890-0987654321-0therB0tT0ken"
	lonelyChann = "C0999999999"
)

// appServer is a local Slack whose Web API knows the test bot, a member of
// botChannel; lonelyChann exists without the bot.
func appServer(t *testing.T) (*localslack.Server, *Client, AppSecret) {
	t.Helper()
	s := localslack.New()
	t.Cleanup(s.Close)
	s.AddBot(botToken, botChannel)
	s.AddBot(otherToken, botChannel)
	s.AddChannel(lonelyChann)
	return s, testClient(WithAPIURL(s.APIURL())), AppSecret{BotToken: botToken, Channel: botChannel}
}

func assertNoToken(t *testing.T, err error) {
	t.Helper()
	if err != nil && strings.Contains(err.Error(), "s3cr3tB0tT0ken") {
		t.Fatalf("error reveals the bot token: %v", err)
	}
}

func TestTargetFromSecret(t *testing.T) {
	tests := []struct {
		name, value string
		app         *AppSecret
		webhook     bool
		errText     string
	}{
		{name: "app", value: `{"botToken":"` + botToken + `","channel":"` + botChannel + `"}`, app: &AppSecret{botToken, botChannel}},
		{name: "app, spaces", value: ` {"botToken":" ` + botToken + ` ","channel":"` + botChannel + `"} `, app: &AppSecret{botToken, botChannel}},
		{name: "private channel", value: `{"botToken":"` + botToken + `","channel":"G0123456789"}`, app: &AppSecret{botToken, "G0123456789"}},
		{name: "webhook URL", value: "http://127.0.0.1:1/services/T0/B0/x", webhook: true},
		{name: "webhook JSON", value: `{"url":"http://127.0.0.1:1/services/T0/B0/x"}`, webhook: true},
		{name: "user token", value: `{"botToken":"xoxp-1234567890-s3cr3tB0tT0ken","channel":"` + botChannel + `"}`, errText: "not a bot token"},
		{name: "app token", value: `{"botToken":"xapp-1-s3cr3tB0tT0ken","channel":"` + botChannel + `"}`, errText: "not a bot token"},
		{name: "token with a newline", value: `{"botToken":"xoxb-12345678\n90s3cr3tB0tT0ken","channel":"` + botChannel + `"}`, errText: "not a bot token"},
		{name: "channel name", value: `{"botToken":"` + botToken + `","channel":"#security"}`, errText: "not a channel id"},
		{name: "user id", value: `{"botToken":"` + botToken + `","channel":"U0123456789"}`, errText: "not a channel id"},
		{name: "no channel", value: `{"botToken":"` + botToken + `"}`, errText: "needs both"},
		{name: "no token", value: `{"channel":"` + botChannel + `"}`, errText: "needs both"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := TargetFromSecret(tt.value, true)
			assertNoToken(t, err)
			if tt.errText != "" {
				if !errors.Is(err, ErrInvalidSecret) || !strings.Contains(err.Error(), tt.errText) {
					t.Fatalf("err = %v, want ErrInvalidSecret saying %q", err, tt.errText)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.webhook != (got.WebhookURL != "") || (tt.app == nil) != (got.App == nil) || (tt.app != nil && *tt.app != *got.App) {
				t.Fatalf("got %+v, want app %v webhook %v", got, tt.app, tt.webhook)
			}
		})
	}
	app := AppSecret{botToken, botChannel}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("x", "app", app)
	for _, s := range []string{app.String(), fmt.Sprintf("%v %+v %#v %s", app, app, app, app), logged.String()} {
		if strings.Contains(s, "xoxb") || !strings.Contains(s, botChannel) {
			t.Fatalf("the app secret shows its token or hides its channel: %s", s)
		}
	}
}

func TestAppPostReplyUpdate(t *testing.T) {
	s, c, app := appServer(t)
	msg := testMessage(t)
	parent, err := c.PostMessage(t.Context(), app, msg, "")
	if err != nil {
		t.Fatal(err)
	}
	if parent.Channel != botChannel || parent.TS == "" {
		t.Fatalf("parent = %+v", parent)
	}
	reply, err := c.PostMessage(t.Context(), app, msg, parent.TS)
	if err != nil {
		t.Fatal(err)
	}
	if reply.TS <= parent.TS {
		t.Fatalf("reply ts %s not after parent ts %s", reply.TS, parent.TS)
	}
	if got := s.Replies(botChannel, parent.TS); len(got) != 1 || got[0].TS != reply.TS {
		t.Fatalf("replies = %+v", got)
	}
	updated := WithThreadCount(msg, 1, 0, false)
	if err := c.UpdateMessage(t.Context(), app, parent.TS, updated); err != nil {
		t.Fatal(err)
	}
	m, _ := s.Message(botChannel, parent.TS)
	if m.Updates != 1 || !strings.Contains(string(m.Blocks), "1 more in thread") {
		t.Fatalf("parent after update: %d updates, blocks %s", m.Updates, m.Blocks)
	}
	if top := s.TopLevel(botChannel); len(top) != 1 {
		t.Fatalf("%d top-level messages, want 1", len(top))
	}
}

func TestAppErrors(t *testing.T) {
	long := &slackapi.WebhookMessage{Text: strings.Repeat("x", localslack.MaxMessageText+1)}
	var many []slackapi.Block
	for range localslack.MaxBlocks + 1 {
		many = append(many, slackapi.NewDividerBlock())
	}
	tooMany := &slackapi.WebhookMessage{Text: "t", Blocks: &slackapi.Blocks{BlockSet: many}}
	tests := []struct {
		name      string
		setup     func(*localslack.Server, *AppSecret)
		msg       *slackapi.WebhookMessage
		update    string // chat.update at this ts instead of a post
		code      string
		permanent bool
		gone      bool
		requests  int
	}{
		{name: "ratelimited waits Retry-After, then posts", setup: func(s *localslack.Server, _ *AppSecret) { s.Fail(localslack.RateLimited(1), 1) }, requests: 2},
		{name: "500 retried", setup: func(s *localslack.Server, _ *AppSecret) { s.Fail(localslack.ServerError(), 2) }, requests: 3},
		{name: "internal_error (HTTP 200) retried", setup: func(s *localslack.Server, _ *AppSecret) { s.Fail(localslack.APIError("internal_error"), 1) }, requests: 2},
		{name: "service_unavailable retried", setup: func(s *localslack.Server, _ *AppSecret) { s.Fail(localslack.APIError("service_unavailable"), 1) }, requests: 2},
		{name: "channel_not_found", setup: func(_ *localslack.Server, a *AppSecret) { a.Channel = "C0000000000" }, code: "channel_not_found", permanent: true, gone: true, requests: 1},
		{name: "not_in_channel", setup: func(_ *localslack.Server, a *AppSecret) { a.Channel = lonelyChann }, code: "not_in_channel", permanent: true, gone: true, requests: 1},
		{name: "invalid_auth", setup: func(_ *localslack.Server, a *AppSecret) { a.BotToken = "xoxb-1111111111-s3cr3tB0tT0ken" }, code: "invalid_auth", permanent: true, gone: true, requests: 1},
		{name: "token_revoked", setup: func(s *localslack.Server, _ *AppSecret) { s.RevokeToken(botToken) }, code: "token_revoked", permanent: true, gone: true, requests: 1},
		{name: "account_inactive", setup: func(s *localslack.Server, _ *AppSecret) { s.Fail(localslack.APIError("account_inactive"), 1) }, code: "account_inactive", permanent: true, gone: true, requests: 1},
		{name: "msg_too_long", msg: long, code: "msg_too_long", permanent: true, requests: 1},
		{name: "invalid_blocks", msg: tooMany, code: "invalid_blocks", permanent: true, requests: 1},
		{name: "update of an unknown message", update: "1700000000.000001", code: "message_not_found", permanent: true, requests: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, c, app := appServer(t)
			if tt.setup != nil {
				tt.setup(s, &app)
			}
			msg := tt.msg
			if msg == nil {
				msg = testMessage(t)
			}
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			defer cancel()
			var err error
			var attempts int
			if tt.update != "" {
				attempts, err = c.updateMessage(ctx, app, tt.update, msg, slogDiscard())
			} else {
				_, attempts, err = c.postMessage(ctx, app, msg, "", slogDiscard())
			}
			assertNoToken(t, err)
			if s.Requests() != tt.requests || attempts != tt.requests {
				t.Fatalf("%d requests, %d attempts, want %d (err %v)", s.Requests(), attempts, tt.requests, err)
			}
			if tt.code == "" {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				if len(s.TopLevel(botChannel)) != 1 {
					t.Fatalf("%d messages posted, want 1", len(s.TopLevel(botChannel)))
				}
				return
			}
			var de *Error
			if !errors.As(err, &de) || de.Code != tt.code || errors.Is(err, ErrPermanent) != tt.permanent {
				t.Fatalf("err = %v, want code %s permanent %v", err, tt.code, tt.permanent)
			}
			if appGone(err) != tt.gone {
				t.Fatalf("appGone = %v, want %v", appGone(err), tt.gone)
			}
		})
	}
}

func TestAppOutage(t *testing.T) {
	s, c, app := appServer(t)
	s.Fail(localslack.ServerError(), 100)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	_, attempts, err := c.postMessage(ctx, app, testMessage(t), "", slogDiscard())
	if !errors.Is(err, ErrRetryable) || attempts != DefaultMaxAttempts {
		t.Fatalf("err = %v after %d attempts, want retryable after %d", err, attempts, DefaultMaxAttempts)
	}
	// A dead endpoint: a transport error, retried, never showing the token.
	s.Close()
	_, _, err = c.postMessage(ctx, app, testMessage(t), "", slogDiscard())
	assertNoToken(t, err)
	if !errors.Is(err, ErrRetryable) {
		t.Fatalf("err = %v, want retryable", err)
	}
}

func TestAppAPIURLOnlyLoopback(t *testing.T) {
	s, _, app := appServer(t)
	for name, c := range map[string]*Client{
		"loopback not allowed": NewClient(&http.Client{}, WithAPIURL(s.APIURL())),
		"not loopback":         NewClient(&http.Client{}, WithLoopback(), WithAPIURL("https://slack.example/api/")),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := c.PostMessage(t.Context(), app, testMessage(t), "")
			if !errors.Is(err, ErrPermanent) || s.Requests() != 0 {
				t.Fatalf("err = %v, %d requests; want a permanent error and none", err, s.Requests())
			}
		})
	}
}
