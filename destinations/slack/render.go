// Package slack renders activities as Slack Block Kit messages and delivers
// them through an incoming webhook.
//
// Everything an activity carries came from whoever made the underlying call,
// so every value is escaped (&, <, >), its control, bidirectional and
// invisible characters made visible, and cut by runes within Slack's limits
// before it reaches a message. Slack has no escape for its formatting
// characters, so event text never sits bare in mrkdwn: it is plain_text
// (header, context, buttons) or a code span or code block (fields, the
// permission line, statements), one span per line so that a line break in a
// value cannot start a line that looks like the renderer's. Only the
// renderer's own labels are formatted. See docs/SECURITY.md.
package slack

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	slackapi "github.com/slack-go/slack"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/denial"
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
	// dropped counts the links that are not AWS console links.
	dropped int
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
	name := strings.ToUpper(string(sev))
	if !sev.Valid() {
		name = "UNKNOWN SEVERITY"
	}
	text := fmt.Sprintf("%s *%s*", icon, name)
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
			t := inlineCode(title, 200)
			if t == "" {
				t = "`?`"
			}
			if d.Severity.Valid() {
				t += " (" + string(d.Severity) + ")"
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

// field is one section field: a bold label and the value as code lines
// (codeLines), within Slack's per-field limit. name is the renderer's own
// label; a name that came with the event goes through label first.
func field(name, value string) *slackapi.TextBlockObject {
	prefix := "*" + name + "*\n"
	return mrkdwnField(prefix, codeLines(value, maxFieldText-runes(prefix)))
}

// mrkdwnField is a field whose value is mrkdwn the renderer composed.
func mrkdwnField(prefix, value string) *slackapi.TextBlockObject {
	return mrkdwn(prefix + value)
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
	addComposed := func(label, value string) {
		if value != "" && len(fields) < maxFields {
			fields = append(fields, mrkdwnField("*"+label+"*\n", value))
		}
	}
	if actor := a.Actor; actor != nil {
		addComposed("Who", actorText(actor))
		r.show(actor.Name, actor.ARN, actor.Type, actor.AccountID, actor.SourceIP, actor.UserAgent, actor.InvokedBy, actor.AccessKeyID)
	}
	if action := a.Action; action != nil {
		addComposed("Action", actionText(action))
		addField("Error", joinNonEmpty(": ", action.ErrorCode, action.ErrorMessage))
		r.show(action.Service, action.Name, action.ErrorCode, action.ErrorMessage, serviceShortName(action.Service)+":"+action.Name)
	}
	addComposed("Account", accountText(a.Account))
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
		addComposed("Resources", res)
		for _, rs := range a.Resources {
			r.show(rs.ARN)
		}
	}
	if len(fields) == 0 {
		return nil
	}
	return slackapi.NewSectionBlock(nil, fields, nil)
}

// actorText is the Who field's value, mrkdwn: the event's values as code
// spans, the renderer's words ("issuer", "MFA", "key") around them.
func actorText(actor *activity.Actor) string {
	name := actor.Name
	if name == "" {
		name = actor.ARN
	}
	if name == "" {
		name = actor.PrincipalID
	}
	lines := []string{}
	name, typ := inlineCode(name, 400), inlineCode(actor.Type, 60)
	if name != "" {
		if typ != "" {
			name += " (" + typ + ")"
		}
		lines = append(lines, name)
	} else if typ != "" {
		lines = append(lines, typ)
	}
	if actor.ARN != "" && actor.ARN != actor.Name {
		if arn := inlineCode(actor.ARN, 600); arn != "" {
			lines = append(lines, arn)
		}
	}
	if issuer := inlineCode(actor.SessionIssuer, 600); issuer != "" {
		lines = append(lines, "issuer "+issuer)
	}
	if actor.MFA != nil {
		if *actor.MFA {
			lines = append(lines, "MFA: yes")
		} else {
			lines = append(lines, "MFA: no")
		}
	}
	if key := inlineCode(actor.AccessKeyID, 60); key != "" {
		lines = append(lines, "key "+key)
	}
	return strings.Join(lines, "\n")
}

// serviceShortName is "iam" for "iam.amazonaws.com".
func serviceShortName(service string) string {
	short, _, _ := strings.Cut(service, ".")
	return short
}

