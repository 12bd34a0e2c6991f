// Package slack renders activities as Slack Block Kit messages and delivers
// them through an incoming webhook.
//
// Everything an activity carries came from whoever made the underlying call,
// so every value is escaped (&, <, >), stripped of control and bidirectional
// override characters and cut by runes within Slack's limits before it reaches
// a message; only the renderer's own mrkdwn formatting stays live.
package slack

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	slackapi "github.com/slack-go/slack"

	"github.com/activity-aware/ids/activity"
)

// Slack's documented limits, in characters.
const (
	maxHeader         = 150
	maxText           = 3000
	maxFields         = 10
	maxFieldText      = 2000
	maxContext        = 10
	maxButtonText     = 75
	maxButtonURL      = 3000
	maxBlocks         = 50
	maxFallback       = 1000 // the notification text; Slack allows far more
	maxLinks          = 5
	maxDetailSections = 3
)

// requestParametersKey is the display field holding the call's parameters as
// compact JSON (the CloudTrail source's name for it).
const requestParametersKey = "Request Parameters"

// severityIcon marks a severity with an emoji Slack shows in colour.
var severityIcon = map[activity.Severity]string{
	activity.Critical: ":rotating_light:",
	activity.High:     ":red_circle:",
	activity.Medium:   ":large_orange_circle:",
	activity.Low:      ":large_yellow_circle:",
	activity.Info:     ":large_blue_circle:",
}

// Render turns an activity into the webhook message: Block Kit blocks built
// with slack-go's types, a plain-text fallback for notifications, and link
// unfurling off. Any 1.x activity renders, however sparse: missing parts are
// left out. The activity is not modified.
func Render(a *activity.Activity) *slackapi.WebhookMessage {
	off := false
	r := renderer{a: a, shown: map[string]bool{}}
	blocks := r.blocks()
	if len(blocks) > maxBlocks {
		blocks = blocks[:maxBlocks]
	}
	return &slackapi.WebhookMessage{
		Text:        r.fallback(),
		Blocks:      &slackapi.Blocks{BlockSet: blocks},
		UnfurlLinks: &off,
		UnfurlMedia: &off,
	}
}

type renderer struct {
	a *activity.Activity
	// shown holds the raw values the key fields display, so the details
	// section does not repeat them.
	shown map[string]bool
}

func (r *renderer) blocks() []slackapi.Block {
	var blocks []slackapi.Block
	add := func(b slackapi.Block) {
		if b != nil {
			blocks = append(blocks, b)
		}
	}
	add(r.header())
	add(r.severity())
	add(r.keyFields())
	add(r.permission())
	add(r.statement())
	add(r.requestParameters())
	for _, b := range r.details() {
		add(b)
	}
	add(r.links())
	add(r.context())
	return blocks
}

func plain(text string) *slackapi.TextBlockObject {
	return slackapi.NewTextBlockObject(slackapi.PlainTextType, text, false, false)
}

// mrkdwn is a mrkdwn text object with verbatim on, so Slack does not turn
// bare URLs or channel names in event text into links.
func mrkdwn(text string) *slackapi.TextBlockObject {
	return slackapi.NewTextBlockObject(slackapi.MarkdownType, text, false, true)
}

func section(text string) slackapi.Block {
	if text == "" {
		return nil
	}
	return slackapi.NewSectionBlock(mrkdwn(text), nil, nil)
}

func (r *renderer) header() slackapi.Block {
	subject := strings.TrimSpace(r.a.Subject)
	if subject == "" {
		subject = "Activity"
	}
	return slackapi.NewHeaderBlock(plain(escapeLine(subject, maxHeader)))
}

