// Package teams posts activities to a Microsoft Teams channel through a
// Workflows webhook ("When a Teams webhook request is received"): an Adaptive
// Card in the message envelope, {"type":"message","attachments":[{
// "contentType":"application/vnd.microsoft.card.adaptive","content":{…}}]},
// with the structure of the Slack message (header, severity and detections,
// who/what/where facts, the missing permission, console links), within the
// message size Teams accepts (about 28 KB; it answers 413 beyond it) and
// sent with its charset declared.
//
// Adaptive Card text supports a Markdown subset (**bold**, _italic_, lists,
// [links](url)), and Teams links bare URLs and addresses, so every value from
// the event goes through eventtext.Line (one line, URL schemes defanged,
// control and invisible characters visible) and has the subset's
// characters replaced by look-alikes: no event text creates a link,
// emphasis, a list or a heading. Only the card's own labels are formatted;
// links are Action.OpenUrl buttons to the AWS console only.
package teams

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/correlation"
	"github.com/activity-aware/ids/destinations/delivery"
	"github.com/activity-aware/ids/destinations/dispatch"
	"github.com/activity-aware/ids/destinations/eventtext"
	"github.com/activity-aware/ids/destinations/secrets"
)

// MaxMessage is the message size this package stays within, in bytes:
// below Teams' documented limit of about 28 KB, which some receivers meet
// earlier.
const MaxMessage = 24 * 1024

// EnvSecretARN names the secret holding the Workflows webhook URL.
const EnvSecretARN = "TEAMS_WEBHOOK_SECRET_ARN"

// ConfigFromEnv reads the destination function's configuration.
func ConfigFromEnv(getenv func(string) string) (secrets.Config, error) {
	return secrets.ConfigFromEnv(getenv, EnvSecretARN)
}

// Message is the envelope a Workflows webhook receives.
type Message struct {
	Type        string       `json:"type"`
	Attachments []Attachment `json:"attachments"`
}

// Attachment carries the card.
type Attachment struct {
	ContentType string `json:"contentType"`
	ContentURL  any    `json:"contentUrl"`
	Content     Card   `json:"content"`
}

// CardContentType is an Adaptive Card attachment's content type.
const CardContentType = "application/vnd.microsoft.card.adaptive"

// Card is an Adaptive Card (version 1.4, which Teams renders).
type Card struct {
	Schema  string           `json:"$schema"`
	Type    string           `json:"type"`
	Version string           `json:"version"`
	MSTeams map[string]any   `json:"msteams,omitempty"`
	Body    []map[string]any `json:"body"`
	Actions []map[string]any `json:"actions,omitempty"`
}

// Fact is one row of a FactSet.
type Fact struct {
	Title string `json:"title"`
	Value string `json:"value"`
}

// markdown maps the runes of the Adaptive Card Markdown subset (and what
// Teams links or mentions) to look-alikes.
func markdown(r rune) (string, bool) {
	switch r {
	case '*':
		return "∗", true
	case '_':
		return "＿", true
	case '[':
		return "［", true
	case ']':
		return "］", true
	case '`':
		return "ˋ", true
	case '~':
		return "∼", true
	case '<':
		return "‹", true
	case '>':
		return "›", true
	case '#':
		return "＃", true
	case '@':
		return "＠", true
	case '\\':
		return "∖", true
	}
	return "", false
}

// safe is event text as card text: one line, the subset neutralized, no
// leading list marker ("- ", "+ ", "1. "), within max runes.
func safe(s string, max int) string {
	s = eventtext.Line(strings.TrimSpace(s), max, markdown)
	// A list item is a marker and a space: "- x", "+ x", "1. x", "2) x".
	if strings.HasPrefix(s, "- ") || strings.HasPrefix(s, "+ ") || s == "-" || s == "+" {
		return "‐" + s[1:]
	}
	if i := strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' }); i > 0 && (s[i] == '.' || s[i] == ')') &&
		(i+1 == len(s) || s[i+1] == ' ') {
		return s[:i] + "․" + s[i+1:]
	}
	return s
}

// budget bounds a card's text: Render starts generous and halves it until
// the message fits MaxMessage.
type budget struct{ subject, fact, long, facts int }

// Render returns the message for a, within MaxMessage bytes.
func Render(a *activity.Activity) *Message {
	return fit(func(b budget) *Message { return render(a, b) })
}

// RenderDigest returns the card that closes a group's window: the group's
// total and breakdown as facts (eventtext.Digest), every value safe card
// text, a button to the first activity in the console; within MaxMessage
// bytes.
func RenderDigest(d *correlation.Digest) *Message {
	t := eventtext.Digest(d)
	return fit(func(b budget) *Message { return renderDigest(t, d.Severity, b) })
}

