// Package email delivers activities as e-mail through an Amazon SNS topic
// whose e-mail subscriptions the user manages: a subject within what SNS's
// Publish accepts (ASCII printable, no line breaks, fewer than 100 characters)
// and a readable plain-text body with the same facts as the Slack message
// (header, severity, who/what/where, the missing permission, console links).
//
// Every value from the activity goes through package eventtext: one line per
// value (no value can fake a line of ours), control and invisible characters
// shown, URL schemes and "www." defanged so mail clients link nothing; the
// only links are the activity's AWS console links (eventtext.ConsoleURL). The
// subject is transliterated to ASCII (accents stripped through Unicode
// decomposition, typographic punctuation mapped), what has no ASCII form is
// dropped, and it is cut with "...".
//
// Publish goes through aws-sdk-go-v2's SNS client: throttling and 5xx
// answers are retried by the SDK's standard retryer; permanent errors
// (AuthorizationError, NotFound, InvalidParameter, KMSDisabled, …) end the
// invocation as a permanent *delivery.Error, so the event lands in the
// function's failure queue.
package email

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	"golang.org/x/text/unicode/norm"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/correlation"
	"github.com/activity-aware/ids/destinations/delivery"
	"github.com/activity-aware/ids/destinations/dispatch"
	"github.com/activity-aware/ids/destinations/eventtext"
)

// SNS Publish limits.
const (
	// MaxSubject is the longest subject SNS accepts, in ASCII characters
	// (the API reference: "less than 100 characters long").
	MaxSubject = 99
	// MaxMessage is the largest message SNS accepts, in bytes.
	MaxMessage = 256 * 1024
	// maxValue bounds one fact's value, so a message stays far within
	// MaxMessage.
	maxValue = 2000
	maxLinks = 5
)

// EnvTopicARN names the topic the function publishes to.
const EnvTopicARN = "EMAIL_TOPIC_ARN"

// ErrConfig reports a missing or malformed environment.
var ErrConfig = errors.New("email: invalid configuration")

// Config is the destination function's configuration.
type Config struct {
	TopicARN string
}

// ConfigFromEnv reads the configuration; a missing or malformed topic ARN
// is an error.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	v := getenv(EnvTopicARN)
	a, err := arn.Parse(v)
	if err != nil || a.Service != "sns" || a.Resource == "" || strings.Contains(a.Resource, ":") {
		return Config{}, fmt.Errorf("%w: %s is not an SNS topic ARN", ErrConfig, EnvTopicARN)
	}
	return Config{TopicARN: v}, nil
}

// Environment returns what ConfigFromEnv reads back.
func (c Config) Environment() map[string]string {
	return map[string]string{EnvTopicARN: c.TopicARN}
}

// Mail is what one activity sends: SNS's Subject and Message.
type Mail struct {
	Subject string `json:"subject"`
	Text    string `json:"text"`
}

// asciiPunct maps typographic punctuation to its ASCII form.
var asciiPunct = strings.NewReplacer(
	"…", "...", "–", "-", "—", "-", "‐", "-", "‑", "-", "−", "-",
	"‘", "'", "’", "'", "‚", ",", "“", `"`, "”", `"`, "„", `"`,
	"«", `"`, "»", `"`, "→", "->", "←", "<-", "⇒", "=>", "‹", "<", "›", ">", "·", "-", "•", "-",
	"\u00a0", " ", "\ufffd", "?", "ß", "ss", "Æ", "AE", "æ", "ae",
	"Ø", "O", "ø", "o", "Œ", "OE", "œ", "oe", "Ł", "L", "ł", "l", "Đ", "D", "đ", "d",
)

// Subject returns s as an SNS subject: ASCII printable, one line, at most
// MaxSubject characters, starting with a letter, digit or punctuation mark.
func Subject(s string) string {
	s = eventtext.Line(strings.TrimSpace(s), 4*MaxSubject, nil)
	s = asciiPunct.Replace(norm.NFKD.String(s))
	var b strings.Builder
	space := false
	for _, r := range s {
		switch {
		case r == ' ':
			space = b.Len() > 0
			continue
		case r > ' ' && r < 0x7f:
			if space {
				b.WriteByte(' ')
				space = false
			}
			b.WriteRune(r)
		}
		// Combining marks (the accents NFKD split off) and every other
		// rune without an ASCII form are dropped.
	}
	out := b.String()
	if out == "" {
		out = "Activity"
	}
	if len(out) > MaxSubject {
		out = strings.TrimRight(out[:MaxSubject-3], " ") + "..."
	}
	return out
}

// value is one line of safe text of at most max runes.
func value(s string, max int) string {
	return eventtext.Line(strings.TrimSpace(s), max, nil)
}

// text builds a mail's plain-text body one line at a time.
type text struct{ strings.Builder }

func (b *text) line(parts ...string) {
	for _, p := range parts {
		b.WriteString(p)
	}
	b.WriteByte('\n')
}

// head writes the title (event text, made safe) underlined.
func (b *text) head(title string) {
	head := value(title, 500)
	b.line(head)
	b.line(strings.Repeat("=", min(len([]rune(head)), 72)))
}

// facts writes one "Label: value" line per fact with a value.
func (b *text) facts(fs []eventtext.Fact) {
	for _, f := range fs {
		if v := value(f.Value, maxValue); v != "" {
			b.line(fmt.Sprintf("%-12s", f.Label+":"), " ", v)
		}
	}
}

// level is a severity as the subject and body show it.
func level(s activity.Severity) string {
	if s.Valid() {
		return strings.ToUpper(string(s))
	}
	return "UNKNOWN"
}