// severity shows the severity and the matched detections first, for the
// security reader.
func (r *renderer) severity() slackapi.Block {
	sev := r.a.Severity
	icon := severityIcon[sev]
	if icon == "" {
		icon = ":white_circle:"
	}
	text := fmt.Sprintf("%s *%s*", icon, escapeLine(strings.ToUpper(string(sev)), 20))
	if len(r.a.Detections) > 0 {
		label := "  ·  Detection: "
		if len(r.a.Detections) > 1 {
			label = "  ·  Detections: "
		}
		text += label
		// Room for the longest "and N more" note.
		budget := maxText - runes(text) - 20
		for i, d := range r.a.Detections {
			title := d.Title
			if strings.TrimSpace(title) == "" {
				title = d.ID
			}
			t := "*" + escapeLine(title, 200) + "*"
			if d.Severity != "" {
				t += " (" + escapeLine(string(d.Severity), 20) + ")"
			}
			if i > 0 {
				t = ", " + t
			}
			if runes(t) > budget {
				text += fmt.Sprintf(" and %d more", len(r.a.Detections)-i)
				break
			}
			text += t
			budget -= runes(t)
		}
	}
	return section(text)
}

// field is one section field: a bold label and an escaped value, within
// Slack's per-field limit.
func field(label, value string) *slackapi.TextBlockObject {
	prefix := "*" + label + "*\n"
	return mrkdwn(prefix + escape(value, maxFieldText-runes(prefix)))
}

func (r *renderer) show(values ...string) {
	for _, v := range values {
		if v != "" {
			r.shown[v] = true
		}
	}
}

// keyFields is the section a reader scans: who, what, which error, where,
// from where, when.
func (r *renderer) keyFields() slackapi.Block {
	a := r.a
	var fields []*slackapi.TextBlockObject
	addField := func(label, value string) {
		if strings.TrimSpace(value) != "" && len(fields) < maxFields {
			fields = append(fields, field(label, value))
		}
	}
	if actor := a.Actor; actor != nil {
		addField("Who", actorText(actor))
		r.show(actor.Name, actor.ARN, actor.Type, actor.AccountID, actor.SourceIP, actor.UserAgent, actor.InvokedBy, actor.AccessKeyID)
	}
	if action := a.Action; action != nil {
		addField("Action", actionText(action))
		addField("Error", joinNonEmpty(": ", action.ErrorCode, action.ErrorMessage))
		r.show(action.Service, action.Name, action.ErrorCode, action.ErrorMessage, serviceShortName(action.Service)+":"+action.Name)
	}
	addField("Account", accountText(a.Account))
	addField("Region", a.Region)
	r.show(a.Account.ID, a.Account.Name, a.Region)
	if a.Actor != nil {
		addField("Source IP", a.Actor.SourceIP)
	}
	if !a.Time.IsZero() {
		t := a.Time.UTC()
		addField("Time", t.Format(time.RFC3339))
		r.show(t.Format(time.RFC3339), t.Format(time.RFC3339Nano), a.Time.Format(time.RFC3339), a.Time.Format(time.RFC3339Nano))
	}
	if a.Actor != nil {
		addField("Invoked by", a.Actor.InvokedBy)
		addField("User agent", a.Actor.UserAgent)
	}
	if res := resourcesText(a.Resources); res != "" {
		addField("Resources", res)
		for _, rs := range a.Resources {
			r.show(rs.ARN)
		}
	}
	if len(fields) == 0 {
		return nil
	}
	return slackapi.NewSectionBlock(nil, fields, nil)
}

func actorText(actor *activity.Actor) string {
	name := actor.Name
	if name == "" {
		name = actor.ARN
	}
	if name == "" {
		name = actor.PrincipalID
	}
	lines := []string{}
	if name != "" {
		if actor.Type != "" {
			name += " (" + actor.Type + ")"
		}
		lines = append(lines, name)
	} else if actor.Type != "" {
		lines = append(lines, actor.Type)
	}
	if actor.ARN != "" && actor.ARN != actor.Name {
		lines = append(lines, actor.ARN)
	}
	if actor.SessionIssuer != "" {
		lines = append(lines, "issuer "+actor.SessionIssuer)
	}
	if actor.MFA != nil {
		if *actor.MFA {
			lines = append(lines, "MFA: yes")
		} else {
			lines = append(lines, "MFA: no")
		}
	}
	if actor.AccessKeyID != "" {
		lines = append(lines, "key "+actor.AccessKeyID)
	}
	return strings.Join(lines, "\n")
}