// fit renders with a generous budget, halved until the message fits
// MaxMessage.
func fit(render func(budget) *Message) *Message {
	b := budget{subject: 300, fact: 1000, long: 2000, facts: 12}
	for {
		m := render(b)
		data, err := json.Marshal(m)
		if err == nil && len(data) <= MaxMessage || b.fact <= 40 {
			return m
		}
		b = budget{subject: max(b.subject/2, 80), fact: b.fact / 2, long: b.long / 2, facts: b.facts}
	}
}

var severityColor = map[activity.Severity]string{
	activity.Critical: "Attention", activity.High: "Attention", activity.Medium: "Warning", activity.Low: "Accent", activity.Info: "Default",
}

// card collects a card's body within a budget.
type card struct {
	b    budget
	body []map[string]any
}

// text adds a TextBlock of t (already safe), with extra properties.
func (c *card) text(t string, extra map[string]any) {
	if t == "" {
		return
	}
	blk := map[string]any{"type": "TextBlock", "text": t, "wrap": true}
	for k, v := range extra {
		blk[k] = v
	}
	c.body = append(c.body, blk)
}

// head adds the title (event text, made safe) and the severity line.
func (c *card) head(title string, sev activity.Severity, detail string) {
	c.text(safe(title, c.b.subject), map[string]any{"weight": "Bolder", "size": "Medium", "style": "heading"})
	level := "UNKNOWN"
	if sev.Valid() {
		level = strings.ToUpper(string(sev))
	}
	color := severityColor[sev]
	if color == "" {
		color = "Default"
	}
	c.text("**"+level+"**"+detail, map[string]any{"color": color, "spacing": "None"})
}

// facts adds a FactSet of the facts' safe values, at most the budget's.
func (c *card) facts(fs []eventtext.Fact) {
	var facts []Fact
	for _, f := range fs {
		if v := safe(f.Value, c.b.fact); v != "" && len(facts) < c.b.facts {
			facts = append(facts, Fact{Title: f.Label, Value: v})
		}
	}
	if len(facts) > 0 {
		c.body = append(c.body, map[string]any{"type": "FactSet", "facts": facts})
	}
}

// message wraps the card and its buttons in the webhook's envelope.
func (c *card) message(actions []map[string]any) *Message {
	return &Message{Type: "message", Attachments: []Attachment{{
		ContentType: CardContentType,
		Content: Card{
			Schema: "http://adaptivecards.io/schemas/adaptive-card.json", Type: "AdaptiveCard", Version: "1.4",
			MSTeams: map[string]any{"width": "Full"}, Body: c.body, Actions: actions,
		},
	}}}
}

func renderDigest(t eventtext.DigestText, sev activity.Severity, b budget) *Message {
	c := &card{b: b}
	c.head(t.Head, sev, "")
	c.text(safe(t.Summary, b.long), nil)
	c.facts(t.Facts)
	c.text("Activity Aware IDS digest: one card for the window, the first activity was delivered at once", map[string]any{"isSubtle": true, "size": "Small"})
	var actions []map[string]any
	if t.Link != "" {
		actions = append(actions, map[string]any{"type": "Action.OpenUrl", "title": "First activity in the console", "url": t.Link})
	}
	return c.message(actions)
}

func render(a *activity.Activity, b budget) *Message {
	subject := strings.TrimSpace(a.Subject)
	if subject == "" {
		subject = "Activity"
	}
	c := &card{b: b}
	text := c.text
	detail := ""
	if len(a.Detections) > 0 {
		detail = " · Detection: " + safe(strings.Join(eventtext.DetectionTitles(a), ", "), b.fact)
	}
	c.head(subject, a.Severity, detail)
	c.facts(eventtext.Facts(a))
	if p := a.Permission; p != nil {
		reason := p.ReasonText
		if reason == "" {
			reason = p.Reason
		}
		label := "**Missing:** "
		if p.Guardrail {
			label = "**Guardrail denial:** "
		}
		text(label+safe(p.Action, 200)+" on "+safe(p.Resource, b.long/2)+" — "+safe(reason, b.long/2), nil)
	}
	small := []string{"Source: " + safe(a.Source, 100), "Event ID: " + safe(a.ID, 200)}
	if a.Truncated {
		small = append(small, "trimmed to fit the event bus")
	}
	text(strings.Join(small, " · "), map[string]any{"isSubtle": true, "size": "Small"})

	var actions []map[string]any
	for _, l := range eventtext.ConsoleLinks(a, 5) {
		title := safe(l.Title, 60)
		if title == "" {
			title = "Open in the AWS console"
		}
		actions = append(actions, map[string]any{"type": "Action.OpenUrl", "title": title, "url": l.URL})
	}
	return c.message(actions)
}

