package cloudtrail

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/eventbus"
	"github.com/activity-aware/ids/monitoring/heartbeat"
	"github.com/activity-aware/ids/monitoring/metrics"
)

// Publisher delivers activities to the activity bus; eventbus.Publisher
// implements it. It returns an error unless every activity was delivered,
// and keeps none of them: Invoke builds the next batch in their memory.
type Publisher = eventbus.Sender

// Handler is the CloudTrail source Lambda's handler: it standardizes a
// subscription batch and publishes all of it.
type Handler struct {
	Source    *Source
	Publisher Publisher
	// Logger receives one JSON line per batch with counts and ids, never
	// record contents; slog.Default when nil.
	Logger *slog.Logger
	// Metrics receives one embedded-metric line per invocation (records
	// in, activities published, unrecognized, publish failures and
	// retries, heartbeats); none when nil.
	Metrics *metrics.Emitter
	// Now stamps heartbeat activities without a scheduled time; time.Now
	// when nil.
	Now func() time.Time
	// Keep, when set, selects the activities of a batch to publish; the
	// others are counted (RecordsFiltered) and dropped. The source sets it
	// when a broad subscription filter delivers records no enabled
	// detection labels (detections.SubscriptionPattern). Heartbeats are
	// always published.
	Keep func(*activity.Activity) bool
	// Failures, when set, keeps the log events of a batch the bus took only
	// in part (parkPartial), so the batch is not sent again; nil: a partly
	// published batch fails the invocation as a whole.
	Failures FailureQueue
}

// Handle decodes the subscription event and publishes one activity per log
// event. A payload that cannot be decoded is returned as an error with
// nothing published, so Lambda retries and finally keeps the batch in the
// on-failure destination; so is a failed publish.
func (h *Handler) Handle(ctx context.Context, ev events.CloudwatchLogsEvent) error {
	acts, err := h.Source.FromSubscription(ev, nil)
	return h.publish(ctx, acts, err)
}

// Invoke is Handle on the invocation payload as the Lambda runtime delivers
// it (lambda.Handler): passing the Handler itself to lambda.Start skips
// decoding the megabyte of base64 with encoding/json (see
// Source.FromPayload). Its response is JSON null, as Handle's is.
//
// A heartbeat request (heartbeat.ParseRequest) publishes the canary activity
// through the same publisher instead; a Kinesis event (the stream of a logs
// destination) is HandleKinesis's, answered with its batch item failures.
func (h *Handler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	if req, ok := heartbeat.ParseRequest(payload); ok {
		return []byte("null"), h.heartbeat(ctx, req)
	}
	if out, ok, err := h.invokeKinesis(ctx, payload); ok {
		return out, err
	}
	b := batches.Get().(*Batch)
	acts, err := h.Source.FromPayload(payload, b)
	if err = h.publish(ctx, acts, err); err == nil { // (an error might read them)
		release(b)
	}
	return []byte("null"), err
}

// batches pools the memory of published batches, so that a warm function
// builds batch after batch in the same few megabytes.
var batches = sync.Pool{New: func() any { return new(Batch) }}

// release pools a batch whose activities nothing reads any more, unless it
// is far larger than CloudWatch Logs sends: it would keep megabytes.
func release(b *Batch) {
	if b.decoded.Cap() <= maxInflated/4 && cap(b.acts) <= 2500 {
		batches.Put(b)
	}
}

// heartbeat publishes the canary for req.
func (h *Handler) heartbeat(ctx context.Context, req heartbeat.Request) error {
	now := time.Now
	if h.Now != nil {
		now = h.Now
	}
	if err := heartbeat.Send(ctx, h.Publisher, req, now(), h.Metrics, h.logger(), "cloudtrail source"); err != nil {
		return fmt.Errorf("cloudtrail: %w", err)
	}
	return nil
}

func (h *Handler) logger() *slog.Logger { return cmp.Or(h.Logger, slog.Default()) }

