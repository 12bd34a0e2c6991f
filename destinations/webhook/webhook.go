// Package webhook delivers activities to any HTTPS endpoint as signed
// webhooks, following Standard Webhooks (https://www.standardwebhooks.com):
// the body is {"type":"activity-aware-ids.activity","timestamp":…,"data":<the
// activity>}, and every attempt carries webhook-id (stable across retries,
// for the receiver's deduplication), webhook-timestamp (the attempt's) and
// webhook-signature (package signature, which receivers import to verify).
//
// The body is JSON: event text reaches the receiver as data, escaped by the
// JSON encoder, never as markup; what the receiver shows it as is its own
// concern. The activity's schema is the contract, unchanged.
//
// With the notification policy on, a group's repeats within its window are
// folded, and the window's end sends one digest, signed the same way:
//
//	{"type": "activity-aware-ids.digest", "timestamp": <window end>,
//	 "data": {"schemaVersion": "1.0", "group": "<hex key>", "label": "IAMUser ci-deployer, …",
//	  "principal": "IAMUser ci-deployer", "severity": "medium", "denied": true,
//	  "suppressed": false, "reason": "<a suppression's reason>",
//	  "window": {"start": …, "end": …}, "firstSeen": …, "lastSeen": …,
//	  "count": 400, "folded": 399, "suppressedCount": 0,
//	  "first": {"id": "…", "subject": "…", "link": "https://…console.aws.amazon.com/…"},
//	  "services": [{"name": "iam", "count": 90}, …], "actions": [{"name": "iam:GetUser", "count": 12}, …],
//	  "sourceIps": ["198.51.100.23"], "userAgents": ["aws-cli/2…"]}}
//
// count is the window's total (the first activity, delivered at once,
// included; folded is the rest), suppressedCount what a suppression held
// back (its digest has suppressed true); group is the same for every
// window of the group; first.link is only ever an AWS console link.
package webhook

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/correlation"
	"github.com/activity-aware/ids/destinations/delivery"
	"github.com/activity-aware/ids/destinations/dispatch"
	"github.com/activity-aware/ids/destinations/eventtext"
	"github.com/activity-aware/ids/destinations/secrets"
	"github.com/activity-aware/ids/destinations/webhook/signature"
)

// EventType is the payload's type member.
const EventType = "activity-aware-ids.activity"

// EnvSecretARN names the secret holding the URL and the signing secret.
const EnvSecretARN = "WEBHOOK_SECRET_ARN"

// ConfigFromEnv reads the destination function's configuration.
func ConfigFromEnv(getenv func(string) string) (secrets.Config, error) {
	return secrets.ConfigFromEnv(getenv, EnvSecretARN)
}

// ErrInvalidSecret reports a secret value that is not a usable webhook
// configuration. Its messages never contain the value.
var ErrInvalidSecret = errors.New("webhook: invalid secret")

// Payload is the body of one webhook.
type Payload struct {
	Type      string          `json:"type"`
	Timestamp time.Time       `json:"timestamp"`
	Data      json.RawMessage `json:"data"`
}

// Render returns the body posted for a and its webhook-id. The id is derived
// from the activity's source and id, so every retry of the same activity
// carries the same one and a receiver can deduplicate; it holds only
// [A-Za-z0-9_-] (never the "." the signed content uses as separator).
func Render(a *activity.Activity) (body []byte, id string, err error) {
	if err := a.Validate(); err != nil {
		return nil, "", fmt.Errorf("webhook: %w", err) // receivers could not parse it
	}
	data, err := activity.Marshal(a)
	if err != nil {
		return nil, "", fmt.Errorf("webhook: %w", err)
	}
	body, err = json.Marshal(Payload{Type: EventType, Timestamp: a.Time.UTC(), Data: data})
	if err != nil {
		return nil, "", fmt.Errorf("webhook: encode payload: %w", err)
	}
	return body, MessageID(a), nil
}

// DigestType is a digest payload's type member.
const DigestType = "activity-aware-ids.digest"

// DigestSchemaVersion is the version of the digest document.
const DigestSchemaVersion = "1.0"

