package slack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	slackapi "github.com/slack-go/slack"
)

// Delivery defaults.
const (
	// DefaultTimeout bounds one webhook request when the caller's http.Client
	// sets none.
	DefaultTimeout = 10 * time.Second
	// DefaultMaxAttempts is how many times a post is tried.
	DefaultMaxAttempts = 5
	// DefaultBaseBackoff and DefaultMaxBackoff bound the wait between
	// attempts after a 5xx or a network error (exponential, with jitter).
	DefaultBaseBackoff = 250 * time.Millisecond
	DefaultMaxBackoff  = 8 * time.Second
	// DefaultDeadlineMargin is the time kept free before the context's
	// deadline, so a Lambda invocation fails with a clear error instead of
	// being cut off by its timeout.
	DefaultDeadlineMargin = 500 * time.Millisecond
	// minAttemptTime is the least time worth starting an attempt with.
	minAttemptTime = 100 * time.Millisecond
)

// Sentinel errors, for errors.Is on a delivery error.
var (
	// ErrPermanent marks a post that must not be retried as it is: Slack
	// refused the message or the webhook (4xx other than 429), or the URL is
	// invalid.
	ErrPermanent = errors.New("slack: permanent delivery failure")
	// ErrRetryable marks a post that failed for a reason that may pass (429,
	// 5xx, network, time ran out): a later invocation may succeed.
	ErrRetryable = errors.New("slack: retryable delivery failure")
)

// Error is a failed webhook post. It never contains the webhook URL.
type Error struct {
	// StatusCode is the HTTP status Slack answered, 0 when no answer came.
	StatusCode int
	// Code is Slack's error code from the answer's body, e.g.
	// "channel_not_found", "" when the body held none.
	Code string
	// RetryAfter is the wait a 429 asked for.
	RetryAfter time.Duration
	// Attempts is how many posts were made.
	Attempts int
	// Permanent is set when retrying the same message cannot help.
	Permanent bool
	// Reason says why delivery stopped, when not evident from the answer.
	Reason string
	// Err is the transport error (URL removed), nil when Slack answered.
	Err error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("slack: deliver: ")
	switch {
	case e.StatusCode != 0:
		fmt.Fprintf(&b, "webhook answered %d", e.StatusCode)
		if e.Code != "" {
			b.WriteString(" " + e.Code)
		}
		if e.RetryAfter > 0 {
			fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter)
		}
	case e.Err != nil:
		b.WriteString(e.Err.Error())
	default:
		b.WriteString("failed")
	}
	if e.Reason != "" {
		b.WriteString("; " + e.Reason)
	}
	fmt.Fprintf(&b, " [%d attempt", e.Attempts)
	if e.Attempts != 1 {
		b.WriteString("s")
	}
	b.WriteString("]")
	return b.String()
}

// Unwrap yields ErrPermanent or ErrRetryable, and the transport error.
func (e *Error) Unwrap() []error {
	class := ErrRetryable
	if e.Permanent {
		class = ErrPermanent
	}
	if e.Err != nil {
		return []error{class, e.Err}
	}
	return []error{class}
}

// Client posts messages to Slack incoming webhooks, retrying what may pass
// within the caller's deadline. Build one and reuse it; it is safe for
// concurrent use.
type Client struct {
	http        *http.Client
	maxAttempts int
	baseBackoff time.Duration
	maxBackoff  time.Duration
	margin      time.Duration
	logger      *slog.Logger
}

// Option configures a Client.
type Option func(*Client)

// WithMaxAttempts sets how many times a post is tried (at least 1).
func WithMaxAttempts(n int) Option {
	return func(c *Client) { c.maxAttempts = max(n, 1) }
}

// WithBackoff sets the first and the longest wait between attempts after a
// 5xx or network error. A 429's Retry-After is honoured as given.
func WithBackoff(base, maxWait time.Duration) Option {
	return func(c *Client) { c.baseBackoff, c.maxBackoff = base, max(maxWait, base) }
}

// WithDeadlineMargin sets the time kept free before the context's deadline.
func WithDeadlineMargin(d time.Duration) Option {
	return func(c *Client) { c.margin = max(d, 0) }
}

// WithLogger sets the logger for retries (attempt, status, code and wait;
// never the URL or the message).
func WithLogger(l *slog.Logger) Option {
	return func(c *Client) { c.logger = l }
}

