package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/detections"
	"github.com/activity-aware/ids/eventbus"
	"github.com/activity-aware/ids/monitoring/heartbeat"
)

const redriveUsage = `Usage: aaids redrive QUEUE_URL [--to function|bus] [--bus NAME] [--function NAME] [--dry-run] [--max N]

Moves what a last-stop queue parked back into the pipeline. It reads both
formats the stack's queues hold:

  Lambda on-failure records   {"requestContext":…,"requestPayload":…}, written
                              when a function failed every asynchronous retry;
                              the original event is the request payload
  EventBridge dead letters    the event itself, with RULE_ARN, TARGET_ARN,
                              ERROR_CODE and ERROR_MESSAGE message attributes,
                              written when a rule could not invoke its target

--to function (default) invokes, synchronously, the function the record names
(the record's function ARN, or the dead letter's TARGET_ARN; --function
overrides) with the original event, so only the destination that failed sees it
again. --to bus publishes the activities again on the bus named by --bus (every
destination's rule sees them); a parked source batch goes through the
CloudTrail source's code first.

Each message is deleted only after its re-delivery succeeded; one that fails
stays in the queue (visible again after the visibility timeout) and is
reported. --dry-run shows what each message is and changes nothing.

AWS credentials, region and endpoints come from the usual SDK configuration
(AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL_SQS, …). Exit status: 0 when every
message read was redriven (or shown), 1 when some could not be, 2 for usage
errors.

Options:
`

// redriveStats is the summary redrive prints on stderr.
type redriveStats struct{ read, redriven, failed int }

func (s redriveStats) String() string {
	return fmt.Sprintf("read %d, redriven %d, failed %d", s.read, s.redriven, s.failed)
}

// Message attributes an EventBridge rule sets on a dead letter.
const (
	attrRuleARN      = "RULE_ARN"
	attrTargetARN    = "TARGET_ARN"
	attrErrorCode    = "ERROR_CODE"
	attrErrorMessage = "ERROR_MESSAGE"
)

// Kinds of parked message.
const (
	kindOnFailure  = "lambda-on-failure"
	kindDeadLetter = "eventbridge-dead-letter"
)

// parked is one message of a last-stop queue, understood.
type parked struct {
	kind string
	// payload is the original event: what the function was invoked with, or
	// the event the rule could not deliver.
	payload json.RawMessage
	// function is the function that failed or that the rule targets.
	function string
	// reason says why it was parked (attacker text may be in it: print
	// with %q only).
	reason string
}

// onFailureRecord is the document Lambda sends to an on-failure destination.
type onFailureRecord struct {
	RequestContext *struct {
		FunctionARN            string `json:"functionArn"`
		Condition              string `json:"condition"`
		ApproximateInvokeCount int    `json:"approximateInvokeCount"`
	} `json:"requestContext"`
	RequestPayload  json.RawMessage `json:"requestPayload"`
	ResponseContext *struct {
		FunctionError string `json:"functionError"`
	} `json:"responseContext"`
	ResponsePayload json.RawMessage `json:"responsePayload"`
}

// errNotParked reports a message in neither format.
var errNotParked = errors.New("neither a Lambda on-failure record nor an EventBridge dead letter")

// parseParked reads a queue message in either format.
func parseParked(m sqstypes.Message) (*parked, error) {
	body := []byte(aws.ToString(m.Body))
	attr := func(name string) string {
		if v, ok := m.MessageAttributes[name]; ok {
			return aws.ToString(v.StringValue)
		}
		return ""
	}
	var rec onFailureRecord
	if err := json.Unmarshal(body, &rec); err == nil && rec.RequestContext != nil && len(rec.RequestPayload) > 0 {
		reason := rec.RequestContext.Condition
		if rec.RequestContext.ApproximateInvokeCount > 0 {
			reason += " after " + strconv.Itoa(rec.RequestContext.ApproximateInvokeCount) + " invocations"
		}
		var resp struct {
			ErrorMessage string `json:"errorMessage"`
		}
		if json.Unmarshal(rec.ResponsePayload, &resp) == nil && resp.ErrorMessage != "" {
			reason += ": " + resp.ErrorMessage
		}
		return &parked{kind: kindOnFailure, payload: rec.RequestPayload, function: rec.RequestContext.FunctionARN, reason: reason}, nil
	}
	if attr(attrRuleARN) != "" || attr(attrErrorCode) != "" {
		var ev events.EventBridgeEvent
		if err := json.Unmarshal(body, &ev); err != nil || ev.DetailType == "" {
			return nil, fmt.Errorf("dead letter whose body is not an EventBridge event")
		}
		reason := attr(attrErrorCode)
		if msg := attr(attrErrorMessage); msg != "" {
			reason += ": " + msg
		}
		return &parked{kind: kindDeadLetter, payload: body, function: attr(attrTargetARN), reason: reason}, nil
	}
	return nil, errNotParked
}

