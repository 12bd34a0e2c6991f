package awsevents

import (
	"context"
	"fmt"
	"log/slog"
	"slices"

	"github.com/activity-aware/ids/activity"
)

// Publisher delivers activities to the activity bus; eventbus.Publisher
// implements it. It returns an error unless every activity was delivered.
type Publisher interface {
	Publish(ctx context.Context, acts []*activity.Activity) error
}

// Handler is the Lambda handler of the sources that read EventBridge
// events: an EventBridge rule invokes it (asynchronously) with one event.
type Handler struct {
	Router    *Router
	Publisher Publisher
	// Logger receives one JSON line per event with counts and ids, never
	// event contents; slog.Default when nil.
	Logger *slog.Logger
}

// Invoke standardizes the event the rule delivered and publishes its
// activities (lambda.Handler). Input that is not an event, and a failed
// publish, are errors, so that Lambda retries the invocation and finally
// keeps the event in the function's on-failure destination.
func (h *Handler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	log := h.Logger
	if log == nil {
		log = slog.Default()
	}
	ev, err := Decode(payload)
	if err != nil {
		log.ErrorContext(ctx, "event source: decode failed", "error", err.Error())
		return nil, err
	}
	acts := h.Router.Route(ev)
	var unrecognized int
	for _, a := range acts {
		if slices.Contains(a.Tags, TagUnrecognized) {
			unrecognized++
		}
	}
	attrs := []any{
		"eventId", ev.ID,
		"eventSource", ev.Source,
		"detailType", ev.DetailType,
		"activities", len(acts),
		"unrecognized", unrecognized,
	}
	if len(acts) == 0 {
		log.InfoContext(ctx, "event source: nothing to publish", attrs...)
		return []byte("null"), nil
	}
	if err := h.Publisher.Publish(ctx, acts); err != nil {
		log.ErrorContext(ctx, "event source: publish failed", append(attrs, "error", err.Error())...)
		return nil, fmt.Errorf("awsevents: event %s: publish %d activities: %w", ev.ID, len(acts), err)
	}
	log.InfoContext(ctx, "event source: published", attrs...)
	return []byte("null"), nil
}
