package slack

import (
	"fmt"
	"strings"
	"time"

	slackapi "github.com/slack-go/slack"

	"github.com/activity-aware/ids/correlation"
)

// RenderDigest turns a group's digest into the webhook message that closes
// its window (in the window's thread when d.Thread is set): the group's total for the window and its breakdown, e.g.
// "IAMUser ci-deployer: 400 denied calls in 3 min: iam 90, s3 50, …; from
// 198.51.100.23", and a link to what was posted first. Every value from the
// events is shown as Render shows it: escaped, and in code spans (or
// plain_text) so that it cannot format; the link only to an AWS console.
func RenderDigest(d *correlation.Digest) *slackapi.WebhookMessage {
	off := false
	noun := "activity"
	if d.Denied {
		noun = "denied call"
	}
	var head, summary string
	if d.BySuppression {
		head = "Suppressed: " + correlation.Plural(d.Suppressed, noun)
		summary = fmt.Sprintf("*%s suppressed* in %s (reason: %s)", correlation.Plural(d.Suppressed, noun),
			inlineCode(d.Breakdown.Span(), 20), orQuestion(inlineCode(d.Reason, 400)))
	} else {
		head = "Digest: " + d.Label
		summary = fmt.Sprintf("%s: %s in %s (%s)", orQuestion(inlineCode(d.Principal, 300)),
			inlineCode(correlation.Plural(d.Count, noun), 50), inlineCode(d.Breakdown.Span(), 20), postedCounts(d))
	}
	var parts []string
	if len(d.Services) > 0 {
		parts = append(parts, "by service: "+inlineCode(correlation.List(d.Services, 15), maxText/3))
	}
	if len(d.SourceIPs) > 0 {
		parts = append(parts, "from "+inlineCode(strings.Join(d.SourceIPs, ", "), maxText/3))
	}
	blocks := []slackapi.Block{
		slackapi.NewHeaderBlock(plain(escapeLine(head, maxHeader))),
		section(summary),
	}
	if len(parts) > 0 {
		blocks = append(blocks, section(strings.Join(parts, "; ")))
	}
	if len(d.Actions) > 0 {
		blocks = append(blocks, section("*Actions*: "+inlineCode(correlation.List(d.Actions, 40), maxText-20)))
	}
	if len(d.UserAgents) > 0 {
		blocks = append(blocks, section("*User agents*\n"+codeLines(strings.Join(d.UserAgents, "\n"), maxText-20)))
	}
	if d.FirstSubject != "" && !d.BySuppression {
		blocks = append(blocks, section("*First (posted at once)*: "+inlineCode(d.FirstSubject, 500)))
	}
	if consoleLink(d.FirstLink, linkPartition(d.FirstLink)) {
		blocks = append(blocks, slackapi.NewActionBlock("", slackapi.NewButtonBlockElement("link-0", "",
			plain("First activity in the console")).WithURL(d.FirstLink)))
	}
	ctx := []slackapi.MixedElement{
		plain("Window: " + escapeLine(d.Start.UTC().Format(time.RFC3339)+" to "+d.End.UTC().Format(time.RFC3339), 100)),
	}
	if d.FirstID != "" {
		ctx = append(ctx, plain("First event ID: "+escapeLine(d.FirstID, 200)))
	}
	if d.Severity != "" {
		ctx = append(ctx, plain("Severity: "+escapeLine(string(d.Severity), 20)))
	}
	blocks = append(blocks, slackapi.NewContextBlock("", ctx...))
	return &slackapi.WebhookMessage{
		Text:        escapeLine(head, maxFallback/2) + " — " + escapeLine(correlation.Plural(d.Count+d.Suppressed, noun)+" in "+d.Breakdown.Span(), 200),
		Blocks:      &slackapi.Blocks{BlockSet: blocks},
		UnfurlLinks: &off,
		UnfurlMedia: &off,
	}
}

// postedCounts says what became of a group's activities: "1 posted, 24
// folded", or for a digest in the group's thread (d.Thread) "1 posted, 24 in
// this thread" and the folded ones that never made it there.
func postedCounts(d *correlation.Digest) string {
	if d.Thread == nil {
		return fmt.Sprintf("1 posted, %d folded", d.Folded())
	}
	replies := min(max(d.Thread.Replies, 0), d.Folded())
	out := fmt.Sprintf("1 posted, %d in this thread", replies)
	if rest := d.Folded() - replies; rest > 0 {
		out += fmt.Sprintf(", %d folded", rest)
	}
	return out
}

// linkPartition is the partition whose console a link's host names, "aws"
// when none does; consoleLink then checks the link against it.
func linkPartition(raw string) string {
	for partition, hosts := range consoleHosts {
		for _, h := range hosts {
			if strings.Contains(strings.ToLower(raw), h) {
				return partition
			}
		}
	}
	return "aws"
}
