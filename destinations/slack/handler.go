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
	slackapi "github.com/slack-go/slack"

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
	// Threads, in app mode (a bot token in the secret) with a Notifier,
	// posts a group's repeats as replies in the thread of its first
	// message, keeps a count on that message and puts the digest in the
	// thread; off, app mode posts as the webhook mode does. Webhooks cannot
	// thread: it means nothing there.
	Threads bool

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

// Deliverer is what posts for the handler: an activity (Deliver, the
// parent of its group's thread in app mode), a reply in a thread, a thread's
// count, a digest, an unverified-activity notice. A caller that applies the
// notification policy itself uses it (aaids replay --post); the deployed
// function goes through Handle.
type Deliverer interface {
	dispatch.ThreadDeliverer
	dispatch.DigestDeliverer
	dispatch.UnverifiedDeliverer
}

// Deliverer returns the handler's Deliverer.
func (h *Handler) Deliverer() Deliverer { return (*deliverer)(h) }

// deliverer is the Handler as the dispatch.Deliverer of Slack.
type deliverer Handler

var (
	_ dispatch.DigestDeliverer = (*deliverer)(nil)
	_ dispatch.ThreadDeliverer = (*deliverer)(nil)
)

// Deliver renders a and posts it where the secret says: the webhook, or
// the app's channel. In app mode with Threads the message is the parent of
// its group's thread (Result.Thread).
func (d *deliverer) Deliver(ctx context.Context, a *activity.Activity, log *slog.Logger) (dispatch.Result, error) {
	h := (*Handler)(d)
	if h.Decoder != nil {
		h.decodePermission(ctx, a, log)
	}
	msg := Render(a)
	target, err := d.target(ctx)
	if err != nil {
		return dispatch.Result{}, err
	}
	if target.App == nil {
		return d.webhook(ctx, target.WebhookURL, msg, log)
	}
	ref, attempts, err := h.Client.postMessage(ctx, *target.App, msg, "", log)
	d.dropIfGone(err, log)
	res := dispatch.Result{Attempts: attempts}
	if err == nil && h.Threads {
		res.Thread = &correlation.Thread{Channel: ref.Channel, TS: ref.TS, Parent: encodeParent(msg)}
	}
	return res, err
}

// DeliverReply posts a repeat of a group in the thread of the group's first
// message. When the thread cannot take it (the secret changed to a webhook
// or another channel since, or threads were turned off), it is posted as a
// message of its own: it is owed either way.
func (d *deliverer) DeliverReply(ctx context.Context, a *activity.Activity, t *correlation.Thread, log *slog.Logger) (dispatch.Result, error) {
	h := (*Handler)(d)
	target, err := d.target(ctx)
	if err != nil {
		return dispatch.Result{}, err
	}
	if !d.threads(target, t) {
		return d.Deliver(ctx, a, log)
	}
	if h.Decoder != nil {
		h.decodePermission(ctx, a, log)
	}
	_, attempts, err := h.Client.postMessage(ctx, *target.App, Render(a), t.TS, log)
	d.dropIfGone(err, log)
	if threadGone(err) {
		// Someone deleted the first message: the repeat is still owed.
		log.WarnContext(ctx, "slack: the thread's first message is gone, repeat posted on its own")
		_, more, err := h.Client.postMessage(ctx, *target.App, Render(a), "", log)
		d.dropIfGone(err, log)
		return dispatch.Result{Attempts: attempts + more}, err
	}
	return dispatch.Result{Attempts: attempts}, err
}

// threadGone reports a reply refused because its thread's first message is
// gone (deleted): thread_not_found, or message_not_found for an update.
func threadGone(err error) bool {
	var de *Error
	return errors.As(err, &de) && (de.Code == "thread_not_found" || de.Code == "message_not_found")
}

// threadUpdateEvery is how often a long thread's count is updated: after
// each of the first threadUpdateEvery replies, then after every
// threadUpdateEvery-th, so a burst costs about one chat.update per reply
// only while it is short (chat.update allows about 50 a minute); the sweep
// sets the final count.
const threadUpdateEvery = 10

// UpdateThread shows the thread's reply count on its first message.
func (d *deliverer) UpdateThread(ctx context.Context, t correlation.Thread, log *slog.Logger) error {
	if t.Replies > threadUpdateEvery && t.Replies%threadUpdateEvery != 0 {
		return nil
	}
	target, err := d.target(ctx)
	if err != nil {
		return err
	}
	if !d.threads(target, &t) {
		return nil
	}
	parent, err := decodeParent(t.Parent)
	if err != nil {
		return err
	}
	_, err = d.Client.updateMessage(ctx, *target.App, t.TS, WithThreadCount(parent, t.Replies, 0, false), log)
	d.dropIfGone(err, log)
	return err
}

// threads reports whether t's thread can take replies with target: app
// mode with threads, in the thread's channel.
func (d *deliverer) threads(target Target, t *correlation.Thread) bool {
	return d.Threads && target.App != nil && t != nil && t.TS != "" && t.Channel == target.App.Channel
}