// Digest is the data of a digest payload (see the package comment).
type Digest struct {
	SchemaVersion   string       `json:"schemaVersion"`
	Group           string       `json:"group"`
	Label           string       `json:"label"`
	Principal       string       `json:"principal"`
	Severity        string       `json:"severity,omitempty"`
	Denied          bool         `json:"denied"`
	Suppressed      bool         `json:"suppressed"`
	Reason          string       `json:"reason,omitempty"`
	Window          Window       `json:"window"`
	FirstSeen       time.Time    `json:"firstSeen"`
	LastSeen        time.Time    `json:"lastSeen"`
	Count           int64        `json:"count"`
	Folded          int64        `json:"folded"`
	SuppressedCount int64        `json:"suppressedCount"`
	First           First        `json:"first"`
	Services        []NamedCount `json:"services"`
	Actions         []NamedCount `json:"actions"`
	SourceIPs       []string     `json:"sourceIps"`
	UserAgents      []string     `json:"userAgents"`
}

// Window is a digest's window.
type Window struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// First is the activity a digest's group delivered at once.
type First struct {
	ID      string `json:"id,omitempty"`
	Subject string `json:"subject,omitempty"`
	// Link is its AWS console link; never another host.
	Link string `json:"link,omitempty"`
}

// NamedCount is one service's or action's count.
type NamedCount struct {
	Name  string `json:"name"`
	Count int64  `json:"count"`
}

// RenderDigest returns the body posted for a digest and its webhook-id,
// stable across retries of the same window's digest.
func RenderDigest(d *correlation.Digest) (body []byte, id string, err error) {
	counts := func(cs []correlation.Count) []NamedCount {
		out := make([]NamedCount, 0, len(cs))
		for _, c := range cs {
			out = append(out, NamedCount{Name: c.Name, Count: c.N})
		}
		return out
	}
	dd := Digest{
		SchemaVersion: DigestSchemaVersion, Group: d.Group(), Label: d.Label, Principal: d.Principal,
		Severity: string(d.Severity), Denied: d.Denied, Suppressed: d.BySuppression, Reason: d.Reason,
		Window: Window{Start: d.Start.UTC(), End: d.End.UTC()}, FirstSeen: d.First.UTC(), LastSeen: d.Last.UTC(),
		Count: d.Count, Folded: d.Folded(), SuppressedCount: d.Suppressed,
		First:    First{ID: d.FirstID, Subject: d.FirstSubject},
		Services: counts(d.Services), Actions: counts(d.Actions),
		SourceIPs: append([]string{}, d.SourceIPs...), UserAgents: append([]string{}, d.UserAgents...),
	}
	if eventtext.ConsoleURL(d.FirstLink) {
		dd.First.Link = d.FirstLink
	}
	if d.BySuppression {
		dd.Folded = d.Suppressed
	}
	data, err := json.Marshal(dd)
	if err != nil {
		return nil, "", fmt.Errorf("webhook: encode digest: %w", err)
	}
	body, err = json.Marshal(Payload{Type: DigestType, Timestamp: d.End.UTC(), Data: data})
	if err != nil {
		return nil, "", fmt.Errorf("webhook: encode payload: %w", err)
	}
	sum := sha256.Sum256([]byte("digest\x00" + dd.Group + "\x00" + d.Start.UTC().Format(time.RFC3339Nano)))
	return body, "msg_" + base64.RawURLEncoding.EncodeToString(sum[:18]), nil
}

// MessageID is the webhook-id of an activity.
func MessageID(a *activity.Activity) string {
	sum := sha256.Sum256([]byte(a.Source + "\x00" + a.ID))
	return "msg_" + base64.RawURLEncoding.EncodeToString(sum[:18])
}

// Target is where and how webhooks are sent.
type Target struct {
	URL string
	Key *signature.Key
}

// TargetFromSecret reads the secret's JSON value {"url": "https://…",
// "signingSecret": "whsec_…"} (the prefix is optional) and checks both.
func TargetFromSecret(value string) (Target, error) {
	var s struct {
		URL           string `json:"url"`
		SigningSecret string `json:"signingSecret"`
	}
	// The decoder's error may quote part of the value, so it is not wrapped.
	if err := json.Unmarshal([]byte(strings.TrimSpace(value)), &s); err != nil {
		return Target{}, fmt.Errorf("%w: not a JSON object", ErrInvalidSecret)
	}
	if _, err := delivery.CheckURL(s.URL, nil); err != nil {
		return Target{}, fmt.Errorf("%w: url: %w", ErrInvalidSecret, err)
	}
	key, err := signature.NewSigner(s.SigningSecret)
	if err != nil {
		return Target{}, fmt.Errorf("%w: signingSecret: %w", ErrInvalidSecret, err)
	}
	return Target{URL: s.URL, Key: key}, nil
}

