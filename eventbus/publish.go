package eventbus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/smithy-go"

	"github.com/activity-aware/ids/activity"
)

// PutEventsAPI is the one method of *eventbridge.Client the publisher uses.
// Like io.Writer's Write, PutEvents must not keep in, or any string of it,
// after it returns: the entries' Details are the Publisher's memory, used
// again by its next call. The SDK's client reads them only while it
// serializes the request.
type PutEventsAPI interface {
	PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, optFns ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error)
}

var _ PutEventsAPI = (*eventbridge.Client)(nil)

// MaxEntriesPerRequest is the most entries one PutEvents request may carry.
const MaxEntriesPerRequest = 10

// Publisher defaults; see Config.
const (
	DefaultMaxAttempts    = 5
	DefaultBaseDelay      = 200 * time.Millisecond
	DefaultMaxDelay       = 5 * time.Second
	DefaultConcurrency    = 4
	DefaultDeadlineMargin = 500 * time.Millisecond
)

// Sentinel errors, for errors.Is.
var (
	// ErrUndelivered reports activities that are not on the bus: Publish
	// returns it (in an *UndeliveredError) so the Lambda invocation fails and
	// is retried, and finally lands in its on-failure destination.
	ErrUndelivered = errors.New("eventbus: undelivered")
	// ErrConfig reports an invalid publisher configuration.
	ErrConfig = errors.New("eventbus: invalid configuration")
)

// Config configures a Publisher.
type Config struct {
	// BusName is the event bus name or ARN. Required.
	BusName string
	// MaxRequestBytes bounds each request by EventBridge's entry-size formula
	// (activity.Entry.Size) and each entry too. Default
	// activity.DefaultMaxEntrySize (256 KB, the limit the API reference
	// states; AWS announced 1 MB in 2026, so this is a setting).
	MaxRequestBytes int
	// MaxAttempts is how many times an entry is sent when PutEvents reports it
	// failed with a retryable code. Default DefaultMaxAttempts.
	MaxAttempts int
	// BaseDelay and MaxDelay shape the exponential backoff with full jitter
	// between attempts. Defaults DefaultBaseDelay, DefaultMaxDelay.
	BaseDelay, MaxDelay time.Duration
	// Concurrency is how many PutEvents requests run at once. Default
	// DefaultConcurrency.
	Concurrency int
	// DeadlineMargin is kept free before ctx's deadline, so that Publish
	// returns its error (naming what is undelivered) before the Lambda runtime
	// kills the invocation. Default DefaultDeadlineMargin; it is only applied
	// when more than twice the margin remains.
	DeadlineMargin time.Duration
	// Logger receives retry warnings (counts and ids only). Default
	// slog.Default().
	Logger *slog.Logger
}

// Publisher publishes activities on an EventBridge bus. It is safe for
// concurrent use.
type Publisher struct {
	client  PutEventsAPI
	cfg     Config
	retried atomic.Int64
}

// Retried is how many entries were sent again, since the publisher was
// built, after PutEvents reported them failed with a retryable code; a
// caller reads it before and after Publish for one batch's count.
func (p *Publisher) Retried() int64 { return p.retried.Load() }

