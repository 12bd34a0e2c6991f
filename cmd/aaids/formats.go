package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/correlation"
	"github.com/activity-aware/ids/destinations/email"
	"github.com/activity-aware/ids/destinations/pagerduty"
	"github.com/activity-aware/ids/destinations/teams"
	"github.com/activity-aware/ids/destinations/webhook"
	"github.com/activity-aware/ids/destinations/webhook/signature"
)

// destinationFormat is one destination besides Slack as replay uses it: the
// request body it would send for an activity or a digest, and its real
// client for --post. Replay applies the notification policy to them as to
// Slack (--aggregate), as their deployed functions do.
type destinationFormat interface {
	// body is the request body for a, one JSON document.
	body(a *activity.Activity) ([]byte, error)
	// post delivers a to the target configured by setup.
	post(ctx context.Context, a *activity.Activity) error
	// digestBody is the request body of a digest; nil when the
	// destination does not send it.
	digestBody(d *correlation.Digest) ([]byte, error)
	// postDigest delivers a digest to the target.
	postDigest(ctx context.Context, d *correlation.Digest) error
	// minSeverity is the least severity the destination's rule passes by
	// default.
	minSeverity() activity.Severity
}

// destinationFormats builds the format named name with --post target (""
// when not posting); getenv reads what a target needs besides its URL.
var destinationFormats = map[string]func(target string, getenv func(string) string) (destinationFormat, error){
	"webhook":   newWebhookFormat,
	"pagerduty": newPagerDutyFormat,
	"teams":     newTeamsFormat,
	"email":     newEmailFormat,
}

// replayHTTPTimeout bounds one request of --post.
const replayHTTPTimeout = 10 * time.Second

// The environment variables --post reads a destination's credential from.
const (
	// envSigningSecret holds the signing secret for --format webhook.
	envSigningSecret = "WEBHOOK_SIGNING_SECRET"
	// envRoutingKey holds the integration key for --format pagerduty.
	envRoutingKey = "PAGERDUTY_ROUTING_KEY"
)

type webhookFormat struct {
	client *webhook.Client
	target webhook.Target
}

func newWebhookFormat(target string, getenv func(string) string) (destinationFormat, error) {
	f := &webhookFormat{}
	if target == "" {
		return f, nil
	}
	secret := getenv(envSigningSecret)
	if secret == "" {
		return nil, fmt.Errorf("--post with --format webhook signs with $%s (a whsec_… secret); it is not set", envSigningSecret)
	}
	key, err := signature.NewSigner(secret)
	if err != nil {
		return nil, fmt.Errorf("$%s: %w", envSigningSecret, err)
	}
	f.target = webhook.Target{URL: target, Key: key}
	f.client = webhook.NewClient(&http.Client{Timeout: replayHTTPTimeout}, nil)
	return f, nil
}

func (f *webhookFormat) minSeverity() activity.Severity { return activity.Info }

func (f *webhookFormat) body(a *activity.Activity) ([]byte, error) {
	b, _, err := webhook.Render(a)
	return b, err
}

func (f *webhookFormat) post(ctx context.Context, a *activity.Activity) error {
	b, id, err := webhook.Render(a)
	if err != nil {
		return err
	}
	_, err = f.client.Post(ctx, f.target, id, b, nil)
	return err
}

func (f *webhookFormat) digestBody(d *correlation.Digest) ([]byte, error) {
	b, _, err := webhook.RenderDigest(d)
	return b, err
}

func (f *webhookFormat) postDigest(ctx context.Context, d *correlation.Digest) error {
	b, id, err := webhook.RenderDigest(d)
	if err != nil {
		return err
	}
	_, err = f.client.Post(ctx, f.target, id, b, nil)
	return err
}

type pagerDutyFormat struct {
	client *pagerduty.Client
	key    string
}

// newPagerDutyFormat prints each trigger event without its routing key (a
// secret); --post sends to the Events API URL given (e.g.
// https://events.pagerduty.com/v2/enqueue) with $PAGERDUTY_ROUTING_KEY.
func newPagerDutyFormat(target string, getenv func(string) string) (destinationFormat, error) {
	f := &pagerDutyFormat{}
	if target == "" {
		return f, nil
	}
	key, err := pagerduty.RoutingKeyFromSecret(getenv(envRoutingKey))
	if err != nil {
		return nil, fmt.Errorf("--post with --format pagerduty sends with $%s: %w", envRoutingKey, err)
	}
	if err := pagerduty.CheckEventsURL(target); err != nil {
		return nil, fmt.Errorf("--post: %w", err)
	}
	f.key = key
	f.client = pagerduty.NewClient(&http.Client{Timeout: replayHTTPTimeout}, target, nil)
	return f, nil
}