// describe says what the parked payload is, attacker text quoted.
func (p *parked) describe() string {
	if req, ok := heartbeat.ParseRequest(p.payload); ok {
		return fmt.Sprintf("heartbeat %q", req.ExecutionID)
	}
	var ev events.EventBridgeEvent
	if json.Unmarshal(p.payload, &ev) == nil && ev.DetailType != "" {
		if a, err := eventbus.Decode(ev); err == nil {
			return fmt.Sprintf("activity %q from %q: %q", activity.Truncate(a.ID, 80), a.Source, activity.Truncate(a.Subject, 120))
		}
		return fmt.Sprintf("event %q (%q, %q)", ev.ID, activity.Truncate(ev.Source, 80), activity.Truncate(ev.DetailType, 80))
	}
	var logs events.CloudwatchLogsEvent
	if json.Unmarshal(p.payload, &logs) == nil && logs.AWSLogs.Data != "" {
		if d, err := logs.AWSLogs.Parse(); err == nil {
			return fmt.Sprintf("CloudWatch Logs batch of %d log events from %q", len(d.LogEvents), activity.Truncate(d.LogGroup, 120))
		}
		return "CloudWatch Logs batch (undecodable)"
	}
	return fmt.Sprintf("payload of %d bytes", len(p.payload))
}

// redriver re-delivers parked messages.
type redriver struct {
	queue    string
	sqs      *sqs.Client
	lambda   *lambda.Client
	pub      *eventbus.Publisher
	pipe     *pipeline
	to       string
	function string
	dryRun   bool
	max      int
	// visibility hides a message while it is redriven, in seconds.
	visibility  int32
	out, errOut io.Writer
	stats       redriveStats
}

func runRedrive(ctx context.Context, args []string, stdio Stdio) int {
	fs := flag.NewFlagSet("redrive", flag.ContinueOnError)
	fs.SetOutput(stdio.Err)
	to := fs.String("to", "function", "re-deliver to the `target`: function (the one that failed) or bus")
	bus := fs.String("bus", "", "the activity bus `name` or ARN (with --to bus)")
	function := fs.String("function", "", "invoke this function `name` or ARN instead of the one each message names (with --to function)")
	dryRun := fs.Bool("dry-run", false, "show what each message is; change nothing")
	max := fs.Int("max", 0, "handle at most `N` messages (0: until the queue is empty)")
	visibility := fs.Int("visibility-timeout", 300, "hide each message for this many `seconds` while it is redriven")
	presets := fs.String("detections", detections.DefaultID, "detection preset `ids` a parked source batch is labelled with (--to bus), as the deployed source's DETECTIONS")
	fs.Usage = func() {
		fmt.Fprint(stdio.Err, redriveUsage)
		fs.PrintDefaults()
	}
	// The queue URL comes first, as the usage line shows; flags may follow.
	var queue string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		queue, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if queue == "" && fs.NArg() > 0 {
		queue = fs.Arg(0)
	}
	usageErr := func(format string, a ...any) int {
		fmt.Fprintf(stdio.Err, "aaids redrive: "+format+"\n", a...)
		return exitUsage
	}
	switch {
	case queue == "":
		fs.Usage()
		return usageErr("no QUEUE_URL given")
	case *to != "function" && *to != "bus":
		return usageErr("unknown --to %q (want function or bus)", *to)
	case *to == "bus" && *bus == "" && !*dryRun:
		return usageErr("--to bus needs --bus NAME")
	case *max < 0:
		return usageErr("--max must not be negative")
	case *visibility < 1 || *visibility > 43200:
		return usageErr("--visibility-timeout must be between 1 and 43200 seconds")
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		fmt.Fprintf(stdio.Err, "aaids redrive: load AWS config: %v\n", err)
		return exitInput
	}
	r := &redriver{
		queue: queue, sqs: sqs.NewFromConfig(cfg), to: *to, function: *function,
		dryRun: *dryRun, max: *max, visibility: int32(*visibility), out: stdio.Out, errOut: stdio.Err,
	}
	if *to == "function" {
		r.lambda = lambda.NewFromConfig(cfg)
	} else if !*dryRun {
		if r.pub, err = eventbus.NewPublisher(eventbus.NewClient(cfg), eventbus.Config{BusName: *bus, Logger: slog.New(slog.NewTextHandler(stdio.Err, &slog.HandlerOptions{Level: slog.LevelWarn}))}); err != nil {
			return usageErr("%v", err)
		}
		if r.pipe, err = newPipeline(*presets, ""); err != nil {
			return usageErr("%v", err)
		}
	}
	err = r.run(ctx)
	fmt.Fprintf(stdio.Err, "aaids redrive: %s\n", r.stats)
	if err != nil {
		fmt.Fprintf(stdio.Err, "aaids redrive: %v\n", err)
		return exitInput
	}
	if r.stats.failed > 0 {
		return exitInput
	}
	return exitOK
}

