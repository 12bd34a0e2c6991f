// Package pagerduty triggers PagerDuty incidents from activities through the
// Events API v2 (POST /v2/enqueue): summary (at most 1,024 characters),
// source, severity (critical → critical, high → error, medium → warning,
// low and info → info), a dedup_key (at most 255 characters) from the
// activity's correlation group so a burst is one incident, custom_details
// with the activity's key fields and links to the AWS console only.
//
// Every string from the activity is one line of safe text (package
// eventtext): no line breaks that fake a line, no control or invisible
// characters, no live URL scheme, no angle brackets (which PagerDuty's chat
// integrations would read as mentions). PagerDuty answers 202 when it
// accepted an event, 400 for an invalid one (permanent), 429 and 5xx when a
// retry may pass (delivery retries them honouring Retry-After, with backoff).
//
// With the notification policy on, the group's key is the dedup_key (under
// the policy's own group dimensions, Destination.GroupBy), so a burst is one
// incident: its first activity triggers it, the repeats of the window are
// folded, and the window's end sends the digest as another trigger with the
// same dedup_key, which PagerDuty adds to the open incident's alert (its
// summary and details then state the window's total and breakdown) instead
// of paging again; if the incident was resolved meanwhile, the digest opens
// a new one, which is what a burst that went on deserves. A suppression's
// digest is not sent: what a team suppressed must not page.
//
// The event is a small struct rather than github.com/PagerDuty/go-pagerduty:
// that client is not among the modules this project may install, and its
// ManageEvent returns neither the status nor Retry-After the shared retry
// loop needs.
package pagerduty

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/correlation"
	"github.com/activity-aware/ids/destinations/delivery"
	"github.com/activity-aware/ids/destinations/dispatch"
	"github.com/activity-aware/ids/destinations/eventtext"
	"github.com/activity-aware/ids/destinations/secrets"
)

// Events API v2 limits and endpoint.
const (
	// DefaultEventsURL is the Events API v2 endpoint (US service region).
	DefaultEventsURL = "https://events.pagerduty.com/v2/enqueue"
	MaxSummary       = 1024
	MaxDedupKey      = 255
	// MaxPayload is the size limit of one event.
	MaxPayload = 512 * 1024
	// maxDetail bounds each custom detail's value, so an event stays far
	// within MaxPayload.
	maxDetail = 2000
	maxLinks  = 5
)

// The destination function's environment.
const (
	// EnvSecretARN names the secret holding the routing key.
	EnvSecretARN = "PAGERDUTY_SECRET_ARN"
	// EnvEventsURL overrides the endpoint, e.g. the EU service region's
	// https://events.eu.pagerduty.com/v2/enqueue. Default DefaultEventsURL.
	EnvEventsURL = "PAGERDUTY_EVENTS_URL"
)

// Config is the destination function's configuration.
type Config struct {
	Secret    secrets.Config
	EventsURL string
}

// ConfigFromEnv reads the configuration; a bad events URL is an error.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	s, err := secrets.ConfigFromEnv(getenv, EnvSecretARN)
	if err != nil {
		return Config{}, err
	}
	c := Config{Secret: s, EventsURL: DefaultEventsURL}
	if v := getenv(EnvEventsURL); v != "" {
		if err := CheckEventsURL(v); err != nil {
			return Config{}, fmt.Errorf("%w: %s: %w", secrets.ErrConfig, EnvEventsURL, err)
		}
		c.EventsURL = v
	}
	return c, nil
}

// Environment returns what ConfigFromEnv reads back.
func (c Config) Environment() map[string]string {
	env := c.Secret.Environment(EnvSecretARN)
	if c.EventsURL != "" && c.EventsURL != DefaultEventsURL {
		env[EnvEventsURL] = c.EventsURL
	}
	return env
}

// eventsHosts are PagerDuty's Events API hosts (US and EU service regions).
var eventsHosts = map[string]bool{"events.pagerduty.com": true, "events.eu.pagerduty.com": true}