// ErrInvalidSecret reports a secret that holds no usable webhook URL. Its
// messages never contain the value.
var ErrInvalidSecret = errors.New("teams: invalid secret")

// webhookHost reports the hosts Workflows webhooks are served from (Power
// Automate and Logic Apps) and the retired Office 365 connector's.
func webhookHost(h string) bool {
	for _, suffix := range []string{".logic.azure.com", ".api.powerplatform.com", ".webhook.office.com"} {
		if strings.HasSuffix(h, suffix) {
			return true
		}
	}
	return false
}

// WebhookURLFromSecret reads the webhook URL, bare or {"url": …}, and checks
// it.
func WebhookURLFromSecret(value string) (string, error) {
	v := strings.TrimSpace(value)
	if strings.HasPrefix(v, "{") {
		var s struct {
			URL string `json:"url"`
		}
		if json.Unmarshal([]byte(v), &s) != nil {
			return "", fmt.Errorf("%w: value starts with { but is not a JSON object", ErrInvalidSecret)
		}
		v = strings.TrimSpace(s.URL)
	}
	if _, err := delivery.CheckURL(v, webhookHost); err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalidSecret, err)
	}
	return v, nil
}

// Client posts messages to a Workflows webhook, retrying 429 (after
// Retry-After) and 5xx; other answers (413 too large, 400, 404) are
// permanent. It is safe for concurrent use.
type Client struct {
	http  *http.Client
	retry delivery.Retrier
}

// NewClient returns a Client.
func NewClient(hc *http.Client, retry *delivery.Retrier) *Client {
	r := delivery.NewRetrier("teams")
	if retry != nil {
		r = *retry
		r.Destination = "teams"
	}
	return &Client{http: delivery.NoRedirects(hc), retry: r}
}

// Post delivers m to webhookURL and returns the number of attempts. A
// failure is a *delivery.Error that never contains the URL.
func (c *Client) Post(ctx context.Context, webhookURL string, m *Message, log *slog.Logger) (int, error) {
	body, err := json.Marshal(m)
	if err != nil {
		return 0, &delivery.Error{Destination: "teams", Permanent: true, Err: err}
	}
	req := delivery.Request{
		URL:    webhookURL,
		Header: func() http.Header { return http.Header{"Content-Type": {"application/json; charset=utf-8"}} },
		Body:   body,
		Code:   codeOf,
	}
	return c.retry.Do(ctx, log, delivery.ScrubURL(webhookURL), func(ctx context.Context) (delivery.Answer, error) {
		return delivery.Post(ctx, c.http, req)
	})
}

// codeOf reads the error code of a Workflows answer, {"error":{"code":…}}.
func codeOf(body []byte) string {
	var a struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &a) != nil || len(a.Error.Code) > 64 {
		return ""
	}
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, a.Error.Code)
}

// Destination is Teams' dispatch.Deliverer.
type Destination struct {
	Secret dispatch.Secret
	Client *Client
}

var _ dispatch.DigestDeliverer = (*Destination)(nil)

func (d *Destination) webhookURL(ctx context.Context) (string, error) {
	value, err := d.Secret.Value(ctx)
	if err != nil {
		return "", fmt.Errorf("teams: read secret: %w", err)
	}
	return WebhookURLFromSecret(value)
}

// Check reads and checks the webhook URL.
func (d *Destination) Check(ctx context.Context) error {
	_, err := d.webhookURL(ctx)
	return err
}

// DeliverDigest posts the digest card closing a group's window.
func (d *Destination) DeliverDigest(ctx context.Context, dg *correlation.Digest, log *slog.Logger) (dispatch.Result, error) {
	u, err := d.webhookURL(ctx)
	if err != nil {
		return dispatch.Result{}, err
	}
	n, err := d.Client.Post(ctx, u, RenderDigest(dg), log)
	return dispatch.Result{Attempts: n}, err
}

// Deliver posts the card for a.
func (d *Destination) Deliver(ctx context.Context, a *activity.Activity, log *slog.Logger) (dispatch.Result, error) {
	u, err := d.webhookURL(ctx)
	if err != nil {
		return dispatch.Result{}, err
	}
	n, err := d.Client.Post(ctx, u, Render(a), log)
	return dispatch.Result{Attempts: n}, err
}