// NewClient returns a Client that posts with a copy of httpClient (nil: a new
// one), given DefaultTimeout when it has no timeout. Redirects are not
// followed: a webhook that redirects is an error, not a reason to send the
// message elsewhere.
func NewClient(httpClient *http.Client, opts ...Option) *Client {
	hc := &http.Client{}
	if httpClient != nil {
		copied := *httpClient
		hc = &copied
	}
	if hc.Timeout == 0 {
		hc.Timeout = DefaultTimeout
	}
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c := &Client{
		http:        hc,
		maxAttempts: DefaultMaxAttempts,
		baseBackoff: DefaultBaseBackoff,
		maxBackoff:  DefaultMaxBackoff,
		margin:      DefaultDeadlineMargin,
		logger:      slog.New(slog.DiscardHandler),
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
	if err := ValidateWebhookURL(webhookURL); err != nil {
		return 0, &Error{Permanent: true, Err: err}
	}
	if msg == nil {
		return 0, &Error{Permanent: true, Reason: "no message"}
	}
	for attempt := 1; ; attempt++ {
		ans, err := c.once(ctx, webhookURL, msg)
		if err == nil {
			return attempt, nil
		}
		e := &Error{StatusCode: ans.status, Code: ans.code, RetryAfter: ans.retryAfter, Attempts: attempt}
		var wait time.Duration
		switch {
		case ans.status == http.StatusTooManyRequests:
			wait = ans.retryAfter
			if wait <= 0 {
				wait = c.backoff(attempt)
			}
		case ans.status >= 500:
			wait = c.backoff(attempt)
		case ans.status != 0:
			e.Permanent = true
			return attempt, e
		default:
			e.Err = scrub(err, webhookURL)
			if ctx.Err() != nil {
				e.Reason = "the invocation's context ended"
				return attempt, e
			}
			if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= c.margin+minAttemptTime {
				e.Reason = "no time left before the deadline"
				return attempt, e
			}
			wait = c.backoff(attempt)
		}
		if attempt >= c.maxAttempts {
			e.Reason = fmt.Sprintf("gave up after %d attempts", attempt)
			return attempt, e
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl)-c.margin < wait+minAttemptTime {
			e.Reason = fmt.Sprintf("next attempt in %s would pass the deadline", wait.Round(time.Millisecond))
			return attempt, e
		}
		log.WarnContext(ctx, "slack: retrying webhook post",
			slog.Int("attempt", attempt), slog.Int("status", ans.status), slog.String("code", ans.code),
			slog.Int64("waitMs", wait.Milliseconds()))
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			e.Reason = "the invocation's context ended while waiting to retry"
			return attempt, e
		case <-t.C:
		}
	}
}

// backoff is the wait before attempt+1: exponential from the base, capped,
// with jitter between half and all of it.
func (c *Client) backoff(attempt int) time.Duration {
	d := c.baseBackoff << min(attempt-1, 20)
	if d <= 0 || d > c.maxBackoff {
		d = c.maxBackoff
	}
	return d/2 + rand.N(d/2+1)
}

// answer is what Slack answered to one post.
type answer struct {
	status     int
	code       string
	retryAfter time.Duration
}

// once makes one post through slack-go, with its own deadline when ctx has
// one, recording the answer slack-go does not return (the body's error code
// and the Retry-After header).
func (c *Client) once(ctx context.Context, webhookURL string, msg *slackapi.WebhookMessage) (answer, error) {
	if dl, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, dl.Add(-c.margin))
		defer cancel()
	}
	rec := &recorder{base: c.http.Transport}
	if rec.base == nil {
		rec.base = http.DefaultTransport
	}
	hc := *c.http
	hc.Transport = rec
	err := slackapi.PostWebhookCustomHTTPContext(ctx, webhookURL, &hc, msg)
	return rec.ans, err
}

// maxErrorBody bounds what is read of an error answer.
const maxErrorBody = 512

// slackCode matches the error codes Slack answers in a plain-text body.
var slackCode = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// recorder is a RoundTripper that notes the status, Retry-After and error
// code of the answer and hands the body on unchanged.
type recorder struct {
	base http.RoundTripper
	ans  answer
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	r.ans.status = resp.StatusCode
	if resp.StatusCode == http.StatusOK {
		return resp, nil
	}
	r.ans.retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"))
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	if code := strings.TrimSpace(string(body)); slackCode.MatchString(code) {
		r.ans.code = code
	}
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(body), resp.Body), resp.Body}
	return resp, nil
}

// parseRetryAfter reads Retry-After as seconds or an HTTP date; 0 when absent
// or unreadable.
func parseRetryAfter(v string) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 || secs > 3600 {
			return 0
		}
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0)
	}
	return 0
}

// scrubbedError is a transport error with the webhook URL removed from its
// text.
type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }

// scrub removes the webhook URL from a transport error. slack-go's errors
// wrap a *url.Error, whose text quotes the URL; only its cause (which names
// at most the host and port) is kept.
func scrub(err error, webhookURL string) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
		return &scrubbedError{msg: "post webhook: " + redact(err.Error(), webhookURL), err: err}
	}
	return &scrubbedError{msg: redact(err.Error(), webhookURL)}
}

func redact(s, webhookURL string) string {
	s = strings.ReplaceAll(s, webhookURL, "[webhook URL]")
	if u, err := url.Parse(webhookURL); err == nil && len(u.EscapedPath()) > 1 {
		s = strings.ReplaceAll(s, u.EscapedPath(), "[webhook path]")
	}
	return s
}
