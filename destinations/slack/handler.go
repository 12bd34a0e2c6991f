package slack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/denial"
	"github.com/activity-aware/ids/eventbus"
	"github.com/activity-aware/ids/heartbeat"
	"github.com/activity-aware/ids/metrics"
)

// Secret yields the current value of the secret holding the webhook URL. The
// implementation caches it for a bounded time, so a rotated secret is picked
// up (secrets.(*Cache) implements it).
type Secret interface {
	Value(ctx context.Context) (string, error)
}

// AuthorizationDecoder decodes an EC2-style encoded authorization failure
// message (sts:DecodeAuthorizationMessage) into its JSON document.
type AuthorizationDecoder interface {
	DecodeAuthorizationMessage(ctx context.Context, encoded string) (string, error)
}

// ErrNoWebhook reports a handler built without its secret or client.
var ErrNoWebhook = errors.New("slack: handler has no webhook secret or client")

// Handler is the SlackDestination Lambda's logic: it decodes the activity an
// EventBridge rule delivered, renders it and posts it to the webhook whose
// URL the secret holds. A failed delivery is an error, so Lambda retries the
// event and finally sends it to the on-failure destination.
type Handler struct {
	Secret Secret
	Client *Client
	// Decoder, when set, decodes encoded authorization failure messages so
	// the message can say what was missing (off when nil).
	Decoder AuthorizationDecoder
	// Logger receives one line per event with ids and counts; slog.Default
	// when nil.
	Logger *slog.Logger
	// Metrics receives one embedded-metric line per event: posts, delivery
	// failures, permanent errors (and those on the first post of an
	// execution environment), delivery latency, delivered canaries; none
	// when nil.
	Metrics *metrics.Emitter
	// Account is the AWS account the heartbeat canary must come from (the
	// envelope's account); "" accepts any.
	Account string
	// Now measures delivery latency; time.Now when nil.
	Now func() time.Time

	// posted is set once this execution environment tried its first post.
	posted atomic.Bool
}

// Handle delivers one activity event.
func (h *Handler) Handle(ctx context.Context, ev events.EventBridgeEvent) error {
	log := h.Logger
	if log == nil {
		log = slog.Default()
	}
	if h.Secret == nil || h.Client == nil {
		return ErrNoWebhook
	}
	a, err := eventbus.Decode(ev)
	if err != nil {
		log.ErrorContext(ctx, "slack: rejected event", slog.String("eventId", ev.ID), slog.String("error", err.Error()))
		return fmt.Errorf("slack: handle event %s: %w", ev.ID, err)
	}
	log = log.With(slog.String("eventId", ev.ID), slog.String("activityId", a.ID))
	if heartbeat.Is(ev.Source, ev.AccountID, h.Account, a) {
		return h.canary(ctx, a, log)
	}
	if h.Decoder != nil {
		h.decodePermission(ctx, a, log)
	}
	msg := Render(a)

	value, err := h.Secret.Value(ctx)
	if err != nil {
		return fmt.Errorf("slack: read webhook secret: %w", err)
	}
	webhookURL, err := WebhookURLFromSecret(value)
	if err != nil {
		return err
	}
	first := !h.posted.Swap(true)
	attempts, err := h.Client.deliver(ctx, webhookURL, msg, log)
	if err != nil {
		var de *Error
		attrs := []any{slog.Int("attempts", attempts), slog.String("error", err.Error())}
		permanent := errors.Is(err, ErrPermanent)
		if errors.As(err, &de) {
			attrs = append(attrs, slog.Int("status", de.StatusCode), slog.String("code", de.Code), slog.Bool("permanent", de.Permanent))
		}
		h.Metrics.Emit(
			metrics.N(metrics.Posts, 0),
			metrics.N(metrics.DeliveryFailures, 1),
			metrics.N(metrics.PermanentErrors, count(permanent)),
			metrics.N(metrics.ColdStartPermanentErrors, count(permanent && first)),
		)
		log.ErrorContext(ctx, "slack: delivery failed", append(attrs, slog.Bool("firstPost", first))...)
		return fmt.Errorf("slack: activity %s: %w", a.ID, err)
	}
	h.Metrics.Emit(
		metrics.N(metrics.Posts, 1),
		metrics.N(metrics.DeliveryFailures, 0),
		metrics.Duration(metrics.DeliveryLatency, h.now().Sub(a.Time)),
	)
	log.InfoContext(ctx, "slack: delivered", slog.Int("attempts", attempts), slog.Int("blocks", len(msg.Blocks.BlockSet)))
	return nil
}

// canary absorbs a heartbeat: it proves the webhook secret is readable and
// holds a Slack webhook URL, then records CanaryDelivered without posting,
// so the channel stays quiet and the heartbeat alarm sees the path alive.
func (h *Handler) canary(ctx context.Context, a *activity.Activity, log *slog.Logger) error {
	value, err := h.Secret.Value(ctx)
	if err != nil {
		return fmt.Errorf("slack: heartbeat %s: read webhook secret: %w", a.ID, err)
	}
	if _, err := WebhookURLFromSecret(value); err != nil {
		return fmt.Errorf("slack: heartbeat %s: %w", a.ID, err)
	}
	h.Metrics.Emit(metrics.N(metrics.CanaryDelivered, 1), metrics.Duration(metrics.CanaryLatency, h.now().Sub(a.Time)))
	log.InfoContext(ctx, "slack: heartbeat delivered")
	return nil
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

// decodePermission fills the activity's permission from the encoded
// authorization message its error carries. Decoding is best effort: a
// failure is logged and the message goes out with what the source knew.
func (h *Handler) decodePermission(ctx context.Context, a *activity.Activity, log *slog.Logger) {
	if a.Action == nil {
		return
	}
	encoded, ok := denial.EncodedMessage(a.Action.ErrorMessage)
	if !ok {
		return
	}
	doc, err := h.Decoder.DecodeAuthorizationMessage(ctx, encoded)
	if err != nil {
		log.WarnContext(ctx, "slack: decode authorization message failed", slog.String("error", err.Error()))
		return
	}
	p, err := denial.ApplyDecoded(a.Permission, doc)
	if err != nil {
		log.WarnContext(ctx, "slack: decoded authorization message not understood", slog.String("error", err.Error()))
		return
	}
	a.Permission = p
}