// Client posts signed webhooks, retrying what may pass (408, 429 after its
// Retry-After, 5xx, network errors) within the caller's deadline; 410 and
// other answers are permanent. Redirects are not followed. It is safe for
// concurrent use.
type Client struct {
	http  *http.Client
	retry delivery.Retrier
	now   func() time.Time
}

// NewClient returns a Client posting with a copy of hc (nil: a new one).
func NewClient(hc *http.Client, retry *delivery.Retrier) *Client {
	r := delivery.NewRetrier("webhook")
	if retry != nil {
		r = *retry
		r.Destination = "webhook"
	}
	return &Client{http: delivery.NoRedirects(hc), retry: r, now: time.Now}
}

// Post delivers body with id to t, signing each attempt with its own
// timestamp, and returns the number of attempts. A failure is a
// *delivery.Error that never contains the URL or the signing secret.
func (c *Client) Post(ctx context.Context, t Target, id string, body []byte, log *slog.Logger) (int, error) {
	if _, err := delivery.CheckURL(t.URL, nil); err != nil || t.Key == nil {
		if err == nil {
			err = errors.New("no signing key")
		}
		return 0, &delivery.Error{Destination: "webhook", Permanent: true, Err: err}
	}
	req := delivery.Request{
		URL: t.URL,
		Header: func() http.Header {
			h := t.Key.Headers(id, c.now(), body)
			h.Set("Content-Type", "application/json; charset=utf-8")
			h.Set("User-Agent", "activity-aware-ids-webhook/1")
			return h
		},
		Body: body,
		Code: codeOf,
	}
	return c.retry.Do(ctx, log, delivery.ScrubURL(t.URL), func(ctx context.Context) (delivery.Answer, error) {
		return delivery.Post(ctx, c.http, req)
	})
}

// codeOf reads an error code from a receiver's answer: a JSON object's
// "error" or "code" string, or a short plain-text token. Anything else is
// not shown (it is the receiver's text, and may be long).
func codeOf(body []byte) string {
	var obj struct {
		Error any    `json:"error"`
		Code  string `json:"code"`
	}
	if json.Unmarshal(body, &obj) == nil {
		if s, ok := obj.Error.(string); ok && token(s) {
			return s
		}
		if token(obj.Code) {
			return obj.Code
		}
		return ""
	}
	if s := strings.TrimSpace(string(body)); token(s) {
		return s
	}
	return ""
}

// token reports whether s looks like an error code: up to 64 letters,
// digits, '_', '-' or '.'.
func token(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.') {
			return false
		}
	}
	return true
}

// Destination is the webhook destination's dispatch.Deliverer.
type Destination struct {
	Secret dispatch.Secret
	Client *Client
}

var _ dispatch.DigestDeliverer = (*Destination)(nil)

// Check reads the secret and checks the target it holds.
func (d *Destination) Check(ctx context.Context) error {
	value, err := d.Secret.Value(ctx)
	if err != nil {
		return fmt.Errorf("webhook: read secret: %w", err)
	}
	_, err = TargetFromSecret(value)
	return err
}

// Deliver renders a and posts it to the target the secret names.
func (d *Destination) Deliver(ctx context.Context, a *activity.Activity, log *slog.Logger) (dispatch.Result, error) {
	body, id, err := Render(a)
	if err != nil {
		return dispatch.Result{}, err
	}
	return d.post(ctx, id, body, log)
}

// DeliverDigest posts the signed digest closing a group's window.
func (d *Destination) DeliverDigest(ctx context.Context, dg *correlation.Digest, log *slog.Logger) (dispatch.Result, error) {
	body, id, err := RenderDigest(dg)
	if err != nil {
		return dispatch.Result{}, err
	}
	return d.post(ctx, id, body, log)
}

// post signs and posts body to the target the secret names.
func (d *Destination) post(ctx context.Context, id string, body []byte, log *slog.Logger) (dispatch.Result, error) {
	value, err := d.Secret.Value(ctx)
	if err != nil {
		return dispatch.Result{}, fmt.Errorf("webhook: read secret: %w", err)
	}
	t, err := TargetFromSecret(value)
	if err != nil {
		return dispatch.Result{}, err
	}
	n, err := d.Client.Post(ctx, t, id, body, log)
	return dispatch.Result{Attempts: n}, err
}
