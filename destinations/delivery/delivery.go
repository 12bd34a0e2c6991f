// Package delivery is what every destination's HTTP delivery shares: one
// retry loop that honours Retry-After on 429 (and on 5xx when given), backs
// off exponentially with jitter on 5xx and network errors, stops on a
// permanent answer and keeps a margin before the invocation's deadline; one
// poster that never follows redirects and reads a bounded error body; and one
// error type that never contains the target URL, which is a secret.
//
// A destination supplies only what differs: how it makes one attempt (its own
// request, or a library's client call) and how it reads the error code out of
// an answer.
package delivery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Defaults of a Retrier.
const (
	// DefaultTimeout bounds one request when the caller's http.Client sets
	// none.
	DefaultTimeout = 10 * time.Second
	// DefaultMaxAttempts is how many times a delivery is tried.
	DefaultMaxAttempts = 5
	// DefaultBaseBackoff and DefaultMaxBackoff bound the wait between
	// attempts after a 5xx or a network error (exponential, with jitter).
	DefaultBaseBackoff = 250 * time.Millisecond
	DefaultMaxBackoff  = 8 * time.Second
	// DefaultDeadlineMargin is the time kept free before the context's
	// deadline, so a Lambda invocation fails with a clear error instead of
	// being cut off by its timeout.
	DefaultDeadlineMargin = 500 * time.Millisecond
	// MaxRetryAfter is the longest Retry-After honoured; a longer one is
	// treated as absent (the backoff applies), since no invocation lasts
	// that long anyway.
	MaxRetryAfter = time.Hour
	// minAttemptTime is the least time worth starting an attempt with.
	minAttemptTime = 100 * time.Millisecond
)

// Sentinel errors, for errors.Is on a delivery error.
var (
	// ErrPermanent marks a delivery that must not be retried as it is: the
	// receiver refused the message or the target (4xx other than 408 and
	// 429, a redirect), or the target or the message is invalid.
	ErrPermanent = errors.New("delivery: permanent failure")
	// ErrRetryable marks a delivery that failed for a reason that may pass
	// (408, 429, 5xx, network, time ran out): a later invocation may succeed.
	ErrRetryable = errors.New("delivery: retryable failure")
)

// Answer is what the receiver answered to one attempt.
type Answer struct {
	// Status is the HTTP status, 0 when no answer came.
	Status int
	// Code is the receiver's error code read from the answer, "" when none.
	Code string
	// RetryAfter is the wait the answer asked for, 0 when none.
	RetryAfter time.Duration
	// Retry marks an answer whose code asks for a retry whatever its status
	// says: Slack's Web API answers most errors, transient ones included
	// (internal_error, service_unavailable), with HTTP 200 and ok false.
	Retry bool
}

// Error is a failed delivery. It never contains the target URL.
type Error struct {
	// Destination names the destination, e.g. "slack", for the message.
	Destination string
	// StatusCode is the HTTP status answered, 0 when no answer came.
	StatusCode int
	// Code is the receiver's error code, e.g. "channel_not_found", "" when
	// the answer held none.
	Code string
	// RetryAfter is the wait the last answer asked for.
	RetryAfter time.Duration
	// Attempts is how many attempts were made.
	Attempts int
	// Permanent is set when retrying the same message cannot help.
	Permanent bool
	// Reason says why delivery stopped, when not evident from the answer.
	Reason string
	// Err is the transport error (URL removed), nil when an answer came.
	Err error
}

