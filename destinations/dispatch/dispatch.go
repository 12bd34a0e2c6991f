// Package dispatch is the Lambda handler every destination shares: it
// decodes the activity an EventBridge rule delivered, hands it to the
// destination's Deliverer and logs one line with ids and counts. A failed
// delivery is an error, so Lambda retries the event and finally sends it to
// the on-failure queue: nothing is dropped after a log line.
package dispatch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/destinations/delivery"
	"github.com/activity-aware/ids/eventbus"
)

// Result is what one delivery did.
type Result struct {
	// Attempts is how many requests were made.
	Attempts int
	// Skipped, when not empty, says why nothing was sent (e.g. below the
	// destination's severity); the event still counts as handled.
	Skipped string
}

// Deliverer renders an activity for one system and delivers it.
type Deliverer interface {
	Deliver(ctx context.Context, a *activity.Activity, log *slog.Logger) (Result, error)
}

// ErrNoDeliverer reports a handler built without its Deliverer.
var ErrNoDeliverer = errors.New("dispatch: handler has no deliverer")

// Handler is a destination function's logic.
type Handler struct {
	// Name prefixes errors and log messages, e.g. "webhook".
	Name      string
	Deliverer Deliverer
	// Logger receives one line per event (nil: discard).
	Logger *slog.Logger
}

// Handle delivers one activity event.
func (h *Handler) Handle(ctx context.Context, ev events.EventBridgeEvent) error {
	log := h.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if h.Deliverer == nil {
		return ErrNoDeliverer
	}
	a, err := eventbus.Decode(ev)
	if err != nil {
		log.ErrorContext(ctx, h.Name+": rejected event", slog.String("eventId", ev.ID), slog.String("error", err.Error()))
		return fmt.Errorf("%s: handle event %s: %w", h.Name, ev.ID, err)
	}
	log = log.With(slog.String("eventId", ev.ID), slog.String("activityId", a.ID))
	res, err := h.Deliverer.Deliver(ctx, a, log)
	if err != nil {
		attrs := []any{slog.Int("attempts", res.Attempts), slog.String("error", err.Error())}
		var de *delivery.Error
		if errors.As(err, &de) {
			attrs = append(attrs, slog.Int("status", de.StatusCode), slog.String("code", de.Code), slog.Bool("permanent", de.Permanent))
		}
		log.ErrorContext(ctx, h.Name+": delivery failed", attrs...)
		return fmt.Errorf("%s: activity %s: %w", h.Name, a.ID, err)
	}
	if res.Skipped != "" {
		log.InfoContext(ctx, h.Name+": skipped", slog.String("reason", res.Skipped))
		return nil
	}
	log.InfoContext(ctx, h.Name+": delivered", slog.Int("attempts", res.Attempts))
	return nil
}