// CheckEventsURL accepts PagerDuty's Events API hosts, or a loopback host
// for local testing.
func CheckEventsURL(raw string) error {
	_, err := delivery.CheckURL(raw, func(h string) bool { return eventsHosts[h] })
	return err
}

// Event is an Events API v2 trigger event.
type Event struct {
	RoutingKey  string  `json:"routing_key,omitempty"`
	EventAction string  `json:"event_action"`
	DedupKey    string  `json:"dedup_key,omitempty"`
	Payload     Payload `json:"payload"`
	Client      string  `json:"client,omitempty"`
	Links       []Link  `json:"links,omitempty"`
}

// Payload is an event's PD-CEF payload.
type Payload struct {
	Summary       string            `json:"summary"`
	Source        string            `json:"source"`
	Severity      string            `json:"severity"`
	Timestamp     string            `json:"timestamp,omitempty"`
	Component     string            `json:"component,omitempty"`
	Group         string            `json:"group,omitempty"`
	Class         string            `json:"class,omitempty"`
	CustomDetails map[string]string `json:"custom_details,omitempty"`
}

// Link is a link shown on the alert.
type Link struct {
	Href string `json:"href"`
	Text string `json:"text,omitempty"`
}

// Severity maps an activity's severity to PagerDuty's.
func Severity(s activity.Severity) string {
	switch s {
	case activity.Critical:
		return "critical"
	case activity.High:
		return "error"
	case activity.Medium:
		return "warning"
	}
	return "info"
}

// text escapes what PagerDuty's chat integrations would read as markup.
func text(r rune) (string, bool) {
	switch r {
	case '<':
		return "‹", true
	case '>':
		return "›", true
	}
	return "", false
}

func line(s string, max int) string { return eventtext.Line(s, max, text) }

// DedupKey is the incident key of a's correlation group.
func DedupKey(a *activity.Activity) string {
	return "aaids-" + correlation.GroupKey(a)
}

// Render returns the trigger event for a, without the routing key (which
// Deliver adds from the secret).
func Render(a *activity.Activity) *Event {
	subject := strings.TrimSpace(a.Subject)
	if subject == "" {
		subject = "Activity"
	}
	source := "aws:" + a.Account.ID
	if a.Region != "" {
		source += ":" + a.Region
	}
	e := &Event{
		EventAction: "trigger",
		DedupKey:    DedupKey(a),
		Client:      "Activity Aware IDS",
		Payload: Payload{
			Summary:       line("["+strings.ToUpper(string(a.Severity))+"] "+subject, MaxSummary),
			Source:        line(source, 255),
			Severity:      Severity(a.Severity),
			Group:         line(a.Account.ID, 255),
			Class:         line(class(a), 255),
			Component:     line(component(a), 255),
			CustomDetails: details(a),
		},
	}
	if !a.Time.IsZero() {
		e.Payload.Timestamp = a.Time.UTC().Format(time.RFC3339)
	}
	for _, l := range eventtext.ConsoleLinks(a, maxLinks) {
		e.Links = append(e.Links, Link{Href: l.URL, Text: line(l.Title, 100)})
	}
	return e
}

func class(a *activity.Activity) string {
	if len(a.Detections) > 0 {
		return a.Detections[0].ID
	}
	if a.Action != nil && a.Action.Outcome != "" {
		return string(a.Action.Outcome)
	}
	return a.Source
}

func component(a *activity.Activity) string {
	if a.Action == nil {
		return ""
	}
	short, _, _ := strings.Cut(a.Action.Service, ".")
	return short
}

