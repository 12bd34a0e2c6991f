package awsevents

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/activity-aware/ids/eventbus"
	"github.com/activity-aware/ids/monitoring/heartbeat"
	"github.com/activity-aware/ids/monitoring/metrics"
)

// Publisher delivers activities to the activity bus; eventbus.Publisher
// implements it. It returns an error unless every activity was delivered.
type Publisher = eventbus.Sender

// Handler is the Lambda handler of the sources that read EventBridge
// events: an EventBridge rule invokes it (asynchronously) with one event.
type Handler struct {
	Router    *Router
	Publisher Publisher
	// Logger receives one JSON line per event with counts and ids, never
	// event contents; slog.Default when nil.
	Logger *slog.Logger
	// Metrics receives one embedded-metric line per event (records in:
	// 1, published, unrecognized, publish failures and retries); none when
	// nil.
	Metrics *metrics.Emitter
}

// Invoke standardizes the event the rule delivered and publishes its
// activities (lambda.Handler); a heartbeat request (heartbeat.ParseRequest,
// from the monitoring schedule when this is the stack's first source)
// publishes the canary activity instead. Input that is not an event, and a failed
// publish, are errors, so that Lambda retries the invocation and finally
// keeps the event in the function's on-failure destination.
func (h *Handler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	log := h.Logger
	if log == nil {
		log = slog.Default()
	}
	if req, ok := heartbeat.ParseRequest(payload); ok {
		return []byte("null"), h.heartbeat(ctx, log, req)
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
		h.Metrics.Emit(metrics.N(metrics.RecordsIn, 1), metrics.N(metrics.ActivitiesPublished, 0))
		log.InfoContext(ctx, "event source: nothing to publish", attrs...)
		return []byte("null"), nil
	}
	sent, err := eventbus.Send(ctx, h.Publisher, acts)
	h.Metrics.Emit(
		metrics.N(metrics.RecordsIn, 1),
		metrics.N(metrics.ActivitiesPublished, len(acts)-sent.Failed),
		metrics.N(metrics.Unrecognized, unrecognized),
		metrics.N(metrics.PublishFailures, sent.Failed),
		metrics.N(metrics.PublishRetries, sent.Retries),
	)
	if err != nil {
		log.ErrorContext(ctx, "event source: publish failed", append(attrs, "failed", sent.Failed, "error", err.Error())...)
		return nil, fmt.Errorf("awsevents: event %s: publish %d activities: %w", ev.ID, len(acts), err)
	}
	log.InfoContext(ctx, "event source: published", attrs...)
	return []byte("null"), nil
}

// heartbeat publishes the canary for req.
func (h *Handler) heartbeat(ctx context.Context, log *slog.Logger, req heartbeat.Request) error {
	if err := heartbeat.Send(ctx, h.Publisher, req, time.Now(), h.Metrics, log, "event source"); err != nil {
		return fmt.Errorf("awsevents: %w", err)
	}
	return nil
}
