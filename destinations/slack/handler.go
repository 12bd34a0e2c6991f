package slack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/denial"
	"github.com/activity-aware/ids/eventbus"
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
	// Logger receives one line per event with ids and counts (nil: discard).
	Logger *slog.Logger
}

// Handle delivers one activity event.
func (h *Handler) Handle(ctx context.Context, ev events.EventBridgeEvent) error {
	log := h.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
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
	attempts, err := h.Client.deliver(ctx, webhookURL, msg, log)
	if err != nil {
		var de *Error
		attrs := []any{slog.Int("attempts", attempts), slog.String("error", err.Error())}
		if errors.As(err, &de) {
			attrs = append(attrs, slog.Int("status", de.StatusCode), slog.String("code", de.Code), slog.Bool("permanent", de.Permanent))
		}
		log.ErrorContext(ctx, "slack: delivery failed", attrs...)
		return fmt.Errorf("slack: activity %s: %w", a.ID, err)
	}
	log.InfoContext(ctx, "slack: delivered", slog.Int("attempts", attempts), slog.Int("blocks", len(msg.Blocks.BlockSet)))
	return nil
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
