package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/aws/aws-lambda-go/events"
	slackapi "github.com/slack-go/slack"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/cmd/aaids/internal/logfile"
	"github.com/activity-aware/ids/correlation"
	"github.com/activity-aware/ids/destinations/dispatch"
	"github.com/activity-aware/ids/destinations/slack"
	"github.com/activity-aware/ids/detections"
	"github.com/activity-aware/ids/eventbus"
	"github.com/activity-aware/ids/sources/cloudtrail"
)

const replayUsage = `Usage: aaids replay [--format text|json|slack|teams|pagerduty|webhook|email] [--post URL|app] [--aggregate=false] [--accounts LIST] PATH...

Replays CloudTrail data and AWS service events through the same code the
deployed system runs: the CloudTrail source standardizes every record into an
activity, the event sources every EventBridge event (GuardDuty, Security Hub and IAM Access Analyzer
findings), the
correlation derives bursts of denials (and threshold detections) from them,
and the Slack destination applies its notification policy and renders what it
would post (and, with --post, delivers it).

The policy is the deployed one, with an in-memory store and windows in event
time, so a replay is deterministic and every window closes at the end of the
input: the first activity of a group (principal and detection) is posted, the
rest of its window folded into one digest; an activity id is posted once.
--aggregate=false posts one message per activity instead.

PATH is a file or a directory (read recursively); files may be gzip-compressed
and hold CloudWatch Logs subscription events ({"awslogs":{"data":...}}),
CloudTrail log files ({"Records":[...]}), single CloudTrail records,
EventBridge events as a rule delivers them ({"detail-type":...,"detail":...}),
or one such JSON document per line. Batches and runs of records are
standardized ahead on up to four of the machine's cores (GOMAXPROCS limits
them); output, errors and counts come in the order of the input all the same.

Activity events as the destination receives them from the bus (EventBridge
events with "detail-type": "Activity", single or one per line) are verified
as the destination verifies them: the publishing account must be one of
--accounts (12-digit ids, or "organization" for any account of the bus's
organization, publishing about itself), and the source must start with
"activity-aware-ids.". A refused event is an error: its reason goes to stderr
and the exit status is 1.

Output (stdout), one item per activity:
  text   a readable preview of the Slack message (default)
  json   every EventBridge entry the source would publish (derived bursts
         included), one per line
  slack    every webhook payload the destination would post (digests
           included), one per line
  webhook  every signed webhook's body (Standard Webhooks), one per line;
           --post signs with $WEBHOOK_SIGNING_SECRET
  teams    every Workflows webhook message (an Adaptive Card), one per line
  pagerduty  every Events API v2 trigger event (without its routing key),
           one per line; --post sends with $PAGERDUTY_ROUTING_KEY
  email    every e-mail as {"subject":…,"text":…}, one per line; --post
           takes an SNS topic ARN and publishes with the AWS SDK's default
           configuration
  The destinations other than Slack get what their rules pass by default
  (pagerduty: high and critical): the notification policy and digests are
  Slack's.

--post accepts Slack's webhook hosts only; a webhook on a loopback host (a
local Slack endpoint) needs SLACK_ALLOW_LOOPBACK_WEBHOOK=true. --post app
posts as a Slack app, from $SLACK_APP_SECRET ({"botToken":"xoxb-…","channel":
"C…"}, as the deployed secret holds it): a group's repeats become replies in
the thread of its first message, whose count line is kept, and the digest
goes into the thread.

A summary goes to stderr. Exit status: 0 when all input was processed, 1 when
some input could not be read or decoded or a post failed (the rest is still
processed), 2 for usage errors.

Options:
`

// replayStats is the summary replay prints on stderr.
type replayStats struct {
	files, records, activities, unrecognized, errors, posted int
	// What the notification policy did: derived activities, messages
	// (activities and digests), digests, folded, suppressed and duplicate
	// activities.
	derived, messages, digests, folded, suppressed, duplicates int
	// replies are the activities posted in their group's thread (--post
	// app), among messages.
	replies int
}

func (s replayStats) String() string {
	return fmt.Sprintf("files %d, records %d, activities %d, unrecognized %d, errors %d, posted %d; "+
		"derived %d, messages %d, digests %d, folded %d, suppressed %d, duplicates %d, replies %d",
		s.files, s.records, s.activities, s.unrecognized, s.errors, s.posted,
		s.derived, s.messages, s.digests, s.folded, s.suppressed, s.duplicates, s.replies)
}