// details are the activity's key fields as custom_details.
func details(a *activity.Activity) map[string]string {
	d := map[string]string{}
	set := func(k, v string) {
		if v = strings.TrimSpace(v); v != "" {
			d[k] = line(v, maxDetail)
		}
	}
	set("activity id", a.ID)
	set("source", a.Source)
	set("severity", string(a.Severity))
	set("account", strings.TrimSpace(a.Account.ID+" "+a.Account.Name))
	set("region", a.Region)
	if act := a.Actor; act != nil {
		set("who", strings.TrimSpace(act.Type+" "+act.Name))
		set("principal ARN", act.ARN)
		set("source IP", act.SourceIP)
		set("user agent", act.UserAgent)
		set("access key", act.AccessKeyID)
	}
	if ac := a.Action; ac != nil {
		set("action", strings.TrimPrefix(component(a)+":"+ac.Name, ":"))
		set("error", strings.TrimPrefix(ac.ErrorCode+": "+ac.ErrorMessage, ": "))
		set("outcome", string(ac.Outcome))
	}
	if p := a.Permission; p != nil {
		set("missing permission", strings.TrimSpace(p.Action+" on "+p.Resource))
	}
	var res, dets []string
	for _, r := range a.Resources {
		res = append(res, r.ARN)
	}
	for _, x := range a.Detections {
		dets = append(dets, x.ID)
	}
	set("resources", strings.Join(res, ", "))
	set("detections", strings.Join(dets, ", "))
	return d
}

// RenderDigest returns the trigger event of a group's digest, with the
// group's dedup_key; nil for a suppression's digest, which does not page.
func RenderDigest(d *correlation.Digest) *Event {
	if d.BySuppression {
		return nil
	}
	t := eventtext.Digest(d)
	level := "UNKNOWN"
	if d.Severity.Valid() {
		level = strings.ToUpper(string(d.Severity))
	}
	details := map[string]string{"digest": line(t.Summary, maxDetail), "count": strconv.FormatInt(d.Count, 10)}
	for _, f := range t.Facts {
		if v := line(f.Value, maxDetail); v != "" {
			details[strings.ToLower(f.Label)] = v
		}
	}
	e := &Event{
		EventAction: "trigger",
		DedupKey:    "aaids-" + d.Group(),
		Client:      "Activity Aware IDS",
		Payload: Payload{
			// The count first, so that a long group name cannot cut it off.
			Summary:       line("["+level+"] Digest: "+t.Tally+" in "+d.Breakdown.Span()+" - "+d.Label, MaxSummary),
			Source:        "activity-aware-ids",
			Severity:      Severity(d.Severity),
			Class:         "digest",
			CustomDetails: details,
		},
	}
	if !d.End.IsZero() {
		e.Payload.Timestamp = d.End.UTC().Format(time.RFC3339)
	}
	if t.Link != "" {
		e.Links = append(e.Links, Link{Href: t.Link, Text: "First activity in the AWS console"})
	}
	return e
}

// ErrInvalidSecret reports a secret that holds no routing key. Its messages
// never contain the value.
var ErrInvalidSecret = errors.New("pagerduty: invalid secret")

// routingKey is the shape of an integration key: 32 characters (letters and
// digits; a ruleset's key starts with R).
var routingKey = regexp.MustCompile(`^[A-Za-z0-9]{32}$`)

// RoutingKeyFromSecret reads the routing key from the secret's value: the
// bare 32-character key or {"routingKey": "…"}.
func RoutingKeyFromSecret(value string) (string, error) {
	v := strings.TrimSpace(value)
	if strings.HasPrefix(v, "{") {
		var s struct {
			RoutingKey string `json:"routingKey"`
		}
		// The decoder's error may quote the value, so it is not wrapped.
		if json.Unmarshal([]byte(v), &s) != nil {
			return "", fmt.Errorf("%w: value starts with { but is not a JSON object", ErrInvalidSecret)
		}
		v = strings.TrimSpace(s.RoutingKey)
	}
	if !routingKey.MatchString(v) {
		return "", fmt.Errorf("%w: not a 32-character integration key", ErrInvalidSecret)
	}
	return v, nil
}

// Client sends events to the Events API. It is safe for concurrent use.
type Client struct {
	http  *http.Client
	retry delivery.Retrier
	url   string
}

// NewClient returns a Client for eventsURL ("" for DefaultEventsURL).
func NewClient(hc *http.Client, eventsURL string, retry *delivery.Retrier) *Client {
	r := delivery.NewRetrier("pagerduty")
	if retry != nil {
		r = *retry
		r.Destination = "pagerduty"
	}
	if eventsURL == "" {
		eventsURL = DefaultEventsURL
	}
	return &Client{http: delivery.NoRedirects(hc), retry: r, url: eventsURL}
}