// RenderDigest returns the mail that closes a group's window: the group's
// total and breakdown (eventtext.Digest), every value one line of safe
// text, and the first activity's console link.
func RenderDigest(d *correlation.Digest) Mail {
	t := eventtext.Digest(d)
	var b text
	b.head(t.Head)
	b.line("Severity: ", level(d.Severity))
	b.line()
	b.line(value(t.Summary, maxValue))
	b.line()
	b.facts(t.Facts)
	if t.Link != "" {
		b.line()
		b.line("First activity in the AWS console:")
		b.line("  ", t.Link)
	}
	b.line()
	b.line("-- ")
	b.line("Activity Aware IDS - one mail for the window; its first activity was mailed at once")
	subject := "[" + level(d.Severity) + "] " + t.Head
	if !d.BySuppression {
		// The count first, so that a long group name cannot cut it off.
		subject = "[" + level(d.Severity) + "] Digest: " + t.Tally + " - " + strings.TrimPrefix(t.Head, "Digest: ")
	}
	return Mail{Subject: Subject(subject), Text: b.String()}
}

// Render returns the mail for a.
func Render(a *activity.Activity) Mail {
	title := strings.TrimSpace(a.Subject)
	if title == "" {
		title = "Activity"
	}
	var b text
	line := b.line
	b.head(title)
	sev := "Severity: " + level(a.Severity)
	if len(a.Detections) > 0 {
		sev += " - Detection: " + value(strings.Join(eventtext.DetectionTitles(a), ", "), maxValue)
	}
	line(sev)
	line()
	b.facts(eventtext.Facts(a))
	if p := a.Permission; p != nil {
		reason := p.ReasonText
		if reason == "" {
			reason = p.Reason
		}
		label := "Missing permission"
		if p.Guardrail {
			label = "Guardrail denial"
		}
		line()
		line(label, ": ", value(p.Action, 200), " on ", value(p.Resource, maxValue))
		if r := value(reason, maxValue); r != "" {
			line("  ", r)
		}
	}
	for i, l := range eventtext.ConsoleLinks(a, maxLinks) {
		if i == 0 {
			line()
		}
		t := value(l.Title, 100)
		if t == "" {
			t = "Open in the AWS console"
		}
		line(t, ":")
		line("  ", l.URL)
	}
	line()
	line("-- ")
	small := "Activity Aware IDS - source " + value(a.Source, 100) + " - event " + value(a.ID, 200)
	if a.Truncated {
		small += " - trimmed to fit the event bus"
	}
	line(small)
	return Mail{Subject: Subject("[" + level(a.Severity) + "] " + title), Text: b.String()}
}

// Publisher is the part of the SNS client the destination uses;
// *sns.Client implements it.
type Publisher interface {
	Publish(ctx context.Context, in *sns.PublishInput, optFns ...func(*sns.Options)) (*sns.PublishOutput, error)
}

var _ Publisher = (*sns.Client)(nil)

// Destination is the e-mail dispatch.Deliverer.
type Destination struct {
	SNS      Publisher
	TopicARN string
}

var _ dispatch.DigestDeliverer = (*Destination)(nil)

// Check reports a configuration that cannot deliver; it sends nothing.
func (d *Destination) Check(context.Context) error {
	if d.SNS == nil {
		return fmt.Errorf("%w: no SNS client", ErrConfig)
	}
	_, err := ConfigFromEnv(func(string) string { return d.TopicARN })
	return err
}

// DeliverDigest publishes the digest mail closing a group's window.
func (d *Destination) DeliverDigest(ctx context.Context, dg *correlation.Digest, _ *slog.Logger) (dispatch.Result, error) {
	return d.Send(ctx, RenderDigest(dg))
}

// Deliver publishes the mail for a.
func (d *Destination) Deliver(ctx context.Context, a *activity.Activity, log *slog.Logger) (dispatch.Result, error) {
	return d.Send(ctx, Render(a))
}

// Send publishes m to the topic.
func (d *Destination) Send(ctx context.Context, m Mail) (dispatch.Result, error) {
	if len(m.Text) > MaxMessage {
		return dispatch.Result{}, &delivery.Error{Destination: "email", Permanent: true, Reason: fmt.Sprintf("message of %d bytes exceeds %d", len(m.Text), MaxMessage)}
	}
	attempts := 0
	count := func(o *sns.Options) {
		o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
			return st.Finalize.Insert(middleware.FinalizeMiddlewareFunc("email.countAttempts",
				func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
					attempts++
					return next.HandleFinalize(ctx, in)
				}), "Retry", middleware.After)
		})
	}
	_, err := d.SNS.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(d.TopicARN), Subject: aws.String(m.Subject), Message: aws.String(m.Text)}, count)
	if err != nil {
		return dispatch.Result{Attempts: attempts}, classify(err, attempts)
	}
	return dispatch.Result{Attempts: attempts}, nil
}

// classify turns an SNS error, after the SDK's retries, into a
// *delivery.Error: 4xx answers other than throttling are permanent.
func classify(err error, attempts int) error {
	de := &delivery.Error{Destination: "email", Attempts: attempts, Err: err}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		de.StatusCode = re.HTTPStatusCode()
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		de.Code = ae.ErrorCode()
	}
	throttled := de.Code == "Throttling" || de.Code == "ThrottlingException" || de.Code == "ThrottledException"
	de.Permanent = de.StatusCode >= 400 && de.StatusCode < 500 && de.StatusCode != http.StatusTooManyRequests && !throttled
	return de
}