func runReplay(ctx context.Context, args []string, stdio Stdio) int {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	fs.SetOutput(stdio.Err)
	format := fs.String("format", "text", "output `format`: text, json, slack, teams, pagerduty, webhook or email")
	post := fs.String("post", "", "deliver every message to this `URL` through the format's destination client (Slack: an incoming webhook, default $SLACK_WEBHOOK_URL)")
	maxBytes := fs.Int("max-entry-bytes", activity.DefaultMaxEntrySize, "EventBridge entry size limit, in `bytes`")
	presets := fs.String("detections", detections.DefaultID, "comma-separated detection preset `ids` or packs (cis, threats, self-protection, all) to evaluate, as the deployed source's DETECTIONS (see 'aaids detections list')")
	pattern := fs.String("filter-pattern", "", "select log events with this CloudWatch Logs filter `pattern`, as the deployed subscription filter does (default: every event)")
	policy := addPolicyFlags(fs)
	accounts := fs.String("accounts", "", "trusted producer accounts for activity events, as the destination's PRODUCER_ACCOUNTS: comma-separated account ids and/or \"organization\" (`LIST`; default: none, every event is refused)")
	fs.Usage = func() {
		fmt.Fprint(stdio.Err, replayUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	newFormat, other := destinationFormats[*format]
	if !other && !slices.Contains([]string{"text", "json", "slack"}, *format) {
		fmt.Fprintf(stdio.Err, "aaids replay: unknown --format %q (want text, json, slack, teams, pagerduty, webhook or email)\n", *format)
		return exitUsage
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stdio.Err, "aaids replay: no PATH given")
		fs.Usage()
		return exitUsage
	}
	getenv := stdio.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	var dest destinationFormat
	if other {
		var err error
		if dest, err = newFormat(*post, getenv); err != nil {
			fmt.Fprintf(stdio.Err, "aaids replay: %v\n", err)
			return exitUsage
		}
	}
	var slackOut slack.Deliverer
	if !other {
		var err error
		if slackOut, err = slackPoster(*post, getenv); err != nil {
			fmt.Fprintf(stdio.Err, "aaids replay: --post: %v\n", err)
			return exitUsage
		}
	}

	trust, err := eventbus.ParseTrust(*accounts)
	if err != nil {
		fmt.Fprintf(stdio.Err, "aaids replay: --accounts: %v\n", err)
		return exitUsage
	}
	pipe, err := newPipeline(*presets, *pattern)
	if err != nil {
		fmt.Fprintf(stdio.Err, "aaids replay: %v\n", err)
		return exitUsage
	}
	// Each item's activities are printed, posted and correlated (the store
	// keeps copies) before its memory builds another batch, as the function
	// builds them.
	pipe.reuse = true
	presetList, _ := detections.ParseList(*presets) // newPipeline checked it
	corr, err := newCorrelator(policy, presetList)
	if err != nil {
		fmt.Fprintf(stdio.Err, "aaids replay: %v\n", err)
		return exitUsage
	}
	r := &replayer{
		corr:     corr,
		ctx:      ctx,
		format:   *format,
		maxBytes: *maxBytes,
		out:      stdio.Out,
		errOut:   stdio.Err,
		slack:    slackOut,
		log:      slog.New(slog.DiscardHandler),
		dest:     dest,
		posting:  *post != "",
		trust:    trust,
	}
	r.enc = json.NewEncoder(&r.pending)
	r.enc.SetEscapeHTML(false)
	st := pipe.run(ctx, fs.Args(), "aaids replay", stdio.Err, func(it logfile.Item, acts []*activity.Activity, bus *events.EventBridgeEvent) {
		if bus != nil {
			r.emitEvent(it, *bus)
			return
		}
		all, err := corr.derive(ctx, acts)
		if err != nil {
			r.fail(fmt.Errorf("%s: correlate: %w", where(it), err))
		}
		r.stats.derived += len(all) - len(acts)
		for _, a := range all {
			r.emit(it, a)
		}
	})
	r.digests(true)
	r.flush(0)
	r.stats.files, r.stats.records = st.files, st.records
	r.stats.errors += st.errors
	fmt.Fprintf(stdio.Err, "aaids replay: %s\n", r.stats)
	if r.stats.errors > 0 {
		return exitInput
	}
	return exitOK
}

// replayer standardizes, renders and delivers what logfile reads.
type replayer struct {
	ctx      context.Context
	corr     *correlator
	format   string
	maxBytes int
	// out is stdout, written through pending.
	out    io.Writer
	errOut io.Writer
	// slack posts Slack's messages (--post); nil when not posting.
	slack slack.Deliverer
	log   *slog.Logger
	trust eventbus.Trust
	stats replayStats
	// pending is the output not yet written to out: items are encoded in
	// place (enc, AppendJSON) and written out 64 KB at a time. detail holds
	// the Detail of the entry being printed.
	pending     appendBuffer
	detail      []byte
	enc         *json.Encoder
	writeFailed bool
	// dest is the destination other than Slack that --format names.
	dest    destinationFormat
	posting bool
}

// emitEvent verifies an activity event as the destination does and emits
// its activity; a refused event is an error that says why.
func (r *replayer) emitEvent(it logfile.Item, ev events.EventBridgeEvent) {
	a, err := eventbus.DecodeVerified(ev, r.trust)
	if err != nil {
		hint := ""
		if r.trust.IsZero() && errors.Is(err, eventbus.ErrUnverified) {
			hint = " (no trusted producer accounts: see --accounts)"
		}
		r.fail(fmt.Errorf("%s: event %s refused: %w%s", where(it), activity.Truncate(ev.ID, 80), err, hint))
		return
	}
	r.emit(it, a)
}

func (r *replayer) fail(err error) {
	r.stats.errors++
	fmt.Fprintf(r.errOut, "aaids replay: %v\n", err)
}

func (r *replayer) emit(it logfile.Item, a *activity.Activity) {
	r.stats.activities++
	if slices.Contains(a.Tags, cloudtrail.TagUnrecognized) {
		r.stats.unrecognized++
	}
	if r.format == "json" {
		e, err := activity.AppendEntry(r.detail[:0], a, r.maxBytes)
		if err == nil {
			r.detail = e.Detail
			r.pending, err = e.AppendJSON(r.pending)
		}
		if err != nil {
			r.fail(fmt.Errorf("%s: activity %s: %w", where(it), a.ID, err))
			return
		}
		r.endLine()
		if r.slack == nil {
			return
		}
	}
	what := fmt.Sprintf("%s: post activity %s", where(it), a.ID)
	n := r.corr.notifier
	if r.dest != nil {
		// What the destination's rule does not pass never reaches its
		// notification policy.
		if a.Severity.Rank() < r.dest.minSeverity().Rank() {
			return
		}
		if n == nil {
			r.deliverOther(a, what)
			return
		}
	}
	if n == nil {
		r.deliver(slack.Render(a), what, func() error { _, err := r.slack.Deliver(r.ctx, a, r.log); return err })
		return
	}
	r.corr.advance(a.Time)
	r.digests(false)
	d, err := n.Decide(r.ctx, a, r.corr.clock)
	if err != nil {
		r.fail(fmt.Errorf("%s: activity %s: %w", where(it), a.ID, err))
		return
	}
	switch {
	case d.Action == correlation.Post && r.dest != nil:
		// The destinations besides Slack do not thread: their repeats fold.
		r.deliverOther(a, what)
		if err := n.Posted(r.ctx, d, r.corr.clock); err != nil {
			r.fail(err)
		}
		return
	}
	switch d.Action {
	case correlation.Post:
		var res dispatch.Result
		r.deliver(slack.Render(a), what, func() (err error) { res, err = r.slack.Deliver(r.ctx, a, r.log); return err })
		// A Slack app's post is the parent of its group's thread.
		d.Thread = res.Thread
		if err := n.Posted(r.ctx, d, r.corr.clock); err != nil {
			r.fail(err)
		}
	case correlation.Reply:
		r.stats.replies++
		r.deliver(slack.Render(a), what, func() error { _, err := r.slack.DeliverReply(r.ctx, a, d.Thread, r.log); return err })
		th, err := n.Replied(r.ctx, d, r.corr.clock)
		if err != nil {
			r.fail(err)
		} else if err := r.slack.UpdateThread(r.ctx, th, r.log); err != nil {
			r.fail(fmt.Errorf("%s: update the thread's count: %w", what, err))
		}
	case correlation.Fold:
		r.stats.folded++
	case correlation.Suppress:
		r.stats.suppressed++
	case correlation.Duplicate:
		r.stats.duplicates++
	}
}

// digests delivers the digests of the windows the clock (or, at the end of
// the input, the end) closed.
func (r *replayer) digests(end bool) {
	ds, err := r.corr.due(r.ctx, end)
	if err != nil {
		r.fail(err)
	}
	for i := range ds {
		r.stats.digests++
		dg := &ds[i]
		if r.dest != nil {
			r.deliverOtherDigest(dg)
			continue
		}
		r.deliver(slack.RenderDigest(dg), "post digest of "+dg.FirstID, func() error { _, err := r.slack.DeliverDigest(r.ctx, dg, r.log); return err })
	}
}

// deliver prints the message in the output format (json prints entries
// instead) and, when --post is set, posts it with post.
func (r *replayer) deliver(msg *slackapi.WebhookMessage, what string, post func() error) {
	r.stats.messages++
	switch r.format {
	case "json":
	case "slack":
		r.writeJSON(msg)
	default:
		r.pending = append(r.pending, slack.Preview(msg)...)
		r.endLine()
	}
	if r.slack != nil {
		if err := post(); err != nil {
			r.fail(fmt.Errorf("%s: %w", what, err))
			return
		}
		r.stats.posted++
	}
}

// envSlackAppSecret holds the Slack app's secret for --post app.
const envSlackAppSecret = "SLACK_APP_SECRET"

// slackPoster is what --post delivers Slack's messages with, as the deployed
// function does: the incoming webhook --post (or $SLACK_WEBHOOK_URL) names;
// for --post app, the Slack app in $SLACK_APP_SECRET, threading a group's
// repeats; nil when neither is given. A loopback webhook (or, with
// $SLACK_API_URL, Web API) is for local testing and needs
// SLACK_ALLOW_LOOPBACK_WEBHOOK=true, as the function's setting does.
func slackPoster(post string, getenv func(string) string) (slack.Deliverer, error) {
	value := post
	if value == "" {
		value = getenv("SLACK_WEBHOOK_URL")
	}
	if value == "" {
		return nil, nil
	}
	loopback := getenv(slack.EnvAllowLoopbackWebhook) == "true"
	var opts []slack.Option
	if loopback {
		opts = append(opts, slack.WithLoopback())
	}
	if value == "app" {
		value = getenv(envSlackAppSecret)
		t, err := slack.TargetFromSecret(value, loopback)
		if err == nil && t.App == nil {
			err = errors.New(`it holds a webhook URL, not {"botToken":"xoxb-…","channel":"C…"}`)
		}
		if err != nil {
			return nil, fmt.Errorf("app: $%s: %w", envSlackAppSecret, err)
		}
		if u := getenv(slack.EnvAPIURL); u != "" {
			opts = append(opts, slack.WithAPIURL(u))
		}
	} else if err := slack.ValidateWebhookURL(value, loopback); err != nil {
		return nil, err
	}
	client := slack.NewClient(&http.Client{Timeout: 10 * time.Second}, opts...)
	if _, err := client.APIURL(); err != nil {
		return nil, err
	}
	h := &slack.Handler{Secret: fixedSecret(value), Client: client, Threads: true}
	return h.Deliverer(), nil
}

// fixedSecret is a secret value given once (slack.Secret).
type fixedSecret string

func (s fixedSecret) Value(context.Context) (string, error) { return string(s), nil }

// deliverOther prints the request body a destination other than Slack would
// send for a, and sends it with --post.
func (r *replayer) deliverOther(a *activity.Activity, what string) {
	b, err := r.dest.body(a)
	r.sendOther(b, err, what, func() error { return r.dest.post(r.ctx, a) })
}

// deliverOtherDigest prints and sends (with --post) the digest closing a
// group's window in the destination's format; a digest the destination
// does not send (PagerDuty's of a suppression) is counted, not printed.
func (r *replayer) deliverOtherDigest(d *correlation.Digest) {
	b, err := r.dest.digestBody(d)
	if err == nil && b == nil {
		return
	}
	r.sendOther(b, err, "post digest of "+d.FirstID, func() error { return r.dest.postDigest(r.ctx, d) })
}

func (r *replayer) sendOther(body []byte, err error, what string, post func() error) {
	if err != nil {
		r.fail(fmt.Errorf("%s: %w", what, err))
		return
	}
	r.stats.messages++
	r.pending = append(r.pending, body...)
	r.endLine()
	if !r.posting {
		return
	}
	if err := post(); err != nil {
		r.fail(fmt.Errorf("%s: %w", what, err))
		return
	}
	r.stats.posted++
}

func (r *replayer) writeJSON(v any) {
	if err := r.enc.Encode(v); err != nil { // a line, written only whole
		r.fail(fmt.Errorf("encode output: %w", err))
		return
	}
	r.flush(outputChunk)
}

// outputChunk is how much output replay buffers before it writes it out.
const outputChunk = 64 << 10

// endLine ends the item appended to pending with a newline.
func (r *replayer) endLine() {
	r.pending = append(r.pending, '\n')
	r.flush(outputChunk)
}

// flush writes the pending output out once it holds at least n bytes; a
// failed write (a closed pipe) counts as an error once, and the output that
// follows it is dropped.
func (r *replayer) flush(n int) {
	if len(r.pending) < n || len(r.pending) == 0 {
		return
	}
	if !r.writeFailed {
		if _, err := r.out.Write(r.pending); err != nil {
			r.writeFailed = true
			r.fail(fmt.Errorf("write output: %w", err))
		}
	}
	r.pending = r.pending[:0]
}

// appendBuffer is a byte slice that json.Encoder appends to.
type appendBuffer []byte

func (b *appendBuffer) Write(p []byte) (int, error) {
	*b = append(*b, p...)
	return len(p), nil
}

func where(it logfile.Item) string {
	if it.Line > 0 {
		return fmt.Sprintf("%s:%d", it.Path, it.Line)
	}
	return it.Path
}