// Send delivers e with routingKey and returns the number of attempts. A
// failure is a *delivery.Error; it never contains the routing key.
func (c *Client) Send(ctx context.Context, routingKey string, e *Event, log *slog.Logger) (int, error) {
	if err := CheckEventsURL(c.url); err != nil {
		return 0, &delivery.Error{Destination: "pagerduty", Permanent: true, Err: err}
	}
	withKey := *e
	withKey.RoutingKey = routingKey
	body, err := json.Marshal(&withKey)
	if err != nil {
		return 0, &delivery.Error{Destination: "pagerduty", Permanent: true, Err: err}
	}
	if len(body) > MaxPayload {
		return 0, &delivery.Error{Destination: "pagerduty", Permanent: true, Reason: fmt.Sprintf("event of %d bytes exceeds %d", len(body), MaxPayload)}
	}
	req := delivery.Request{
		URL:    c.url,
		Header: func() http.Header { return http.Header{"Content-Type": {"application/json"}} },
		Body:   body,
		Code:   codeOf,
	}
	scrub := delivery.ScrubURL(c.url)
	return c.retry.Do(ctx, log, func(err error) error { return scrubKey(scrub(err), routingKey) }, func(ctx context.Context) (delivery.Answer, error) {
		return delivery.Post(ctx, c.http, req)
	})
}

// codeOf reads the status of an Events API error answer, e.g. "invalid
// event".
func codeOf(body []byte) string {
	var a struct {
		Status string `json:"status"`
	}
	if json.Unmarshal(body, &a) != nil || len(a.Status) > 64 {
		return ""
	}
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == ' ' || r == '_' {
			return r
		}
		return -1
	}, a.Status)
}

func scrubKey(err error, key string) error {
	if key != "" && strings.Contains(err.Error(), key) {
		return errors.New(strings.ReplaceAll(err.Error(), key, "[routing key]"))
	}
	return err
}

// Destination is PagerDuty's dispatch.Deliverer.
type Destination struct {
	Secret dispatch.Secret
	Client *Client
	// GroupBy are the notification policy's group dimensions (nil: the
	// default), so an activity's dedup_key is its group's, the one its
	// digest carries.
	GroupBy []string
}

var _ dispatch.DigestDeliverer = (*Destination)(nil)

// Check reads the routing key.
func (d *Destination) Check(ctx context.Context) error {
	_, err := d.routingKey(ctx)
	return err
}

func (d *Destination) routingKey(ctx context.Context) (string, error) {
	value, err := d.Secret.Value(ctx)
	if err != nil {
		return "", fmt.Errorf("pagerduty: read secret: %w", err)
	}
	return RoutingKeyFromSecret(value)
}

// Deliver triggers the event for a.
func (d *Destination) Deliver(ctx context.Context, a *activity.Activity, log *slog.Logger) (dispatch.Result, error) {
	key, err := d.routingKey(ctx)
	if err != nil {
		return dispatch.Result{}, err
	}
	e := Render(a)
	if d.GroupBy != nil {
		e.DedupKey = "aaids-" + correlation.GroupKeyBy(a, d.GroupBy)
	}
	n, err := d.Client.Send(ctx, key, e, log)
	return dispatch.Result{Attempts: n}, err
}

// DeliverDigest triggers the digest's event on its group's incident; a
// suppression's digest is skipped.
func (d *Destination) DeliverDigest(ctx context.Context, dg *correlation.Digest, log *slog.Logger) (dispatch.Result, error) {
	e := RenderDigest(dg)
	if e == nil {
		return dispatch.Result{Skipped: "a suppression's digest does not page"}, nil
	}
	key, err := d.routingKey(ctx)
	if err != nil {
		return dispatch.Result{}, err
	}
	n, err := d.Client.Send(ctx, key, e, log)
	return dispatch.Result{Attempts: n}, err
}
