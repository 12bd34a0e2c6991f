package slack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	slackapi "github.com/slack-go/slack"

	"github.com/activity-aware/ids/destinations/delivery"
)

// App mode: a Slack app's bot token posts with the Web API (chat.postMessage
// and chat.update), which, unlike an incoming webhook, answers with the
// message's ts, so repeats can go into the first message's thread and the
// first message can be updated with their count.

// DefaultAPIURL is Slack's Web API.
const DefaultAPIURL = "https://slack.com/api/"

// botTokenPattern is a bot token's shape: xoxb- then Slack's digits, dashes
// and letters.
var botTokenPattern = regexp.MustCompile(`^xoxb-[0-9A-Za-z-]{10,250}$`)

// channelPattern is a conversation id: C (public), G (private) or D
// (direct), then upper-case letters and digits. A channel name is not
// accepted: chat.update needs the id, and a renamed channel would break it.
var channelPattern = regexp.MustCompile(`^[CGD][0-9A-Z]{8,20}$`)

// AppSecret is what the secret holds in app mode: the bot token (scope
// chat:write) and the id of the channel the bot was invited to. Its String
// and LogValue never show the token.
type AppSecret struct {
	BotToken string `json:"botToken"`
	Channel  string `json:"channel"`
}

// String names the channel, never the token.
func (s AppSecret) String() string { return "Slack app (channel " + s.Channel + ")" }

// GoString, for %#v, shows the channel, never the token.
func (s AppSecret) GoString() string { return "slack.AppSecret{Channel: " + s.Channel + "}" }

