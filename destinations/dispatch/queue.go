package dispatch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"

	"github.com/activity-aware/ids/monitoring/metrics"
)

// ErrNoNotifier reports a sweep on a handler without a notification policy
// or a deliverer of digests.
var ErrNoNotifier = errors.New("dispatch: a sweep needs a notification policy (Handler.Notifier) and a DigestDeliverer")

// HandleSQS delivers a batch from the destination's pacing queues: each
// message body is the EventBridge event the rule put there. Messages are
// handled one after another (a handler's posts never race each other for
// the destination's rate); those that failed are reported, so SQS delivers
// only them again and finally moves them to the dead-letter queue.
func (h *Handler) HandleSQS(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	log := h.Logger
	if log == nil {
		log = slog.Default()
	}
	var resp events.SQSEventResponse
	for _, m := range ev.Records {
		var e events.EventBridgeEvent
		err := json.Unmarshal([]byte(m.Body), &e)
		if err == nil {
			err = h.Handle(ctx, e)
		} else {
			log.ErrorContext(ctx, h.Name+": queue message is not an EventBridge event", slog.String("messageId", m.MessageId), slog.String("error", err.Error()))
		}
		if err != nil {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
		}
	}
	return resp, nil
}

// Sweep delivers the digests of the windows that have ended. A digest that
// cannot be delivered stays due and is delivered by a later sweep.
func (h *Handler) Sweep(ctx context.Context) error {
	log := h.Logger
	if log == nil {
		log = slog.Default()
	}
	dd, ok := h.Deliverer.(DigestDeliverer)
	if h.Notifier == nil || !ok {
		return ErrNoNotifier
	}
	digests, err := h.Notifier.Sweep(ctx, h.now())
	var errs []error
	if err != nil {
		errs = append(errs, err)
	}
	delivered := 0
	for i := range digests {
		d := &digests[i]
		if _, err := dd.DeliverDigest(ctx, d, log.With(slog.String("firstActivityId", d.FirstID))); err != nil {
			errs = append(errs, fmt.Errorf("%s: digest of %s: %w", h.Name, d.FirstID, err))
			continue
		}
		if err := h.Notifier.Digested(ctx, *d); err != nil {
			errs = append(errs, err)
			continue
		}
		delivered++
	}
	h.Metrics.Emit(metrics.N(metrics.Digests, delivered), metrics.N(metrics.DeliveryFailures, len(digests)-delivered))
	log.InfoContext(ctx, h.Name+": swept", slog.Int("digests", delivered), slog.Int("due", len(digests)))
	return errors.Join(errs...)
}

// Invoke is the function's entry point (a lambda.Handler): a batch from the
// pacing queues (HandleSQS), the scheduled sweep (an EventBridge "Scheduled
// Event"), or one activity event an EventBridge rule invoked it with
// directly (Handle).
func (h *Handler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	var probe struct {
		Records    json.RawMessage `json:"Records"`
		DetailType string          `json:"detail-type"`
		Source     string          `json:"source"`
	}
	if err := json.Unmarshal(payload, &probe); err != nil {
		return nil, fmt.Errorf("%s: invocation payload: %w", h.Name, err)
	}
	switch {
	case len(probe.Records) > 0 && !bytes.Equal(probe.Records, []byte("null")):
		var ev events.SQSEvent
		if err := json.Unmarshal(payload, &ev); err != nil {
			return nil, fmt.Errorf("%s: SQS event: %w", h.Name, err)
		}
		resp, err := h.HandleSQS(ctx, ev)
		if err != nil {
			return nil, err
		}
		return json.Marshal(resp)
	case probe.Source == "aws.events" && probe.DetailType == "Scheduled Event":
		return []byte("null"), h.Sweep(ctx)
	}
	var ev events.EventBridgeEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, fmt.Errorf("%s: EventBridge event: %w", h.Name, err)
	}
	return []byte("null"), h.Handle(ctx, ev)
}