// serviceShortName is "iam" for "iam.amazonaws.com".
func serviceShortName(service string) string {
	short, _, _ := strings.Cut(service, ".")
	return short
}

func actionText(action *activity.Action) string {
	text := action.Name
	if action.Service != "" {
		text = serviceShortName(action.Service) + ":" + action.Name
		if action.Name == "" {
			text = action.Service
		}
	}
	if text == "" {
		return ""
	}
	var notes []string
	if action.Outcome != "" {
		notes = append(notes, string(action.Outcome))
	}
	if action.ReadOnly != nil && *action.ReadOnly {
		notes = append(notes, "read-only")
	}
	if len(notes) > 0 {
		text += " (" + strings.Join(notes, ", ") + ")"
	}
	return text
}

func accountText(acct activity.Account) string {
	switch {
	case acct.ID != "" && acct.Name != "":
		return acct.ID + " (" + acct.Name + ")"
	case acct.ID != "":
		return acct.ID
	}
	return acct.Name
}

func resourcesText(resources []activity.Resource) string {
	const shown = 3
	var lines []string
	for i, res := range resources {
		if i == shown {
			lines = append(lines, fmt.Sprintf("and %d more", len(resources)-shown))
			break
		}
		lines = append(lines, joinNonEmpty(" ", res.ARN, parenthesize(res.Type)))
	}
	return strings.Join(lines, "\n")
}

func parenthesize(s string) string {
	if s == "" {
		return ""
	}
	return "(" + s + ")"
}

func joinNonEmpty(sep string, parts ...string) string {
	var kept []string
	for _, p := range parts {
		if strings.TrimSpace(p) != "" {
			kept = append(kept, p)
		}
	}
	return strings.Join(kept, sep)
}

// permission is the one line the engineer fixing a role reads: which
// permission was missing, on what, and why. A guardrail denial is labelled
// so, for the security reader.
func (r *renderer) permission() slackapi.Block {
	p := r.a.Permission
	if p == nil {
		return nil
	}
	act := p.Action
	if act == "" {
		act = "an unstated action"
	}
	res := p.Resource
	if res == "" {
		res = "*"
	}
	reason := p.ReasonText
	if reason == "" {
		reason = p.Reason
	}
	if reason == "" {
		reason = "reason unknown"
	}
	label := "*Missing:*"
	suffix := ""
	switch {
	case p.Guardrail:
		label = ":shield: *Guardrail denial:*"
		suffix = " — the guardrail held"
	case !p.Fixable && !p.Encoded && p.Reason != "":
		label = "*Denied:*"
	}
	if p.Encoded {
		suffix += " (details in the encoded authorization message)"
	}
	text := label + " " + inlineCode(act, 200) + " on " + inlineCode(res, 1200) + " — " + escapeLine(reason, 600) + suffix
	return section(text)
}

// statement is the suggested IAM statement, pretty-printed.
func (r *renderer) statement() slackapi.Block {
	p := r.a.Permission
	if p == nil || len(p.Statement) == 0 || string(p.Statement) == "null" {
		return nil
	}
	return section(codeBlock("*Suggested statement*", prettyJSON(p.Statement, maxText), maxText))
}