func (e *Error) Error() string {
	var b strings.Builder
	name := e.Destination
	if name == "" {
		name = "delivery"
	}
	b.WriteString(name + ": deliver: ")
	switch {
	case e.StatusCode != 0:
		fmt.Fprintf(&b, "answered %d", e.StatusCode)
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

// Retryable reports whether an answer with this HTTP status may pass on a
// later attempt: 408, 429 and every 5xx.
func Retryable(status int) bool {
	return status == http.StatusRequestTimeout || status == http.StatusTooManyRequests || status >= 500
}

// Retrier runs attempts until one succeeds, one is refused permanently, the
// attempts are used up or the deadline (less a margin) leaves no time. It is
// safe for concurrent use.
type Retrier struct {
	// Destination names the destination in errors and logs.
	Destination string
	MaxAttempts int
	BaseBackoff time.Duration
	MaxBackoff  time.Duration
	// Margin is the time kept free before the context's deadline.
	Margin time.Duration
}

// NewRetrier returns a Retrier with the defaults.
func NewRetrier(destination string) Retrier {
	return Retrier{
		Destination: destination,
		MaxAttempts: DefaultMaxAttempts,
		BaseBackoff: DefaultBaseBackoff,
		MaxBackoff:  DefaultMaxBackoff,
		Margin:      DefaultDeadlineMargin,
	}
}

// Attempt makes one delivery attempt within ctx. It returns nil on success,
// or the answer and an error: with a status, the answer decides; without
// one, err is the transport error.
type Attempt func(ctx context.Context) (Answer, error)

// Do runs attempt with retries and returns the number of attempts made. A
// failure is an *Error; scrub (nil: none) removes secrets, such as the target
// URL, from a transport error before it is kept. Retries are logged on log
// with the attempt, status, code and wait, never the URL or the message.
func (r Retrier) Do(ctx context.Context, log *slog.Logger, scrub func(error) error, attempt Attempt) (int, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	maxAttempts := max(r.MaxAttempts, 1)
	for n := 1; ; n++ {
		actx, cancel := ctx, context.CancelFunc(func() {})
		if dl, ok := ctx.Deadline(); ok {
			actx, cancel = context.WithDeadline(ctx, dl.Add(-r.Margin))
		}
		ans, err := attempt(actx)
		cancel()
		if err == nil {
			return n, nil
		}
		e := &Error{Destination: r.Destination, StatusCode: ans.Status, Code: ans.Code, RetryAfter: ans.RetryAfter, Attempts: n}
		var wait time.Duration
		switch {
		case ans.Status != 0 && !Retryable(ans.Status) && !ans.Retry:
			e.Permanent = true
			return n, e
		case ans.Status != 0:
			wait = ans.RetryAfter
			if wait <= 0 {
				wait = r.backoff(n)
			}
		default:
			if scrub != nil {
				err = scrub(err)
			}
			e.Err = err
			if ctx.Err() != nil {
				e.Reason = "the invocation's context ended"
				return n, e
			}
			if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= r.Margin+minAttemptTime {
				e.Reason = "no time left before the deadline"
				return n, e
			}
			wait = r.backoff(n)
		}
		if n >= maxAttempts {
			e.Reason = fmt.Sprintf("gave up after %d attempts", n)
			return n, e
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl)-r.Margin < wait+minAttemptTime {
			e.Reason = fmt.Sprintf("next attempt in %s would pass the deadline", wait.Round(time.Millisecond))
			return n, e
		}
		log.WarnContext(ctx, r.Destination+": retrying delivery",
			slog.Int("attempt", n), slog.Int("status", ans.Status), slog.String("code", ans.Code),
			slog.Int64("waitMs", wait.Milliseconds()))
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			e.Reason = "the invocation's context ended while waiting to retry"
			return n, e
		case <-t.C:
		}
	}
}

// backoff is the wait before attempt+1: exponential from the base, capped,
// with jitter between half and all of it.
func (r Retrier) backoff(attempt int) time.Duration {
	base := max(r.BaseBackoff, time.Millisecond)
	d := base << min(attempt-1, 20)
	if d <= 0 || d > max(r.MaxBackoff, base) {
		d = max(r.MaxBackoff, base)
	}
	return d/2 + rand.N(d/2+1)
}

// ParseRetryAfter reads Retry-After as seconds or an HTTP date; 0 when absent,
// unreadable or beyond MaxRetryAfter.
func ParseRetryAfter(v string) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 || time.Duration(secs)*time.Second > MaxRetryAfter {
			return 0
		}
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d <= MaxRetryAfter {
			return max(d, 0)
		}
	}
	return 0
}
