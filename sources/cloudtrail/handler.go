package cloudtrail

import (
	"context"
	"fmt"
	"log/slog"
	"slices"

	"github.com/aws/aws-lambda-go/events"

	"github.com/activity-aware/ids/activity"
)

// Publisher delivers activities to the activity bus; eventbus.Publisher
// implements it. It returns an error unless every activity was delivered.
type Publisher interface {
	Publish(ctx context.Context, acts []*activity.Activity) error
}

// Handler is the CloudTrail source Lambda's handler: it standardizes a
// subscription batch and publishes all of it.
type Handler struct {
	Source    *Source
	Publisher Publisher
	// Logger receives one JSON line per batch with counts and ids, never
	// record contents; slog.Default when nil.
	Logger *slog.Logger
}

// Handle decodes the subscription event and publishes one activity per log
// event. A payload that cannot be decoded is returned as an error with
// nothing published, so Lambda retries and finally keeps the batch in the
// on-failure destination; so is a failed publish.
func (h *Handler) Handle(ctx context.Context, ev events.CloudwatchLogsEvent) error {
	acts, err := h.Source.FromSubscription(ev)
	return h.publish(ctx, acts, err)
}

// Invoke is Handle on the invocation payload as the Lambda runtime delivers
// it (lambda.Handler): passing the Handler itself to lambda.Start skips
// decoding the megabyte of base64 with encoding/json (see
// Source.FromPayload). Its response is JSON null, as Handle's is.
func (h *Handler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	acts, err := h.Source.FromPayload(payload)
	return []byte("null"), h.publish(ctx, acts, err)
}

// publish logs and publishes the activities of one batch, or logs decodeErr.
func (h *Handler) publish(ctx context.Context, acts []*activity.Activity, decodeErr error) error {
	log := h.Logger
	if log == nil {
		log = slog.Default()
	}
	if decodeErr != nil {
		log.ErrorContext(ctx, "cloudtrail source: decode failed", "error", decodeErr.Error())
		return decodeErr
	}
	if len(acts) == 0 {
		log.InfoContext(ctx, "cloudtrail source: no log events")
		return nil
	}
	var unrecognized, denied int
	for _, a := range acts {
		if slices.Contains(a.Tags, TagUnrecognized) {
			unrecognized++
		}
		if a.Action != nil && a.Action.Outcome == activity.Denied {
			denied++
		}
	}
	// The function's logger (lambdacontext.NewLogger) adds the request id.
	attrs := []any{
		"logGroup", acts[0].Origin.LogGroup,
		"logEvents", len(acts),
		"denied", denied,
		"unrecognized", unrecognized,
	}
	if err := h.Publisher.Publish(ctx, acts); err != nil {
		log.ErrorContext(ctx, "cloudtrail source: publish failed", append(attrs, "error", err.Error())...)
		return fmt.Errorf("cloudtrail: publish %d activities: %w", len(acts), err)
	}
	log.InfoContext(ctx, "cloudtrail source: published", attrs...)
	return nil
}
