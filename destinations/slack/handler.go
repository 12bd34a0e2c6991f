package slack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/correlation"
	"github.com/activity-aware/ids/denial"
	"github.com/activity-aware/ids/destinations/dispatch"
	"github.com/activity-aware/ids/eventbus"
	"github.com/activity-aware/ids/monitoring/metrics"
)

// Secret yields the current value of the secret holding the webhook URL. The
// implementation caches it for a bounded time, so a rotated secret is picked
// up (secrets.(*Cache) implements it).
type Secret interface {
	Value(ctx context.Context) (string, error)
}

// Invalidator is a Secret whose cached value can be dropped; the handler
// drops it when Slack says the webhook URL no longer works
// (secrets.(*Cache) implements it).
type Invalidator interface {
	Invalidate()
}

// goneCodes are Slack's answers that mean the webhook URL itself is no
// longer valid (revoked, its channel or app removed): the URL was rotated or
// must be, so the cached secret is dropped.
var goneCodes = map[string]bool{
	"no_service":          true,
	"no_service_id":       true,
	"no_team":             true,
	"team_disabled":       true,
	"channel_not_found":   true,
	"channel_is_archived": true,
	"invalid_token":       true,
	"token_revoked":       true,
}

// webhookGone reports a delivery error after which the cached webhook URL
// must not be used again: one of goneCodes, or 403, 404 or 410.
func webhookGone(err error) bool {
	var de *Error
	if !errors.As(err, &de) {
		return false
	}
	switch de.StatusCode {
	case http.StatusForbidden, http.StatusNotFound, http.StatusGone:
		return true
	}
	return goneCodes[de.Code]
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
//
// An event that fails verification (eventbus.ErrUnverified) is never rendered
// as an alert: the handler posts an "unverified activity" notice naming the
// publishing account and the reason instead (RenderUnverified).
type Handler struct {
	Secret Secret
	Client *Client
	// Trust is the set of producers whose activities render as alerts
	// (dispatch.Handler.Trust); zero: the function's own account.
	Trust eventbus.Trust
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
	// Now measures delivery latency and is the notification policy's
	// clock; time.Now when nil.
	Now func() time.Time
	// Notifier, when set, applies the destination's notification policy
	// (aggregation into digests, suppressions, one post per activity id);
	// without it every activity is posted.
	Notifier dispatch.Notifier

	once     sync.Once
	dispatch *dispatch.Handler
}

// Handle delivers one activity event through the handler every destination
// shares (package dispatch): decoding, the heartbeat canary, metrics and
// logs are there; rendering and posting here.
func (h *Handler) Handle(ctx context.Context, ev events.EventBridgeEvent) error {
	if h.Secret == nil || h.Client == nil {
		return ErrNoWebhook
	}
	return h.shared().Handle(ctx, ev)
}

// shared is the dispatch handler that does the work, built on first use.
func (h *Handler) shared() *dispatch.Handler {
	h.once.Do(func() {
		h.dispatch = &dispatch.Handler{Name: "slack", Deliverer: (*deliverer)(h), Trust: h.Trust, Logger: h.Logger, Metrics: h.Metrics,
			Account: h.Account, Now: h.Now, Notifier: h.Notifier}
	})
	return h.dispatch
}

// HandleSQS delivers a batch from the destination's pacing queues
// (dispatch.Handler.HandleSQS).
func (h *Handler) HandleSQS(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	if h.Secret == nil || h.Client == nil {
		return events.SQSEventResponse{}, ErrNoWebhook
	}
	return h.shared().HandleSQS(ctx, ev)
}

// Sweep posts the digests of ended windows (dispatch.Handler.Sweep).
func (h *Handler) Sweep(ctx context.Context) error {
	if h.Secret == nil || h.Client == nil {
		return ErrNoWebhook
	}
	return h.shared().Sweep(ctx)
}

// Invoke is the function's entry point, a lambda.Handler: queue batches,
// the minute sweep, or one event a rule invoked it with
// (dispatch.Handler.Invoke).
func (h *Handler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	if h.Secret == nil || h.Client == nil {
		return nil, ErrNoWebhook
	}
	return h.shared().Invoke(ctx, payload)
}

// deliverer is the Handler as the dispatch.Deliverer of Slack.
type deliverer Handler

var _ dispatch.DigestDeliverer = (*deliverer)(nil)

// Deliver renders a and posts it to the webhook the secret holds.
func (d *deliverer) Deliver(ctx context.Context, a *activity.Activity, log *slog.Logger) (dispatch.Result, error) {
	h := (*Handler)(d)
	if h.Decoder != nil {
		h.decodePermission(ctx, a, log)
	}
	msg := Render(a)
	webhookURL, err := d.webhookURL(ctx)
	if err != nil {
		return dispatch.Result{}, err
	}
	attempts, err := h.Client.deliver(ctx, webhookURL, msg, log)
	d.dropIfGone(err, log)
	return dispatch.Result{Attempts: attempts}, err
}

// DeliverDigest renders a group's digest and posts it.
func (d *deliverer) DeliverDigest(ctx context.Context, dg *correlation.Digest, log *slog.Logger) (dispatch.Result, error) {
	webhookURL, err := d.webhookURL(ctx)
	if err != nil {
		return dispatch.Result{}, err
	}
	attempts, err := d.Client.deliver(ctx, webhookURL, RenderDigest(dg), log)
	d.dropIfGone(err, log)
	return dispatch.Result{Attempts: attempts}, err
}

// DeliverUnverified posts the notice that stands in for an event that failed
// verification.
func (d *deliverer) DeliverUnverified(ctx context.Context, ev events.EventBridgeEvent, reason error, log *slog.Logger) (dispatch.Result, error) {
	webhookURL, err := d.webhookURL(ctx)
	if err != nil {
		return dispatch.Result{}, err
	}
	attempts, err := d.Client.deliver(ctx, webhookURL, RenderUnverified(ev, reason), log)
	d.dropIfGone(err, log)
	return dispatch.Result{Attempts: attempts}, err
}

// dropIfGone drops the cached secret when Slack said the webhook is gone, so
// the next attempt (Lambda's retry, the next event) reads the secret again
// and uses a rotated URL at once instead of after the cache's TTL.
func (d *deliverer) dropIfGone(err error, log *slog.Logger) {
	if inv, ok := d.Secret.(Invalidator); ok && err != nil && webhookGone(err) {
		inv.Invalidate()
		log.Warn("slack: webhook gone, cached secret dropped")
	}
}

// Check proves the secret is readable and holds a Slack webhook URL.
func (d *deliverer) Check(ctx context.Context) error {
	_, err := d.webhookURL(ctx)
	return err
}

func (d *deliverer) webhookURL(ctx context.Context) (string, error) {
	value, err := d.Secret.Value(ctx)
	if err != nil {
		return "", fmt.Errorf("slack: read webhook secret: %w", err)
	}
	return WebhookURLFromSecret(value, d.Client.loopback)
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
