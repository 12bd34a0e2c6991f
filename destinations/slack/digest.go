package slack

import (
	"fmt"
	"strings"
	"time"

	slackapi "github.com/slack-go/slack"

	"github.com/activity-aware/ids/correlation"
)

// RenderDigest turns a group's digest into the webhook message that closes
// its window: the group's total for the window and its breakdown, e.g.
// "IAMUser ci-deployer: 400 denied calls in 3 min: iam 90, s3 50, …; from
// 198.51.100.23", and a link to what was posted first. Every value from the
// events is escaped as Render escapes it.
func RenderDigest(d *correlation.Digest) *slackapi.WebhookMessage {
	off := false
	noun := "activity"
	if d.Denied {
		noun = "denied call"
	}
	var head, summary string
	if d.BySuppression {
		head = "Suppressed: " + correlation.Plural(d.Suppressed, noun)
		summary = fmt.Sprintf("*%s suppressed* in %s (%s)", escapeLine(correlation.Plural(d.Suppressed, noun), 50),
			escapeLine(d.Breakdown.Span(), 20), escapeLine("reason: "+d.Reason, 400))
	} else {
		head = "Digest: " + d.Label
		summary = fmt.Sprintf("*%s*: %s in %s (%s posted, %s folded)", escapeLine(d.Principal, 300),
			escapeLine(correlation.Plural(d.Count, noun), 50), escapeLine(d.Breakdown.Span(), 20),
			"1", escapeLine(fmt.Sprint(d.Folded()), 20))
	}
	var parts []string
	if len(d.Services) > 0 {
		parts = append(parts, "by service: "+correlation.List(d.Services, 15))
	}
	if len(d.SourceIPs) > 0 {
		parts = append(parts, "from "+strings.Join(d.SourceIPs, ", "))
	}
	blocks := []slackapi.Block{
		slackapi.NewHeaderBlock(plain(escapeLine(head, maxHeader))),
		section(summary),
	}
	if len(parts) > 0 {
		blocks = append(blocks, section(escape(strings.Join(parts, "; "), maxText)))
	}
	if len(d.Actions) > 0 {
		blocks = append(blocks, section("*Actions*: "+escape(correlation.List(d.Actions, 40), maxText-20)))
	}
	if len(d.UserAgents) > 0 {
		blocks = append(blocks, section("*User agents*: "+escape(strings.Join(d.UserAgents, "; "), maxText-20)))
	}
	if d.FirstSubject != "" && !d.BySuppression {
		blocks = append(blocks, section("*First (posted at once)*: "+escapeLine(d.FirstSubject, 500)))
	}
	if linkable(d.FirstLink) {
		blocks = append(blocks, slackapi.NewActionBlock("", slackapi.NewButtonBlockElement("link-0", "",
			plain("First activity in the console")).WithURL(d.FirstLink)))
	}
	ctx := []slackapi.MixedElement{
		mrkdwn("Window: " + escapeLine(d.Start.UTC().Format(time.RFC3339)+" to "+d.End.UTC().Format(time.RFC3339), 100)),
	}
	if d.FirstID != "" {
		ctx = append(ctx, mrkdwn("First event ID: "+escapeLine(d.FirstID, 200)))
	}
	if d.Severity != "" {
		ctx = append(ctx, mrkdwn("Severity: "+escapeLine(string(d.Severity), 20)))
	}
	blocks = append(blocks, slackapi.NewContextBlock("", ctx...))
	return &slackapi.WebhookMessage{
		Text:        escapeLine(head, maxFallback/2) + " — " + escapeLine(correlation.Plural(d.Count+d.Suppressed, noun)+" in "+d.Breakdown.Span(), 200),
		Blocks:      &slackapi.Blocks{BlockSet: blocks},
		UnfurlLinks: &off,
		UnfurlMedia: &off,
	}
}
