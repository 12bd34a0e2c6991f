// Package dispatch is the Lambda handler every destination shares: it
// decodes the activity an EventBridge rule delivered, hands it to the
// destination's Deliverer, logs one line with ids and counts and emits the
// destination metrics the alarms read (package metrics). A failed delivery
// is an error, so Lambda retries the event and finally sends it to the
// on-failure queue: nothing is dropped after a log line. A heartbeat canary
// is checked (the secret reads and holds a usable target), counted and not
// sent, so the receiving channel stays quiet.
//
// With a Notifier, the destination applies its notification policy (package
// correlation); HandleSQS takes the batches of the destination's pacing
// queues and Sweep, run every minute, delivers the digests of ended windows.
// A ThreadDeliverer (Slack's app mode) gets a group's repeats as replies in
// the thread of its first message, and updates that message's count.
//
// An event whose publisher is not a trusted producer (Handler.Trust,
// eventbus.Trust) is never delivered as an activity.
package dispatch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/correlation"
	"github.com/activity-aware/ids/destinations/delivery"
	"github.com/activity-aware/ids/eventbus"
	"github.com/activity-aware/ids/monitoring/heartbeat"
	"github.com/activity-aware/ids/monitoring/metrics"
)

// Result is what one delivery did.
type Result struct {
	// Attempts is how many requests were made.
	Attempts int
	// Skipped, when not empty, says why nothing was sent (e.g. below the
	// destination's severity); the event still counts as handled.
	Skipped string
	// Thread, set by a ThreadDeliverer, is the message just posted as the
	// parent of a thread: with a notification policy, the activity's group
	// gets its repeats as replies there.
	Thread *correlation.Thread
}

// ThreadDeliverer is a Deliverer that can thread a group's repeats under
// the group's first message (the Slack app mode): its Deliver returns the
// message's Result.Thread, DeliverReply posts a repeat in that thread, and
// UpdateThread updates the first message with the thread's count. A
// Deliverer without it gets no replies: repeats are folded into digests.
type ThreadDeliverer interface {
	Deliverer
	DeliverReply(ctx context.Context, a *activity.Activity, t *correlation.Thread, log *slog.Logger) (Result, error)
	// UpdateThread shows t's counts on its first message. It is best
	// effort: the reply is out, and the sweep sets the final count.
	UpdateThread(ctx context.Context, t correlation.Thread, log *slog.Logger) error
}

// UnverifiedDeliverer is a Deliverer that can stand a notice in for an event
// that failed verification (eventbus.ErrUnverified): who published it and
// why it is not believed, nothing of what it claims. A Deliverer without it
// refuses such events and counts them (log line "unverified": 1), never
// delivering them as activities.
type UnverifiedDeliverer interface {
	DeliverUnverified(ctx context.Context, ev events.EventBridgeEvent, reason error, log *slog.Logger) (Result, error)
}

// Deliverer renders an activity for one system and delivers it.
type Deliverer interface {
	Deliver(ctx context.Context, a *activity.Activity, log *slog.Logger) (Result, error)
	// Check proves the destination could deliver (its secret reads and
	// holds a usable target) without sending anything.
	Check(ctx context.Context) error
}

// ErrNoDeliverer reports a handler built without its Deliverer.
var ErrNoDeliverer = errors.New("dispatch: handler has no deliverer")

// Handler is a destination function's logic.
type Handler struct {
	// Name prefixes errors and log messages, e.g. "webhook".
	Name      string
	Deliverer Deliverer
	// Trust is the set of producers whose activities are delivered (see
	// eventbus.Trust); when zero, the function's own account (from the
	// invocation's function ARN) is the one trusted producer.
	Trust eventbus.Trust
	// Logger receives one line per event; slog.Default when nil.
	Logger *slog.Logger
	// Metrics receives one embedded-metric line per event (none when nil).
	Metrics *metrics.Emitter
	// Account is the AWS account the heartbeat canary must come from; ""
	// accepts any.
	Account string
	// Now measures delivery latency and is the notification policy's
	// clock; time.Now when nil.
	Now func() time.Time
	// Notifier, when set, applies the destination's notification policy
	// (aggregation into digests, suppressions, one delivery per activity
	// id; package correlation); without it every activity is delivered.
	// Its digests need a Deliverer that is also a DigestDeliverer.
	Notifier Notifier

	// posted is set once this execution environment tried its first post.
	posted atomic.Bool
}

