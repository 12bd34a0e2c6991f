package awsevents

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/eventbus"
	"github.com/activity-aware/ids/monitoring/heartbeat"
	"github.com/activity-aware/ids/monitoring/metrics"
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
	// Metrics receives one embedded-metric line per event (records in:
	// 1, published, unrecognized, publish failures and retries); none when
	// nil.
	Metrics *metrics.Emitter
}

// retryCounter is what eventbus.Publisher reports of its retries.
type retryCounter interface{ Retried() int64 }

func (h *Handler) retried() int64 {
	if rc, ok := h.Publisher.(retryCounter); ok {
		return rc.Retried()
	}
	return 0
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
	before := h.retried()
	err = h.Publisher.Publish(ctx, acts)
	failed := 0
	if err != nil {
		failed = len(acts)
		if ue, ok := errors.AsType[*eventbus.UndeliveredError](err); ok && len(ue.Failures) > 0 {
			failed = len(ue.Failures)
		}
	}
	h.Metrics.Emit(
		metrics.N(metrics.RecordsIn, 1),
		metrics.N(metrics.ActivitiesPublished, len(acts)-failed),
		metrics.N(metrics.Unrecognized, unrecognized),
		metrics.N(metrics.PublishFailures, failed),
		metrics.N(metrics.PublishRetries, int(h.retried()-before)),
	)
	if err != nil {
		log.ErrorContext(ctx, "event source: publish failed", append(attrs, "failed", failed, "error", err.Error())...)
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