func (f *pagerDutyFormat) minSeverity() activity.Severity { return activity.High }

func (f *pagerDutyFormat) body(a *activity.Activity) ([]byte, error) {
	return json.Marshal(pagerduty.Render(a))
}

func (f *pagerDutyFormat) post(ctx context.Context, a *activity.Activity) error {
	_, err := f.client.Send(ctx, f.key, pagerduty.Render(a), nil)
	return err
}

func (f *pagerDutyFormat) digestBody(d *correlation.Digest) ([]byte, error) {
	e := pagerduty.RenderDigest(d)
	if e == nil {
		return nil, nil
	}
	return json.Marshal(e)
}

func (f *pagerDutyFormat) postDigest(ctx context.Context, d *correlation.Digest) error {
	if e := pagerduty.RenderDigest(d); e != nil {
		_, err := f.client.Send(ctx, f.key, e, nil)
		return err
	}
	return nil
}

type teamsFormat struct {
	client *teams.Client
	url    string
}

// newTeamsFormat prints each message; --post sends to the Workflows
// webhook URL given.
func newTeamsFormat(target string, _ func(string) string) (destinationFormat, error) {
	f := &teamsFormat{}
	if target == "" {
		return f, nil
	}
	u, err := teams.WebhookURLFromSecret(target)
	if err != nil {
		return nil, fmt.Errorf("--post: %w", err)
	}
	f.url = u
	f.client = teams.NewClient(&http.Client{Timeout: replayHTTPTimeout}, nil)
	return f, nil
}

func (f *teamsFormat) minSeverity() activity.Severity { return activity.Info }

func (f *teamsFormat) body(a *activity.Activity) ([]byte, error) {
	return json.Marshal(teams.Render(a))
}

func (f *teamsFormat) post(ctx context.Context, a *activity.Activity) error {
	_, err := f.client.Post(ctx, f.url, teams.Render(a), nil)
	return err
}

func (f *teamsFormat) digestBody(d *correlation.Digest) ([]byte, error) {
	return json.Marshal(teams.RenderDigest(d))
}

func (f *teamsFormat) postDigest(ctx context.Context, d *correlation.Digest) error {
	_, err := f.client.Post(ctx, f.url, teams.RenderDigest(d), nil)
	return err
}

type emailFormat struct {
	dest *email.Destination
}

// newEmailFormat prints each mail as {"subject":…,"text":…}; --post
// publishes to the SNS topic ARN given, with the SDK's default
// configuration (credentials, region, AWS_ENDPOINT_URL_SNS).
func newEmailFormat(target string, _ func(string) string) (destinationFormat, error) {
	f := &emailFormat{}
	if target == "" {
		return f, nil
	}
	c, err := email.ConfigFromEnv(func(string) string { return target })
	if err != nil {
		return nil, fmt.Errorf("--post takes an SNS topic ARN: %w", err)
	}
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		return nil, fmt.Errorf("--post: load AWS config: %w", err)
	}
	client := sns.NewFromConfig(cfg, func(o *sns.Options) { o.HTTPClient = &http.Client{Timeout: replayHTTPTimeout} })
	f.dest = &email.Destination{SNS: client, TopicARN: c.TopicARN}
	return f, nil
}

func (f *emailFormat) minSeverity() activity.Severity { return activity.Info }

func (f *emailFormat) body(a *activity.Activity) ([]byte, error) {
	return jsonNoEscape(email.Render(a))
}

func (f *emailFormat) post(ctx context.Context, a *activity.Activity) error {
	_, err := f.dest.Send(ctx, email.Render(a))
	return err
}

func (f *emailFormat) digestBody(d *correlation.Digest) ([]byte, error) {
	return jsonNoEscape(email.RenderDigest(d))
}

func (f *emailFormat) postDigest(ctx context.Context, d *correlation.Digest) error {
	_, err := f.dest.Send(ctx, email.RenderDigest(d))
	return err
}

// jsonNoEscape is json.Marshal without HTML escaping, on one line.
func jsonNoEscape(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
