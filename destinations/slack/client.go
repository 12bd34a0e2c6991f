package slack

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"time"

	slackapi "github.com/slack-go/slack"

	"github.com/activity-aware/ids/destinations/delivery"
)

// Delivery defaults (delivery's, named here for the package's users).
const (
	// DefaultTimeout bounds one webhook request when the caller's http.Client
	// sets none.
	DefaultTimeout = delivery.DefaultTimeout
	// DefaultMaxAttempts is how many times a post is tried.
	DefaultMaxAttempts = delivery.DefaultMaxAttempts
)

// Sentinel errors, for errors.Is on a delivery error: those every
// destination shares.
var (
	// ErrPermanent marks a post that must not be retried as it is: Slack
	// refused the message or the webhook (4xx other than 408 and 429), or the
	// URL is invalid.
	ErrPermanent = delivery.ErrPermanent
	// ErrRetryable marks a post that failed for a reason that may pass (429,
	// 5xx, network, time ran out): a later invocation may succeed.
	ErrRetryable = delivery.ErrRetryable
)

// Error is a failed webhook post. It never contains the webhook URL.
type Error = delivery.Error

// Client posts messages to Slack incoming webhooks, retrying what may pass
// within the caller's deadline. Build one and reuse it; it is safe for
// concurrent use.
type Client struct {
	http   *http.Client
	retry  delivery.Retrier
	logger *slog.Logger
	// loopback accepts webhooks on a loopback host (WithLoopback).
	loopback bool
	// api is the Web API base WithAPIURL set; "" is DefaultAPIURL.
	api string
}

// Option configures a Client.
type Option func(*Client)

// WithMaxAttempts sets how many times a post is tried (at least 1).
func WithMaxAttempts(n int) Option {
	return func(c *Client) { c.retry.MaxAttempts = max(n, 1) }
}

// WithBackoff sets the first and the longest wait between attempts after a
// 5xx or network error. A 429's Retry-After is honoured as given.
func WithBackoff(base, maxWait time.Duration) Option {
	return func(c *Client) { c.retry.BaseBackoff, c.retry.MaxBackoff = base, max(maxWait, base) }
}

// WithDeadlineMargin sets the time kept free before the context's deadline.
func WithDeadlineMargin(d time.Duration) Option {
	return func(c *Client) { c.retry.Margin = max(d, 0) }
}

// WithLogger sets the logger for retries (attempt, status, code and wait;
// never the URL or the message).
func WithLogger(l *slog.Logger) Option {
	return func(c *Client) { c.logger = l }
}

// WithLoopback lets the client post to a webhook on a loopback host (http
// or https), for local testing against a local Slack endpoint. The deployed
// function never sets it (EnvAllowLoopbackWebhook).
func WithLoopback() Option {
	return func(c *Client) { c.loopback = true }
}

// WithAPIURL makes app mode call the Web API at base (e.g. a local Slack
// endpoint's "http://127.0.0.1:PORT/api/") instead of DefaultAPIURL. It is
// honoured only for a loopback host together with WithLoopback: the deployed
// function never sets it (EnvAPIURL).
func WithAPIURL(base string) Option {
	return func(c *Client) { c.api = base }
}

// NewClient returns a Client that posts with a copy of httpClient (nil: a new
// one), given DefaultTimeout when it has no timeout. Redirects are not
// followed: a webhook that redirects is an error, not a reason to send the
// message elsewhere.
func NewClient(httpClient *http.Client, opts ...Option) *Client {
	c := &Client{
		http:   delivery.NoRedirects(httpClient),
		retry:  delivery.NewRetrier("slack"),
		logger: slog.New(slog.DiscardHandler),
	}
	for _, opt := range opts {
		opt(c)
	}
	return c
}

// Post delivers msg to the webhook. It retries 429 (after Retry-After), 5xx
// and network errors with backoff while ctx's deadline, less a margin, leaves
// time; it returns at once on Slack's permanent answers. A failure is an
// *Error (errors.Is ErrPermanent or ErrRetryable) that never contains the URL.
func (c *Client) Post(ctx context.Context, webhookURL string, msg *slackapi.WebhookMessage) error {
	_, err := c.deliver(ctx, webhookURL, msg, c.logger)
	return err
}

// deliver is Post, returning the number of attempts made and logging retries
// with log.
func (c *Client) deliver(ctx context.Context, webhookURL string, msg *slackapi.WebhookMessage, log *slog.Logger) (int, error) {
	if err := ValidateWebhookURL(webhookURL, c.loopback); err != nil {
		return 0, &Error{Destination: "slack", Permanent: true, Err: err}
	}
	if msg == nil {
		return 0, &Error{Destination: "slack", Permanent: true, Reason: "no message"}
	}
	return c.retry.Do(ctx, log, delivery.ScrubURL(webhookURL), func(ctx context.Context) (delivery.Answer, error) {
		return c.once(ctx, webhookURL, msg)
	})
}

// once makes one post through slack-go, recording the answer slack-go does
// not return (the body's error code and the Retry-After header).
func (c *Client) once(ctx context.Context, webhookURL string, msg *slackapi.WebhookMessage) (delivery.Answer, error) {
	rec := &recorder{base: c.http.Transport}
	if rec.base == nil {
		rec.base = http.DefaultTransport
	}
	hc := *c.http
	hc.Transport = rec
	err := slackapi.PostWebhookCustomHTTPContext(ctx, webhookURL, &hc, msg)
	return rec.ans, err
}

// slackCode matches the error codes Slack answers in a plain-text body.
var slackCode = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// codeOf reads Slack's plain-text error code from an answer's body.
func codeOf(body []byte) string {
	if code := strings.TrimSpace(string(body)); slackCode.MatchString(code) {
		return code
	}
	return ""
}

// recorder is a RoundTripper that notes the status, Retry-After and error
// code of the answer and hands the body on unchanged.
type recorder struct {
	base http.RoundTripper
	ans  delivery.Answer
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	r.ans.Status = resp.StatusCode
	if resp.StatusCode == http.StatusOK {
		return resp, nil
	}
	r.ans.RetryAfter = delivery.ParseRetryAfter(resp.Header.Get("Retry-After"))
	body, _ := io.ReadAll(io.LimitReader(resp.Body, delivery.MaxErrorBody))
	r.ans.Code = codeOf(body)
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(body), resp.Body), resp.Body}
	return resp, nil
}