// LogValue logs the channel, never the token.
func (s AppSecret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// Target is where the secret says to post: an incoming webhook (URL) or a
// Slack app (App).
type Target struct {
	WebhookURL string
	App        *AppSecret
}

// TargetFromSecret reads the secret's value: a webhook URL, bare or as
// {"url": …} (webhook mode), or {"botToken": "xoxb-…", "channel": "C…"}
// (app mode). It validates either; errors never contain the value.
func TargetFromSecret(value string, allowLoopback bool) (Target, error) {
	v := strings.TrimSpace(value)
	if strings.HasPrefix(v, "{") {
		var probe struct {
			BotToken *string `json:"botToken"`
			Channel  *string `json:"channel"`
		}
		if err := json.Unmarshal([]byte(v), &probe); err == nil && (probe.BotToken != nil || probe.Channel != nil) {
			app, err := appSecret(probe.BotToken, probe.Channel)
			if err != nil {
				return Target{}, err
			}
			return Target{App: app}, nil
		}
	}
	u, err := WebhookURLFromSecret(value, allowLoopback)
	if err != nil {
		return Target{}, err
	}
	return Target{WebhookURL: u}, nil
}

func appSecret(token, channel *string) (*AppSecret, error) {
	if token == nil || channel == nil {
		return nil, fmt.Errorf("%w: an app secret needs both \"botToken\" and \"channel\"", ErrInvalidSecret)
	}
	s := &AppSecret{BotToken: strings.TrimSpace(*token), Channel: strings.TrimSpace(*channel)}
	if !botTokenPattern.MatchString(s.BotToken) {
		// The message says what is wrong without echoing the token.
		return nil, fmt.Errorf("%w: \"botToken\" is not a bot token (xoxb-…; user tokens xoxp- and app tokens xapp- are not accepted)", ErrInvalidSecret)
	}
	if !channelPattern.MatchString(s.Channel) {
		return nil, fmt.Errorf("%w: \"channel\" is not a channel id (C…, G… or D…; the id, not the name: channel details, bottom of the About tab)", ErrInvalidSecret)
	}
	return s, nil
}

// MessageRef locates a message posted with the Web API.
type MessageRef struct {
	Channel, TS string
}

// retryCodes are the Web API's ok-false answers that may pass on a later
// attempt; every other error code is permanent.
var retryCodes = map[string]bool{
	"ratelimited":         true,
	"rate_limited":        true,
	"internal_error":      true,
	"fatal_error":         true,
	"service_unavailable": true,
	"request_timeout":     true,
	"team_added_to_org":   true,
	"update_failed":       true,
}

// authCodes are the Web API's answers that mean the token no longer works or
// the channel is wrong: the secret must change, so its cached value is
// dropped.
var authCodes = map[string]bool{
	"invalid_auth":      true,
	"not_authed":        true,
	"token_revoked":     true,
	"token_expired":     true,
	"account_inactive":  true,
	"channel_not_found": true,
	"not_in_channel":    true,
	"is_archived":       true,
	"missing_scope":     true,
}

// apiURL is the Web API base the client posts to: DefaultAPIURL, or the
// loopback one WithAPIURL set when WithLoopback allows it.
func (c *Client) apiURL() (string, error) {
	if c.api == "" {
		return DefaultAPIURL, nil
	}
	u, err := url.Parse(c.api)
	if err != nil || !c.loopback || !delivery.IsLoopback(strings.ToLower(u.Hostname())) {
		return "", fmt.Errorf("slack: the Web API URL may be changed only to a loopback host with the local-testing setting (%s)", EnvAllowLoopbackWebhook)
	}
	return strings.TrimSuffix(c.api, "/") + "/", nil
}

// APIURL is the Web API base the client calls, or the error every app-mode
// call would fail with (a changed URL that is not allowed: WithAPIURL).
func (c *Client) APIURL() (string, error) { return c.apiURL() }

// PostMessage posts msg with chat.postMessage to the app's channel, as a
// reply in the thread of threadTS when it is not empty, and returns where
// the message is. Retries and errors are Post's; an *Error's Code is the
// Web API's error code (e.g. "not_in_channel").
func (c *Client) PostMessage(ctx context.Context, app AppSecret, msg *slackapi.WebhookMessage, threadTS string) (MessageRef, error) {
	ref, _, err := c.postMessage(ctx, app, msg, threadTS, c.logger)
	return ref, err
}

// UpdateMessage replaces the message at ts with msg (chat.update).
func (c *Client) UpdateMessage(ctx context.Context, app AppSecret, ts string, msg *slackapi.WebhookMessage) error {
	_, err := c.updateMessage(ctx, app, ts, msg, c.logger)
	return err
}

func (c *Client) postMessage(ctx context.Context, app AppSecret, msg *slackapi.WebhookMessage, threadTS string, log *slog.Logger) (MessageRef, int, error) {
	var ref MessageRef
	n, err := c.webAPI(ctx, app, msg, log, func(ctx context.Context, api *slackapi.Client, opts []slackapi.MsgOption) error {
		if threadTS != "" {
			opts = append(opts, slackapi.MsgOptionTS(threadTS))
		}
		ch, ts, err := api.PostMessageContext(ctx, app.Channel, opts...)
		ref = MessageRef{Channel: ch, TS: ts}
		return err
	})
	return ref, n, err
}

func (c *Client) updateMessage(ctx context.Context, app AppSecret, ts string, msg *slackapi.WebhookMessage, log *slog.Logger) (int, error) {
	return c.webAPI(ctx, app, msg, log, func(ctx context.Context, api *slackapi.Client, opts []slackapi.MsgOption) error {
		_, _, _, err := api.UpdateMessageContext(ctx, app.Channel, ts, opts...)
		return err
	})
}

// webAPI makes one Web API call with retries: call gets a client for the
// app's token and msg as message options.
func (c *Client) webAPI(ctx context.Context, app AppSecret, msg *slackapi.WebhookMessage, log *slog.Logger,
	call func(context.Context, *slackapi.Client, []slackapi.MsgOption) error) (int, error) {
	base, err := c.apiURL()
	if err != nil {
		return 0, &Error{Destination: "slack", Permanent: true, Err: err}
	}
	if msg == nil {
		return 0, &Error{Destination: "slack", Permanent: true, Reason: "no message"}
	}
	api := slackapi.New(app.BotToken, slackapi.OptionAPIURL(base), slackapi.OptionHTTPClient(c.http))
	opts := []slackapi.MsgOption{
		// Render escaped the text already.
		slackapi.MsgOptionText(msg.Text, false),
		slackapi.MsgOptionDisableLinkUnfurl(),
		slackapi.MsgOptionDisableMediaUnfurl(),
	}
	if msg.Blocks != nil && len(msg.Blocks.BlockSet) > 0 {
		opts = append(opts, slackapi.MsgOptionBlocks(msg.Blocks.BlockSet...))
	}
	scrub := func(err error) error {
		return redactedError{redactToken(delivery.ScrubURL(base)(err).Error(), app.BotToken)}
	}
	return c.retry.Do(ctx, log, scrub, func(ctx context.Context) (delivery.Answer, error) {
		err := call(ctx, api, opts)
		return answerOf(err), err
	})
}

// answerOf reads slack-go's error as the delivery answer it stands for:
// 429 with its Retry-After, another HTTP status, or HTTP 200 with the Web
// API's error code (ok false); a transport error has none.
func answerOf(err error) delivery.Answer {
	var rl *slackapi.RateLimitedError
	var sc slackapi.StatusCodeError
	var se slackapi.SlackErrorResponse
	switch {
	case err == nil:
		return delivery.Answer{Status: http.StatusOK}
	case errors.As(err, &rl):
		return delivery.Answer{Status: http.StatusTooManyRequests, Code: "ratelimited", RetryAfter: rl.RetryAfter}
	case errors.As(err, &sc):
		return delivery.Answer{Status: sc.Code}
	case errors.As(err, &se):
		code := se.Err
		if !slackCode.MatchString(code) {
			code = "unknown_error"
		}
		return delivery.Answer{Status: http.StatusOK, Code: code, Retry: retryCodes[code]}
	}
	return delivery.Answer{}
}

type redactedError struct{ msg string }

func (e redactedError) Error() string { return e.msg }

func redactToken(s, token string) string {
	if token == "" {
		return s
	}
	return strings.ReplaceAll(s, token, "[token]")
}

// appGone reports a Web API error after which the cached secret must not be
// used again: the token or the channel is wrong (authCodes).
func appGone(err error) bool {
	var de *Error
	return errors.As(err, &de) && authCodes[de.Code]
}