// actionText is the Action field's value, mrkdwn.
func actionText(action *activity.Action) string {
	text := action.Name
	if action.Service != "" {
		text = serviceShortName(action.Service) + ":" + action.Name
		if action.Name == "" {
			text = action.Service
		}
	}
	text = inlineCode(text, 300)
	if text == "" {
		return ""
	}
	var notes []string
	switch action.Outcome {
	case activity.Denied, activity.Failed, activity.Success:
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

// accountText is the Account field's value, mrkdwn.
func accountText(acct activity.Account) string {
	id, name := inlineCode(acct.ID, 100), inlineCode(acct.Name, 300)
	switch {
	case id != "" && name != "":
		return id + " (" + name + ")"
	case id != "":
		return id
	}
	return name
}

// resourcesText is the Resources field's value, mrkdwn: at most three, and
// how many more there were.
func resourcesText(resources []activity.Resource) string {
	const shown = 3
	var lines []string
	for i, res := range resources {
		if i == shown {
			lines = append(lines, fmt.Sprintf("and %d more", len(resources)-shown))
			break
		}
		line := inlineCode(res.ARN, 500)
		if typ := inlineCode(res.Type, 100); typ != "" {
			line = joinNonEmpty(" ", line, "("+typ+")")
		}
		if line != "" {
			lines = append(lines, line)
		}
	}
	return strings.Join(lines, "\n")
}

// firstNonBlank is the first of its arguments that is not blank.
func firstNonBlank(ss ...string) string {
	for _, s := range ss {
		if strings.TrimSpace(s) != "" {
			return s
		}
	}
	return ""
}

// orQuestion is "?" for a value that rendered empty.
func orQuestion(s string) string {
	if s == "" {
		return "`?`"
	}
	return s
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
	// The reason is the explainer's own words for a known class; anything
	// else the activity carries is shown as the data it is.
	reason := denial.ReasonText(p.Reason)
	if reason == "" {
		reason = inlineCode(firstNonBlank(p.ReasonText, p.Reason), 600)
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
	if p.Fixable && p.Reason == denial.ReasonUnknown {
		suffix += " — reason not stated by AWS: the statement below is the likeliest fix"
	}
	text := label + " " + orQuestion(inlineCode(act, 200)) + " on " + orQuestion(inlineCode(res, 1200)) + " — " + reason + suffix
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
			fields = append(fields, mrkdwnField(label(key, 100)+"\n", codeLines(f.Value, maxFieldText-104)))
		}
		rest = rest[n:]
		if len(blocks) == maxDetailSections-1 && len(rest) > 0 {
			fields = append(fields, plain(fmt.Sprintf("%d more fields not shown", len(rest))))
			rest = nil
		}
		blocks = append(blocks, slackapi.NewSectionBlock(nil, fields, nil))
	}
	return blocks
}

// links are the console links as buttons. A button's URL is not mrkdwn, so
// no event text can turn it into a mention, and only links to the AWS console
// of the activity's partition are kept (consoleLink); the others are counted
// in r.dropped and noted in the context line.
func (r *renderer) links() slackapi.Block {
	var buttons []slackapi.BlockElement
	partition := activityPartition(r.a)
	for _, l := range r.a.Links {
		if !consoleLink(l.URL, partition) {
			r.dropped++
			continue
		}
		if len(buttons) == maxLinks {
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

// consoleHosts are the AWS Management Console hosts of each partition; a
// link's host must be one of them or a subdomain of one (the regional
// consoles, such as us-east-1.console.aws.amazon.com).
var consoleHosts = map[string][]string{
	"aws":        {"console.aws.amazon.com"},
	"aws-us-gov": {"console.amazonaws-us-gov.com"},
	"aws-cn":     {"console.amazonaws.cn"},
}

// consoleLink reports whether raw is an https link to the AWS console of the
// partition: parsed, no user info or port, and a host that is a console host
// or ends in "." and one, compared exactly (lower case).
func consoleLink(raw, partition string) bool {
	if raw == "" || runes(raw) > maxButtonURL || strings.ContainsAny(raw, " \t\r\n<>\\") {
		return false
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.User != nil || u.Port() != "" || u.Opaque != "" {
		return false
	}
	host := strings.ToLower(u.Hostname())
	for _, h := range consoleHosts[partition] {
		if host == h || strings.HasSuffix(host, "."+h) {
			return true
		}
	}
	return false
}

// activityPartition is the AWS partition the activity happened in, from its
// region (the actor's ARN when there is none); "aws" when neither says.
func activityPartition(a *activity.Activity) string {
	region := a.Region
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	case region == "" && a.Actor != nil && strings.HasPrefix(a.Actor.ARN, "arn:"):
		if p := strings.SplitN(a.Actor.ARN, ":", 3); len(p) == 3 && consoleHosts[p[1]] != nil {
			return p[1]
		}
	}
	return "aws"
}

// context is the small print: source, severity, event id, origin and whether
// the activity was trimmed.
func (r *renderer) context() slackapi.Block {
	a := r.a
	var elems []slackapi.MixedElement
	addElem := func(label, value string) {
		if strings.TrimSpace(value) != "" && len(elems) < maxContext {
			elems = append(elems, plain(label+": "+escapeLine(value, 300)))
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
	if r.dropped > 0 {
		addElem("Links dropped", fmt.Sprintf("%d (not an AWS console link)", r.dropped))
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

// RenderUnverified is the notice posted instead of an activity whose event
// failed verification (eventbus.ErrUnverified): a clearly marked message that
// shows who published the event and why it is not believed, and nothing of
// what the event claims (no subject, severity, detections or links). Every
// value is shown as data.
func RenderUnverified(ev events.EventBridgeEvent, reason error) *slackapi.WebhookMessage {
	off := false
	why := "unknown"
	if reason != nil {
		why = reason.Error()
	}
	var fields []*slackapi.TextBlockObject
	add := func(label, value string) {
		if strings.TrimSpace(value) != "" {
			fields = append(fields, field(label, value))
		}
	}
	add("Published by account", ev.AccountID)
	add("Source", ev.Source)
	add("Detail type", ev.DetailType)
	add("Region", ev.Region)
	add("Event ID", ev.ID)
	if !ev.Time.IsZero() {
		add("Time", ev.Time.UTC().Format(time.RFC3339))
	}
	blocks := []slackapi.Block{
		slackapi.NewHeaderBlock(plain("Unverified activity: not shown")),
		section(":warning: *An event on the activity bus failed verification.* What it claims is not shown; the publishing account is not a trusted producer for it, or the event is not an activity."),
		slackapi.NewSectionBlock(nil, fields, nil),
		section("*Reason*\n" + codeLines(why, maxText-20)),
	}
	return &slackapi.WebhookMessage{
		Text:        "[UNVERIFIED] activity event from account " + escapeLine(ev.AccountID, 40) + " not shown",
		Blocks:      &slackapi.Blocks{BlockSet: blocks},
		UnfurlLinks: &off,
		UnfurlMedia: &off,
	}
}