// parkPartial keeps the log events of a partly published batch in the
// failure queue and reports whether it did: then the invocation succeeds,
// and Lambda does not send the batch again (which would post every accepted
// activity once more). A batch of which nothing was published is retried as
// a whole, as nothing would be sent twice; so is a batch whose failures
// could not be parked (downstream, one delivery per activity id absorbs the
// repeats).
func (h *Handler) parkPartial(ctx context.Context, acts []*activity.Activity, err error, failed int, log *slog.Logger, attrs []any) bool {
	ue, ok := errors.AsType[*eventbus.UndeliveredError](err)
	if h.Failures == nil || !ok || failed == 0 || failed >= len(acts) {
		return false
	}
	body, n, perr := parkBody(ctx, acts, ue)
	if perr == nil && n != failed {
		perr = fmt.Errorf("cloudtrail: park: %d of %d undelivered activities have no log event", failed-n, failed)
	}
	if perr == nil {
		perr = h.Failures.Park(ctx, body)
	}
	if perr != nil {
		log.ErrorContext(ctx, "cloudtrail source: park failed", append(attrs, "failed", failed, "error", perr.Error())...)
		return false
	}
	log.WarnContext(ctx, "cloudtrail source: published, undelivered log events parked", append(attrs, "failed", failed, "parked", n, "error", err.Error())...)
	return true
}

// KeepLabelled is the Handler's Keep behind a broad subscription filter: it
// keeps the activities a detection labelled (info-level threshold labels
// included, so correlation can count them) and the unrecognized log events
// (which no detection reads, and which must not vanish unseen).
func KeepLabelled(a *activity.Activity) bool {
	return len(a.Detections) > 0 || slices.Contains(a.Tags, TagUnrecognized)
}

// publish logs and publishes the activities of one batch, or logs decodeErr.
func (h *Handler) publish(ctx context.Context, acts []*activity.Activity, decodeErr error) error {
	log := h.logger()
	if decodeErr != nil {
		log.ErrorContext(ctx, "cloudtrail source: decode failed", "error", decodeErr.Error())
		return decodeErr
	}
	if len(acts) == 0 {
		log.InfoContext(ctx, "cloudtrail source: no log events")
		return nil
	}
	records, logGroup := len(acts), acts[0].Origin.LogGroup
	if h.Keep != nil {
		acts = slices.DeleteFunc(acts, func(a *activity.Activity) bool { return !h.Keep(a) })
	}
	filtered := records - len(acts)
	if len(acts) == 0 {
		h.Metrics.Emit(metrics.N(metrics.RecordsIn, records), metrics.N(metrics.RecordsFiltered, filtered),
			metrics.N(metrics.ActivitiesPublished, 0), metrics.N(metrics.PublishFailures, 0))
		log.InfoContext(ctx, "cloudtrail source: nothing labelled", "logGroup", logGroup, "logEvents", records, "filtered", filtered)
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
	attrs := []any{"logGroup", logGroup, "logEvents", records, "filtered", filtered, "denied", denied, "unrecognized", unrecognized}
	sent, err := eventbus.Send(ctx, h.Publisher, acts)
	failed := sent.Failed
	h.Metrics.Emit(
		metrics.N(metrics.RecordsIn, records),
		metrics.N(metrics.RecordsFiltered, filtered),
		metrics.N(metrics.ActivitiesPublished, len(acts)-failed),
		metrics.N(metrics.Unrecognized, unrecognized),
		metrics.N(metrics.PublishFailures, failed),
		metrics.N(metrics.PublishRetries, sent.Retries),
	)
	if err != nil && h.parkPartial(ctx, acts, err, failed, log, attrs) {
		return nil
	}
	if err != nil {
		log.ErrorContext(ctx, "cloudtrail source: publish failed", append(attrs, "failed", failed, "error", err.Error())...)
		return fmt.Errorf("cloudtrail: publish %d activities: %w", len(acts), err)
	}
	log.InfoContext(ctx, "cloudtrail source: published", attrs...)
	return nil
}