// Notifier applies a destination's notification policy;
// correlation.(*Notifier) implements it.
type Notifier interface {
	Decide(ctx context.Context, a *activity.Activity, now time.Time) (correlation.Decision, error)
	Posted(ctx context.Context, d correlation.Decision, now time.Time) error
	Replied(ctx context.Context, d correlation.Decision, now time.Time) (correlation.Thread, error)
	Failed(ctx context.Context, d correlation.Decision, now time.Time) error
	Sweep(ctx context.Context, now time.Time) ([]correlation.Digest, error)
	Digested(ctx context.Context, d correlation.Digest) error
}

var _ Notifier = (*correlation.Notifier)(nil)

// DigestDeliverer is a Deliverer that also delivers the digest closing a
// group's window.
type DigestDeliverer interface {
	Deliverer
	DeliverDigest(ctx context.Context, d *correlation.Digest, log *slog.Logger) (Result, error)
}

// Handle delivers one activity event.
func (h *Handler) Handle(ctx context.Context, ev events.EventBridgeEvent) error {
	log := h.Logger
	if log == nil {
		log = slog.Default()
	}
	if h.Deliverer == nil {
		return ErrNoDeliverer
	}
	a, err := eventbus.DecodeVerified(ev, h.trust(ctx))
	if errors.Is(err, eventbus.ErrUnverified) {
		return h.unverified(ctx, ev, err, log)
	}
	if err != nil {
		log.ErrorContext(ctx, h.Name+": rejected event", slog.String("eventId", ev.ID), slog.String("error", err.Error()))
		return fmt.Errorf("%s: handle event %s: %w", h.Name, ev.ID, err)
	}
	log = log.With(slog.String("eventId", ev.ID), slog.String("activityId", a.ID))
	if heartbeat.Is(ev.Source, ev.AccountID, h.Account, a) {
		if err := h.Deliverer.Check(ctx); err != nil {
			return fmt.Errorf("%s: heartbeat %s: %w", h.Name, a.ID, err)
		}
		h.Metrics.Emit(metrics.N(metrics.CanaryDelivered, 1), metrics.Duration(metrics.CanaryLatency, h.now().Sub(a.Time)))
		log.InfoContext(ctx, h.Name+": heartbeat delivered")
		return nil
	}
	if h.Notifier == nil {
		_, err := h.deliver(ctx, a, log, h.Deliverer.Deliver)
		return err
	}
	return h.notify(ctx, a, log)
}

// notify applies the notification policy: the activity is delivered now,
// or folded into its group's digest, or counted as suppressed, or dropped as
// a duplicate of one handled before.
func (h *Handler) notify(ctx context.Context, a *activity.Activity, log *slog.Logger) error {
	now := h.now()
	d, err := h.Notifier.Decide(ctx, a, now)
	if err != nil {
		log.ErrorContext(ctx, h.Name+": notification policy failed", slog.String("error", err.Error()))
		return fmt.Errorf("%s: activity %s: %w", h.Name, a.ID, err)
	}
	switch d.Action {
	case correlation.Post, correlation.Reply:
		td, threads := h.Deliverer.(ThreadDeliverer)
		send := h.Deliverer.Deliver
		if d.Action == correlation.Reply {
			log = log.With(slog.Bool("reply", true))
			if threads {
				send = func(ctx context.Context, a *activity.Activity, log *slog.Logger) (Result, error) {
					return td.DeliverReply(ctx, a, d.Thread, log)
				}
			}
		}
		res, err := h.deliver(ctx, a, log, send)
		if err != nil {
			if ferr := h.Notifier.Failed(ctx, d, now); ferr != nil {
				log.ErrorContext(ctx, h.Name+": record failed delivery", slog.String("error", ferr.Error()))
			}
			return err
		}
		// The message is out from here on: failing the event would send it
		// again, so what follows is logged, not returned.
		if d.Action == correlation.Post {
			d.Thread = res.Thread
			if err := h.Notifier.Posted(ctx, d, now); err != nil {
				log.ErrorContext(ctx, h.Name+": record delivery", slog.String("error", err.Error()))
			}
			return nil
		}
		t, err := h.Notifier.Replied(ctx, d, now)
		if err != nil {
			// Without the new count the first message is left as it is.
			log.ErrorContext(ctx, h.Name+": record reply", slog.String("error", err.Error()))
		} else if threads {
			if err := td.UpdateThread(ctx, t, log); err != nil {
				log.WarnContext(ctx, h.Name+": thread count not updated", slog.String("error", err.Error()))
			}
		}
		return nil
	case correlation.Fold:
		h.Metrics.Emit(metrics.N(metrics.Folded, 1))
	case correlation.Suppress:
		h.Metrics.Emit(metrics.N(metrics.Suppressed, 1))
	case correlation.Duplicate:
		h.Metrics.Emit(metrics.N(metrics.Duplicates, 1))
	}
	log.InfoContext(ctx, h.Name+": not delivered", slog.String("action", d.Action.String()))
	return nil
}