// DeliverDigest renders a group's digest and posts it. In app mode with
// threads, a window whose first message has a thread gets its digest there:
// the first message is updated with the final count ("24 more in thread ·
// window closed"), then the digest (totals and breakdown) is posted as the
// thread's last reply, so the channel gets no second top-level message for
// one burst.
func (d *deliverer) DeliverDigest(ctx context.Context, dg *correlation.Digest, log *slog.Logger) (dispatch.Result, error) {
	target, err := d.target(ctx)
	if err != nil {
		return dispatch.Result{}, err
	}
	threaded := d.threads(target, dg.Thread)
	if !threaded && dg.Thread != nil {
		// Not posted in the thread: the digest says nothing of one.
		flat := *dg
		flat.Thread = nil
		dg = &flat
	}
	msg := RenderDigest(dg)
	if target.App == nil {
		return d.webhook(ctx, target.WebhookURL, msg, log)
	}
	app := *target.App
	var res dispatch.Result
	threadTS := ""
	if threaded {
		threadTS = dg.Thread.TS
		if err := d.finalCount(ctx, app, dg.Thread, &res, log); err != nil {
			return res, err
		}
	}
	_, attempts, err := d.Client.postMessage(ctx, app, msg, threadTS, log)
	res.Attempts += attempts
	d.dropIfGone(err, log)
	if threadTS != "" && threadGone(err) {
		// Someone deleted the first message: the digest goes top-level.
		log.WarnContext(ctx, "slack: the thread's first message is gone, digest posted on its own")
		flat := *dg
		flat.Thread = nil
		_, attempts, err = d.Client.postMessage(ctx, app, RenderDigest(&flat), "", log)
		res.Attempts += attempts
		d.dropIfGone(err, log)
	}
	return res, err
}

// finalCount updates a thread's first message with the window's final
// counts. A message that cannot be updated any more (deleted, edit window
// closed) is logged and left: the digest in the thread still states the
// totals. Other failures are returned, so the sweep tries again.
func (d *deliverer) finalCount(ctx context.Context, app AppSecret, t *correlation.Thread, res *dispatch.Result, log *slog.Logger) error {
	parent, err := decodeParent(t.Parent)
	if err != nil {
		log.WarnContext(ctx, "slack: thread parent unreadable, final count not shown", slog.String("error", err.Error()))
		return nil
	}
	replies, folded := threadCounts(t)
	attempts, err := d.Client.updateMessage(ctx, app, t.TS, WithThreadCount(parent, replies, folded, true), log)
	res.Attempts += attempts
	d.dropIfGone(err, log)
	if errors.Is(err, ErrPermanent) && !appGone(err) {
		log.WarnContext(ctx, "slack: final thread count not shown", slog.String("error", err.Error()))
		return nil
	}
	return err
}

// DeliverUnverified posts the notice that stands in for an event that failed
// verification.
func (d *deliverer) DeliverUnverified(ctx context.Context, ev events.EventBridgeEvent, reason error, log *slog.Logger) (dispatch.Result, error) {
	target, err := d.target(ctx)
	if err != nil {
		return dispatch.Result{}, err
	}
	msg := RenderUnverified(ev, reason)
	if target.App == nil {
		return d.webhook(ctx, target.WebhookURL, msg, log)
	}
	_, attempts, err := d.Client.postMessage(ctx, *target.App, msg, "", log)
	d.dropIfGone(err, log)
	return dispatch.Result{Attempts: attempts}, err
}

// webhook posts msg to the incoming webhook.
func (d *deliverer) webhook(ctx context.Context, webhookURL string, msg *slackapi.WebhookMessage, log *slog.Logger) (dispatch.Result, error) {
	attempts, err := d.Client.deliver(ctx, webhookURL, msg, log)
	d.dropIfGone(err, log)
	return dispatch.Result{Attempts: attempts}, err
}

// dropIfGone drops the cached secret when Slack said the webhook is gone or
// the app's token or channel no longer works, so the next attempt (Lambda's
// retry, the next event) reads the secret again and uses a rotated value at
// once instead of after the cache's TTL.
func (d *deliverer) dropIfGone(err error, log *slog.Logger) {
	if inv, ok := d.Secret.(Invalidator); ok && err != nil && (webhookGone(err) || appGone(err)) {
		inv.Invalidate()
		log.Warn("slack: webhook or app token gone, cached secret dropped")
	}
}

// Check proves the secret is readable and holds a Slack webhook URL or app
// secret.
func (d *deliverer) Check(ctx context.Context) error {
	_, err := d.target(ctx)
	return err
}

func (d *deliverer) target(ctx context.Context) (Target, error) {
	value, err := d.Secret.Value(ctx)
	if err != nil {
		return Target{}, fmt.Errorf("slack: read webhook secret: %w", err)
	}
	return TargetFromSecret(value, d.Client.loopback)
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