// run receives until the queue answers empty or max messages were handled.
// In a dry run every message is made visible again at the end.
func (r *redriver) run(ctx context.Context) error {
	var shown []*string
	// A message seen again within one run (its visibility timeout passed
	// while the run went on) is not handled twice.
	seen := map[string]bool{}
	defer func() {
		for _, h := range shown {
			_, _ = r.sqs.ChangeMessageVisibility(context.WithoutCancel(ctx), &sqs.ChangeMessageVisibilityInput{QueueUrl: &r.queue, ReceiptHandle: h, VisibilityTimeout: 0})
		}
	}()
	for r.max == 0 || r.stats.read < r.max {
		n := int32(10)
		if r.max > 0 {
			n = int32(min(10, r.max-r.stats.read))
		}
		out, err := r.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl: &r.queue, MaxNumberOfMessages: n, VisibilityTimeout: r.visibility,
			// Long polling asks every SQS server, so an empty answer
			// means an empty queue.
			WaitTimeSeconds:             2,
			MessageAttributeNames:       []string{"All"},
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameApproximateReceiveCount},
		})
		if err != nil {
			return fmt.Errorf("receive from %s: %w", r.queue, err)
		}
		fresh := 0
		for _, m := range out.Messages {
			if seen[aws.ToString(m.MessageId)] {
				continue
			}
			seen[aws.ToString(m.MessageId)] = true
			fresh++
			r.stats.read++
			if r.dryRun {
				shown = append(shown, m.ReceiptHandle)
			}
			r.handle(ctx, m)
		}
		if fresh == 0 {
			return nil
		}
	}
	return nil
}

// handle redrives (or shows) one message and deletes it once re-delivered.
func (r *redriver) handle(ctx context.Context, m sqstypes.Message) {
	id := aws.ToString(m.MessageId)
	p, err := parseParked(m)
	if err != nil {
		r.stats.failed++
		fmt.Fprintf(r.out, "skipped  %s  %v\n", id, err)
		return
	}
	if r.dryRun {
		fmt.Fprintf(r.out, "parked   %s  %s  %s  function %q  reason %q\n", id, p.kind, p.describe(), p.function, activity.Truncate(p.reason, 300))
		return
	}
	var target string
	if r.to == "function" {
		target, err = r.invoke(ctx, p)
	} else {
		target, err = r.publish(ctx, p)
	}
	if err != nil {
		r.stats.failed++
		fmt.Fprintf(r.out, "failed   %s  %s  %s  kept in the queue: %q\n", id, p.kind, p.describe(), activity.Truncate(err.Error(), 300))
		return
	}
	if _, err := r.sqs.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &r.queue, ReceiptHandle: m.ReceiptHandle}); err != nil {
		// Re-delivered but still parked: a later redrive delivers it again.
		r.stats.failed++
		fmt.Fprintf(r.out, "undeleted %s  %s  re-delivered to %s but not deleted: %q\n", id, p.describe(), target, err.Error())
		return
	}
	r.stats.redriven++
	fmt.Fprintf(r.out, "redriven %s  %s  %s  → %s\n", id, p.kind, p.describe(), target)
}

// invoke re-invokes the function synchronously with the original event.
func (r *redriver) invoke(ctx context.Context, p *parked) (string, error) {
	fn := r.function
	if fn == "" {
		fn = p.function
	}
	if fn == "" {
		return "", errors.New("the message names no function; pass --function")
	}
	out, err := r.lambda.Invoke(ctx, &lambda.InvokeInput{FunctionName: &fn, Payload: p.payload})
	if err != nil {
		return "", fmt.Errorf("invoke %s: %w", fn, err)
	}
	if out.FunctionError != nil {
		var fe struct {
			ErrorMessage string `json:"errorMessage"`
		}
		_ = json.Unmarshal(out.Payload, &fe)
		return "", fmt.Errorf("invoke %s: function error (%s): %s", fn, aws.ToString(out.FunctionError), fe.ErrorMessage)
	}
	return "function " + strconv.Quote(fn), nil
}

// publish puts the activities of the parked payload on the bus again.
func (r *redriver) publish(ctx context.Context, p *parked) (string, error) {
	var acts []*activity.Activity
	var ev events.EventBridgeEvent
	switch req, isHeartbeat := heartbeat.ParseRequest(p.payload); {
	case isHeartbeat:
		acts = []*activity.Activity{heartbeat.Activity(req, r.pipe.now)}
	case json.Unmarshal(p.payload, &ev) == nil && ev.DetailType != "":
		a, err := eventbus.Decode(ev)
		if err != nil {
			return "", err
		}
		acts = []*activity.Activity{a}
	default:
		var err error
		if acts, err = r.pipe.source.FromPayload(p.payload, nil); err != nil {
			return "", err
		}
	}
	if err := r.pub.Publish(ctx, acts); err != nil {
		return "", err
	}
	return fmt.Sprintf("the bus (%d activities)", len(acts)), nil
}