// deliver hands one activity to send (the Deliverer's Deliver or
// DeliverReply), with its log line and metrics.
func (h *Handler) deliver(ctx context.Context, a *activity.Activity, log *slog.Logger,
	send func(context.Context, *activity.Activity, *slog.Logger) (Result, error)) (Result, error) {
	first := !h.posted.Swap(true)
	res, err := send(ctx, a, log)
	if err != nil {
		attrs := []any{slog.Int("attempts", res.Attempts), slog.String("error", err.Error()), slog.Bool("firstPost", first)}
		permanent := errors.Is(err, delivery.ErrPermanent)
		var de *delivery.Error
		if errors.As(err, &de) {
			attrs = append(attrs, slog.Int("status", de.StatusCode), slog.String("code", de.Code), slog.Bool("permanent", de.Permanent))
		}
		h.Metrics.Emit(
			metrics.N(metrics.Posts, 0),
			metrics.N(metrics.DeliveryFailures, 1),
			metrics.N(metrics.PermanentErrors, count(permanent)),
			metrics.N(metrics.ColdStartPermanentErrors, count(permanent && first)),
		)
		log.ErrorContext(ctx, h.Name+": delivery failed", attrs...)
		return res, fmt.Errorf("%s: activity %s: %w", h.Name, a.ID, err)
	}
	if res.Skipped != "" {
		log.InfoContext(ctx, h.Name+": skipped", slog.String("reason", res.Skipped))
		return res, nil
	}
	h.Metrics.Emit(
		metrics.N(metrics.Posts, 1),
		metrics.N(metrics.DeliveryFailures, 0),
		metrics.Duration(metrics.DeliveryLatency, h.now().Sub(a.Time)),
	)
	log.InfoContext(ctx, h.Name+": delivered", slog.Int("attempts", res.Attempts))
	return res, nil
}

// unverified handles an event that failed verification: the Deliverer's
// notice when it has one, else a refusal that is counted in the log. The
// notice bypasses the notification policy: it is not an activity.
func (h *Handler) unverified(ctx context.Context, ev events.EventBridgeEvent, reason error, log *slog.Logger) error {
	log = log.With(slog.String("eventId", ev.ID), slog.String("account", ev.AccountID), slog.Int("unverified", 1))
	ud, ok := h.Deliverer.(UnverifiedDeliverer)
	if !ok {
		log.WarnContext(ctx, h.Name+": refused unverified activity", slog.String("error", reason.Error()))
		return nil
	}
	res, err := ud.DeliverUnverified(ctx, ev, reason, log)
	if err != nil {
		log.ErrorContext(ctx, h.Name+": unverified-activity notice failed", slog.Int("attempts", res.Attempts), slog.String("error", err.Error()))
		return fmt.Errorf("%s: unverified event %s: %w", h.Name, ev.ID, err)
	}
	h.Metrics.Emit(metrics.N(metrics.Posts, 1), metrics.N(metrics.DeliveryFailures, 0))
	log.WarnContext(ctx, h.Name+": unverified activity, notice posted", slog.String("error", reason.Error()), slog.Int("attempts", res.Attempts))
	return nil
}

// trust is h.Trust, or the function's own account when h.Trust is zero.
func (h *Handler) trust(ctx context.Context) eventbus.Trust {
	if !h.Trust.IsZero() {
		return h.Trust
	}
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		// arn:aws:lambda:region:account:function:name
		if parts := strings.SplitN(lc.InvokedFunctionArn, ":", 6); len(parts) == 6 {
			return eventbus.Trust{Accounts: []string{parts[4]}}
		}
	}
	return eventbus.Trust{}
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

func count(b bool) int {
	if b {
		return 1
	}
	return 0
}