// prettyJSON indents a JSON value when the result fits in max runes, and
// otherwise returns it as it is.
func prettyJSON(raw []byte, max int) string {
	if len(raw) > max {
		return string(raw)
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err == nil && runes(buf.String()) <= max {
		return buf.String()
	}
	return string(raw)
}

func (r *renderer) requestParameters() slackapi.Block {
	for _, f := range r.a.Fields {
		if strings.EqualFold(f.Key, requestParametersKey) {
			r.show(f.Value)
			return section(codeBlock("*Request parameters*", prettyJSON([]byte(f.Value), maxText/2), maxText))
		}
	}
	return nil
}

// details are the display fields the key section did not already show, in
// their order, at most ten to a section.
func (r *renderer) details() []slackapi.Block {
	var rest []activity.Field
	for _, f := range r.a.Fields {
		if strings.TrimSpace(f.Value) == "" || r.shown[f.Value] || strings.EqualFold(f.Key, requestParametersKey) {
			continue
		}
		rest = append(rest, f)
	}
	var blocks []slackapi.Block
	for len(rest) > 0 && len(blocks) < maxDetailSections {
		n := min(len(rest), maxFields)
		if len(blocks) == maxDetailSections-1 && len(rest) > maxFields {
			n = maxFields - 1 // room for the "more" note
		}
		fields := make([]*slackapi.TextBlockObject, 0, maxFields)
		for _, f := range rest[:n] {
			key := strings.TrimSpace(f.Key)
			if key == "" {
				key = "Field"
			}
			fields = append(fields, field(escapeLine(key, 100), f.Value))
		}
		rest = rest[n:]
		if len(blocks) == maxDetailSections-1 && len(rest) > 0 {
			fields = append(fields, mrkdwn(fmt.Sprintf("_%d more fields not shown_", len(rest))))
			rest = nil
		}
		blocks = append(blocks, slackapi.NewSectionBlock(nil, fields, nil))
	}
	return blocks
}

// links are the console links as buttons. A button's URL is not mrkdwn, so
// no event text can turn it into a mention; only http(s) URLs are kept.
func (r *renderer) links() slackapi.Block {
	var buttons []slackapi.BlockElement
	for _, l := range r.a.Links {
		if len(buttons) == maxLinks {
			break
		}
		if !linkable(l.URL) {
			continue
		}
		title := strings.TrimSpace(l.Title)
		if title == "" {
			title = "Open"
		}
		buttons = append(buttons, slackapi.NewButtonBlockElement(fmt.Sprintf("link-%d", len(buttons)), "", plain(escapeLine(title, maxButtonText))).WithURL(l.URL))
	}
	if len(buttons) == 0 {
		return nil
	}
	return slackapi.NewActionBlock("", buttons...)
}

func linkable(raw string) bool {
	if raw == "" || runes(raw) > maxButtonURL || strings.ContainsAny(raw, " \t\r\n<>") {
		return false
	}
	u, err := url.Parse(raw)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}

// context is the small print: source, severity, event id, origin and whether
// the activity was trimmed.
func (r *renderer) context() slackapi.Block {
	a := r.a
	var elems []slackapi.MixedElement
	addElem := func(label, value string) {
		if strings.TrimSpace(value) != "" && len(elems) < maxContext {
			prefix := label + ": "
			elems = append(elems, mrkdwn(prefix+escapeLine(value, 300)))
		}
	}
	addElem("Source", a.Source)
	addElem("Severity", string(a.Severity))
	addElem("Event ID", a.ID)
	if a.Origin != nil {
		addElem("Log group", a.Origin.LogGroup)
	}
	if a.Truncated {
		addElem("Note", "trimmed to fit the event bus")
	}
	if len(elems) == 0 {
		return nil
	}
	return slackapi.NewContextBlock("", elems...)
}

// fallback is the plain notification text: severity, subject and the
// detections.
func (r *renderer) fallback() string {
	a := r.a
	subject := strings.TrimSpace(a.Subject)
	if subject == "" {
		subject = "Activity"
	}
	text := "[" + escapeLine(strings.ToUpper(string(a.Severity)), 20) + "] " + escapeLine(subject, maxFallback/2)
	if len(a.Detections) > 0 {
		titles := make([]string, 0, len(a.Detections))
		for _, d := range a.Detections {
			titles = append(titles, d.Title)
		}
		text += " — " + escapeLine(strings.Join(titles, ", "), maxFallback/2-4)
	}
	return text
}