// NewPublisher returns a publisher that sends through client with cfg, its
// zero fields set to the defaults.
func NewPublisher(client PutEventsAPI, cfg Config) (*Publisher, error) {
	if client == nil {
		return nil, fmt.Errorf("%w: nil client", ErrConfig)
	}
	if cfg.BusName == "" {
		return nil, fmt.Errorf("%w: bus name is required", ErrConfig)
	}
	if cfg.MaxRequestBytes <= 0 {
		cfg.MaxRequestBytes = activity.DefaultMaxEntrySize
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.BaseDelay <= 0 {
		cfg.BaseDelay = DefaultBaseDelay
	}
	if cfg.MaxDelay <= 0 {
		cfg.MaxDelay = DefaultMaxDelay
	}
	if cfg.MaxDelay < cfg.BaseDelay {
		return nil, fmt.Errorf("%w: max delay %s is below base delay %s", ErrConfig, cfg.MaxDelay, cfg.BaseDelay)
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	if cfg.DeadlineMargin <= 0 {
		cfg.DeadlineMargin = DefaultDeadlineMargin
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Publisher{client: client, cfg: cfg}, nil
}

// Failure is one activity that is not on the bus.
type Failure struct {
	// ID is the activity id.
	ID string
	// Code is EventBridge's per-entry ErrorCode, the request error's code, or
	// "InvalidActivity" for an activity that could not become an entry.
	Code string
	// Message is EventBridge's ErrorMessage or the error's text.
	Message string
}

// UndeliveredError lists the activities Publish could not put on the bus. It
// matches ErrUndelivered, and the request error behind the failures (a
// context deadline, say) when there was one.
type UndeliveredError struct {
	Failures []Failure
	// Total is the number of activities Publish was given.
	Total int
	cause error
}

// maxNamedFailures bounds how many failures the error text names.
const maxNamedFailures = 10

// Error names the undelivered activities (at most ten, then a count) with
// their error codes.
func (e *UndeliveredError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d of %d activities:", ErrUndelivered, len(e.Failures), e.Total)
	for i, f := range e.Failures {
		if i == maxNamedFailures {
			fmt.Fprintf(&b, " and %d more", len(e.Failures)-i)
			break
		}
		sep := ","
		if i == 0 {
			sep = ""
		}
		fmt.Fprintf(&b, "%s %s (%s)", sep, activity.Truncate(f.ID, 80), f.Code)
	}
	if e.cause != nil {
		fmt.Fprintf(&b, ": %v", e.cause)
	}
	return b.String()
}

// Unwrap returns ErrUndelivered and the first request error, if any.
func (e *UndeliveredError) Unwrap() []error {
	if e.cause == nil {
		return []error{ErrUndelivered}
	}
	return []error{ErrUndelivered, e.cause}
}

// retryableCodes are the per-entry error codes the PutEvents API reference
// lists as retryable (PutEventsResultEntry.ErrorCode). The others it lists —
// AccessDeniedException, InvalidAccountIdException, InvalidArgument,
// MalformedDetail, RedactionFailure, NotAuthorizedForSourceException,
// NotAuthorizedForDetailTypeException — would fail the same way again.
var retryableCodes = map[string]bool{
	"ThrottlingException": true,
	"InternalFailure":     true,
}

// pending is an entry on its way to the bus.
type pending struct {
	id    string
	entry activity.Entry
}

// Publish puts the activities on the bus: at most 10 entries and
// MaxRequestBytes per request, requests run Concurrency at a time. Entries
// that PutEvents reports failed with a retryable code are sent again, alone,
// with exponential backoff and full jitter, up to MaxAttempts in all and
// within ctx's deadline (less DeadlineMargin). Request-level errors
// (throttling, 5xx, timeouts) are the SDK retryer's job: see NewClient.
//
// Whatever is still not on the bus at the end, including an activity that is
// invalid or cannot be bounded to MaxRequestBytes, is reported in an
// *UndeliveredError; everything else has been published exactly once by this
// call.
func (p *Publisher) Publish(ctx context.Context, acts []*activity.Activity) error {
	if len(acts) == 0 {
		return nil
	}
	ctx, cancel := p.withMargin(ctx)
	defer cancel()

	var (
		mu       sync.Mutex
		failures []Failure
		cause    error
	)
	fail := func(fs []Failure, err error) {
		mu.Lock()
		defer mu.Unlock()
		failures = append(failures, fs...)
		if cause == nil && err != nil {
			cause = err
		}
	}

	entries := make([]pending, 0, len(acts))
	var block EntryBlock
	defer block.Release() // after the last request: the requests carry the Details themselves
	for i, a := range acts {
		if a == nil {
			fail([]Failure{{ID: fmt.Sprintf("#%d", i), Code: "InvalidActivity", Message: "nil activity"}}, nil)
			continue
		}
		e, err := block.Entry(a, p.cfg.MaxRequestBytes)
		if err != nil {
			fail([]Failure{{ID: a.ID, Code: "InvalidActivity", Message: err.Error()}}, err)
			continue
		}
		entries = append(entries, pending{id: a.ID, entry: e})
	}

	// Concurrency workers take the requests in order: a few goroutines per
	// call rather than one per request, each of which would grow its stack
	// again through the SDK's deep middleware chain.
	batches := p.batches(entries)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(p.cfg.Concurrency, len(batches)) {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < len(batches); i = int(next.Add(1)) - 1 {
				if fs, err := p.send(ctx, batches[i]); len(fs) > 0 {
					fail(fs, err)
				}
			}
		})
	}
	wg.Wait()

	p.cfg.Logger.LogAttrs(ctx, slog.LevelInfo, "eventbus: published",
		slog.Int("activities", len(acts)), slog.Int("published", len(acts)-len(failures)), slog.Int("undelivered", len(failures)))
	if len(failures) > 0 {
		return &UndeliveredError{Failures: failures, Total: len(acts), cause: cause}
	}
	return nil
}

// withMargin shortens ctx's deadline by the configured margin when there is
// room for it.
func (p *Publisher) withMargin(ctx context.Context) (context.Context, context.CancelFunc) {
	deadline, ok := ctx.Deadline()
	if !ok || time.Until(deadline) <= 2*p.cfg.DeadlineMargin {
		return ctx, func() {}
	}
	return context.WithDeadline(ctx, deadline.Add(-p.cfg.DeadlineMargin))
}

// batches packs entries, in order, into requests of at most
// MaxEntriesPerRequest entries and MaxRequestBytes bytes.
func (p *Publisher) batches(entries []pending) [][]pending {
	var (
		out   [][]pending
		cur   []pending
		bytes int
	)
	for _, e := range entries {
		size := e.entry.Size()
		if len(cur) == MaxEntriesPerRequest || (len(cur) > 0 && bytes+size > p.cfg.MaxRequestBytes) {
			out = append(out, cur)
			cur, bytes = nil, 0
		}
		cur = append(cur, e)
		bytes += size
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// send puts one batch on the bus, retrying the entries that fail with a
// retryable code, and returns those that never made it with the request
// error, if one ended the attempts.
func (p *Publisher) send(ctx context.Context, batch []pending) ([]Failure, error) {
	var final []Failure
	for attempt := 1; ; attempt++ {
		out, err := p.client.PutEvents(ctx, p.input(batch))
		if err != nil {
			return append(final, failAll(batch, err)...), fmt.Errorf("eventbus: put events: %w", err)
		}
		var retry []pending
		var retryFailures []Failure
		for i, e := range batch {
			code, msg := resultOf(out, i)
			switch {
			case code == "":
				continue
			case retryableCodes[code]:
				retry = append(retry, e)
				retryFailures = append(retryFailures, Failure{ID: e.id, Code: code, Message: msg})
			default:
				final = append(final, Failure{ID: e.id, Code: code, Message: msg})
			}
		}
		if len(retry) == 0 {
			return final, nil
		}
		if attempt == p.cfg.MaxAttempts {
			return append(final, retryFailures...), nil
		}
		p.cfg.Logger.LogAttrs(ctx, slog.LevelWarn, "eventbus: retrying failed entries",
			slog.Int("attempt", attempt), slog.Int("retrying", len(retry)), slog.Int("failed", len(final)),
			slog.String("code", retryFailures[0].Code), slog.String("firstId", retry[0].id))
		if err := p.sleep(ctx, attempt); err != nil {
			return append(final, retryFailures...), err
		}
		p.retried.Add(int64(len(retry)))
		batch = retry
	}
}

// resultOf returns the error code and message PutEvents reported for entry i.
// A result that is missing, or that carries neither an event id nor an error,
// counts as an InternalFailure: the entry may not be on the bus, and sending
// it again is safer than losing it.
func resultOf(out *eventbridge.PutEventsOutput, i int) (code, msg string) {
	if i >= len(out.Entries) {
		return "InternalFailure", "no result entry for this request entry"
	}
	r := out.Entries[i]
	if c := aws.ToString(r.ErrorCode); c != "" {
		return c, aws.ToString(r.ErrorMessage)
	}
	if aws.ToString(r.EventId) == "" {
		return "InternalFailure", "result entry has neither an event id nor an error code"
	}
	return "", ""
}

// input is the request of one batch. Each Detail is the entry's bytes, not a
// copy: they stay unchanged until Publish releases its block, after its
// last request (see PutEventsAPI).
func (p *Publisher) input(batch []pending) *eventbridge.PutEventsInput {
	in := &eventbridge.PutEventsInput{Entries: make([]types.PutEventsRequestEntry, len(batch))}
	for i, e := range batch {
		in.Entries[i] = types.PutEventsRequestEntry{
			EventBusName: aws.String(p.cfg.BusName),
			Source:       aws.String(e.entry.Source),
			DetailType:   aws.String(e.entry.DetailType),
			Detail:       aws.String(unsafe.String(unsafe.SliceData(e.entry.Detail), len(e.entry.Detail))),
		}
	}
	return in
}

// sleep waits the backoff before attempt+1: a uniformly random delay up to
// min(MaxDelay, BaseDelay·2^(attempt-1)) ("full jitter"). It returns at once
// with an error when the wait would outlast ctx's deadline.
func (p *Publisher) sleep(ctx context.Context, attempt int) error {
	ceiling := p.cfg.MaxDelay
	if shift := attempt - 1; shift < 30 && p.cfg.BaseDelay<<shift < ceiling {
		ceiling = p.cfg.BaseDelay << shift
	}
	d := rand.N(ceiling + 1)
	if deadline, ok := ctx.Deadline(); ok && time.Now().Add(d).After(deadline) {
		return fmt.Errorf("eventbus: retry backoff of %s would pass the deadline: %w", d.Round(time.Millisecond), context.DeadlineExceeded)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return fmt.Errorf("eventbus: retry backoff: %w", context.Cause(ctx))
	case <-t.C:
		return nil
	}
}

// failAll marks every entry of a batch failed by a request error, with the
// error's API code when it has one.
func failAll(batch []pending, err error) []Failure {
	code := "RequestError"
	var apiErr smithy.APIError
	switch {
	case errors.As(err, &apiErr):
		code = apiErr.ErrorCode()
	case errors.Is(err, context.DeadlineExceeded):
		code = "DeadlineExceeded"
	case errors.Is(err, context.Canceled):
		code = "Canceled"
	}
	out := make([]Failure, len(batch))
	for i, e := range batch {
		out[i] = Failure{ID: e.id, Code: code, Message: err.Error()}
	}
	return out
}
