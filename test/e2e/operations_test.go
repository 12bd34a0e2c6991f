package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/activity-aware/ids/internal/emfparse"
	"github.com/activity-aware/ids/internal/lambdaemu"
	"github.com/activity-aware/ids/internal/locallambda"
	"github.com/activity-aware/ids/internal/localslack"
	"github.com/activity-aware/ids/internal/localsqs"
	"github.com/activity-aware/ids/monitoring/heartbeat"
	"github.com/activity-aware/ids/monitoring/metrics"
)

// alarm is one CloudWatch alarm of the synthesized template, its dimensions
// resolved to the local names: a function's logical id to the name its
// emulator runs under, a queue's to the local queue of that name.
type alarm struct {
	id, namespace, metric, op, missing string
	threshold                          float64
	dims                               map[string]string
}

// alarms reads every alarm of the template.
func alarms(t *testing.T) []alarm {
	t.Helper()
	names := map[string]string{dep.source.LogicalID: "CloudTrailSource", dep.dest.LogicalID: "SlackDestination"}
	var out []alarm
	for _, id := range dep.tpl.OfType("AWS::CloudWatch::Alarm") {
		var p struct {
			Namespace, MetricName, ComparisonOperator, TreatMissingData string
			Threshold                                                   float64
			Dimensions                                                  []struct {
				Name  string
				Value json.RawMessage
			}
		}
		if err := json.Unmarshal(dep.tpl.Resources[id].Properties, &p); err != nil {
			t.Fatal(err)
		}
		a := alarm{id: id, namespace: p.Namespace, metric: p.MetricName, op: p.ComparisonOperator, missing: p.TreatMissingData, threshold: p.Threshold, dims: map[string]string{}}
		for _, d := range p.Dimensions {
			var v struct {
				Ref    string
				GetAtt []string `json:"Fn::GetAtt"`
			}
			var s string
			switch {
			case json.Unmarshal(d.Value, &s) == nil:
			case json.Unmarshal(d.Value, &v) == nil && v.Ref != "":
				s = names[v.Ref]
			case len(v.GetAtt) == 2 && v.GetAtt[1] == "QueueName":
				s = v.GetAtt[0]
			}
			a.dims[d.Name] = s
		}
		out = append(out, a)
	}
	return out
}

// alarmOn is the one alarm on metric with dims.
func alarmOn(t *testing.T, namespace, metric string, dims map[string]string) alarm {
	t.Helper()
	var found []alarm
	for _, a := range alarms(t) {
		if a.namespace == namespace && a.metric == metric && fmt.Sprint(a.dims) == fmt.Sprint(dims) {
			found = append(found, a)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d alarms on %s/%s %v, want 1", len(found), namespace, metric, dims)
	}
	return found[0]
}

// fires evaluates the alarm on one period's value (or on no data) as
// CloudWatch does.
func (a alarm) fires(value float64, hasData bool) bool {
	if !hasData {
		return a.missing == "breaching"
	}
	switch a.op {
	case "GreaterThanOrEqualToThreshold":
		return value >= a.threshold
	case "GreaterThanThreshold":
		return value > a.threshold
	case "LessThanThreshold":
		return value < a.threshold
	case "LessThanOrEqualToThreshold":
		return value <= a.threshold
	}
	return false
}

// emitted sums a function's embedded metric over its log, as CloudWatch
// would; hasData is false when no line carried it.
func emitted(t *testing.T, f *lambdaemu.Function, name string, dims map[string]string) (sum float64, hasData bool) {
	t.Helper()
	if err := f.Settle(context.Background()); err != nil {
		t.Fatal(err)
	}
	data, err := emfparse.Lines(f.Logs())
	if err != nil {
		t.Fatalf("CloudWatch would drop a metric line: %v", err)
	}
	for _, d := range data {
		if d.Namespace == metrics.Namespace && d.Name == name && fmt.Sprint(d.Dimensions) == fmt.Sprint(dims) {
			hasData = true
		}
	}
	return emfparse.Sum(data, metrics.Namespace, name, dims), hasData
}

var (
	sourceDims = map[string]string{metrics.DimFunction: "CloudTrailSource", metrics.DimSource: "cloudtrail"}
	destDims   = map[string]string{metrics.DimDestination: "slack", metrics.DimFunction: "SlackDestination"}
)

// heartbeatRequest is the schedule's input with Scheduler's placeholders
// filled in, as Scheduler invokes the source.
func heartbeatRequest(t *testing.T, run string) []byte {
	t.Helper()
	id, err := dep.tpl.Only("AWS::Scheduler::Schedule")
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		Target struct {
			Arn   map[string][]string
			Input string
		}
	}
	if err := json.Unmarshal(dep.tpl.Resources[id].Properties, &p); err != nil {
		t.Fatal(err)
	}
	if got := p.Target.Arn["Fn::GetAtt"]; len(got) == 0 || got[0] != dep.source.LogicalID {
		t.Fatalf("the heartbeat schedule targets %v, not the source %s", got, dep.source.LogicalID)
	}
	in := strings.NewReplacer("<aws.scheduler.scheduled-time>", time.Now().UTC().Format(time.RFC3339),
		"<aws.scheduler.execution-id>", run).Replace(p.Target.Input)
	return []byte(in)
}

// onFailureQueue is the logical id of the queue the template sends fn's
// failed asynchronous invocations to, and how many attempts Lambda makes.
func onFailureQueue(t *testing.T, fn string) (queue string, attempts int) {
	t.Helper()
	for _, id := range dep.tpl.OfType("AWS::Lambda::EventInvokeConfig") {
		var p struct {
			FunctionName         map[string]string
			MaximumRetryAttempts int
			DestinationConfig    struct {
				OnFailure struct{ Destination map[string][]string }
			}
		}
		if err := json.Unmarshal(dep.tpl.Resources[id].Properties, &p); err != nil {
			t.Fatal(err)
		}
		if p.FunctionName["Ref"] == fn {
			return p.DestinationConfig.OnFailure.Destination["Fn::GetAtt"][0], 1 + p.MaximumRetryAttempts
		}
	}
	t.Fatalf("function %s has no on-failure destination", fn)
	return "", 0
}

// visible is the queue's ApproximateNumberOfMessages through the SDK, the
// figure behind CloudWatch's ApproximateNumberOfMessagesVisible.
func visible(t *testing.T, q *localsqs.Server, url string) float64 {
	t.Helper()
	out, err := sqs.NewFromConfig(q.AWSConfig()).GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{
		QueueUrl: &url, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages},
	})
	if err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.Atoi(out.Attributes["ApproximateNumberOfMessages"])
	return float64(n)
}

// parkFailed delivers each accepted entry to the destination as Lambda's
// asynchronous invocation does: every attempt the template allows, and, when
// all failed, the on-failure record in the queue. It returns the activity
// ids parked and the failed invocations (Lambda's Errors metric).
func parkFailed(t *testing.T, p *pipeline, q *localsqs.Server, url string, attempts int) (parked []string, errors int) {
	t.Helper()
	for _, e := range p.eb.Accepted()[p.delivered:] {
		p.delivered++
		ev, err := envelope(e)
		if err != nil {
			t.Fatal(err)
		}
		var last *lambdaemu.Result
		for range attempts {
			if last, err = p.dest.Invoke(context.Background(), ev); err != nil {
				t.Fatal(err)
			}
			if !last.Failed() {
				break
			}
			errors++
		}
		if !last.Failed() {
			continue
		}
		rec, err := lambdaemu.OnFailureRecord("arn:aws:lambda:"+localRegion+":"+localAccount+":function:SlackDestination", ev, last, attempts, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := q.Send(url, string(rec), nil); err != nil {
			t.Fatal(err)
		}
		parked = append(parked, detailID(e.Detail))
	}
	return parked, errors
}

// TestOperations shows, under the emulator, what fires each kind of alarm
// the template defines, the heartbeat travelling the real path, and aaids
// redrive moving parked activities back.
func TestOperations(t *testing.T) {
	t.Run("heartbeat canary reaches the destination through the bus", func(t *testing.T) {
		t.Parallel()
		p := newPipeline(t, options{})
		requireOK(t, "source", p.invokeSource(heartbeatRequest(t, "run-1"), 1))
		acts := p.published()
		if len(acts) != 1 || acts[0].Source != heartbeat.Source || acts[0].ID != "heartbeat-run-1" {
			t.Fatalf("published %+v, want the canary", acts)
		}
		invs := p.deliver(0)
		requireOK(t, "destination", invs...)
		if len(invs) != 1 {
			t.Fatalf("the rule handed %d canaries to the destination, want 1", len(invs))
		}
		p.tally()
		if n := p.slack.Requests(); n != 0 {
			t.Errorf("the canary made %d Slack posts, want none", n)
		}
		if sent, _ := emitted(t, p.source, metrics.HeartbeatsSent, sourceDims); sent != 1 {
			t.Errorf("HeartbeatsSent = %v, want 1", sent)
		}
		delivered, hasData := emitted(t, p.dest, metrics.CanaryDelivered, destDims)
		a := alarmOn(t, metrics.Namespace, metrics.CanaryDelivered, destDims)
		if delivered != 1 || a.fires(delivered, hasData) {
			t.Errorf("CanaryDelivered = %v: heartbeat alarm fires %v, want 1 and quiet", delivered, a.fires(delivered, hasData))
		}
		// A period in which no canary arrived has no data: it fires.
		if !a.fires(0, false) {
			t.Error("the heartbeat alarm stays quiet when no canary arrives")
		}
	})

	t.Run("a parked message and a function error fire their alarms", func(t *testing.T) {
		t.Parallel()
		p := newPipeline(t, options{})
		queueID, attempts := onFailureQueue(t, dep.dest.LogicalID)
		q := localsqs.New(queueID)
		t.Cleanup(q.Close)
		url := q.QueueURL(queueID)
		queueAlarm := alarmOn(t, "AWS/SQS", "ApproximateNumberOfMessagesVisible", map[string]string{"QueueName": queueID})
		if v := visible(t, q, url); queueAlarm.fires(v, true) {
			t.Fatalf("the queue alarm fires on an empty queue (%v)", v)
		}

		// The webhook is gone: every post is refused for good.
		p.slack.Fail(localslack.ChannelNotFound(), 100)
		requireOK(t, "source", p.invokeSource(sampleEvent(t, "original-sample.json"), 1))
		parked, errs := parkFailed(t, p, q, url, attempts)
		if len(parked) != 1 || errs != attempts {
			t.Fatalf("parked %v after %d failed invocations, want 1 after %d", parked, errs, attempts)
		}
		if v := visible(t, q, url); v != 1 || !queueAlarm.fires(v, true) {
			t.Errorf("queue holds %v visible; alarm fires %v, want 1 and firing", v, queueAlarm.fires(v, true))
		}
		// Lambda counts each failed invocation in Errors.
		errAlarm := alarmOn(t, "AWS/Lambda", "Errors", map[string]string{"FunctionName": "SlackDestination"})
		if !errAlarm.fires(float64(errs), true) || errAlarm.fires(0, true) {
			t.Errorf("Errors alarm on %d errors: fires %v", errs, errAlarm.fires(float64(errs), true))
		}
		// The first post after the cold start was refused: that alarm
		// fires on the first period, not after the retries.
		cold, hasData := emitted(t, p.dest, metrics.ColdStartPermanentErrors, destDims)
		coldAlarm := alarmOn(t, metrics.Namespace, metrics.ColdStartPermanentErrors, destDims)
		if cold != 1 || !coldAlarm.fires(cold, hasData) {
			t.Errorf("ColdStartPermanentErrors = %v: alarm fires %v, want 1 and firing", cold, coldAlarm.fires(cold, hasData))
		}
		if perm, _ := emitted(t, p.dest, metrics.PermanentErrors, destDims); perm != float64(attempts) {
			t.Errorf("PermanentErrors = %v, want %d", perm, attempts)
		}
	})

	t.Run("the source's publish failures fire their alarm", func(t *testing.T) {
		t.Parallel()
		p := newPipeline(t, options{})
		// The source lost its permission on the bus.
		p.eb.FailDetailContaining("AccessDeniedException", 100, "")
		if inv := p.invokeSource(sampleEvent(t, "original-sample.json"), 1); !inv.res.Failed() {
			t.Fatal("the source succeeded without putting its activity on the bus")
		}
		failures, hasData := emitted(t, p.source, metrics.PublishFailures, sourceDims)
		a := alarmOn(t, metrics.Namespace, metrics.PublishFailures, sourceDims)
		if failures != 1 || !a.fires(failures, hasData) {
			t.Errorf("PublishFailures = %v: alarm fires %v, want 1 and firing", failures, a.fires(failures, hasData))
		}
		srcErrors := alarmOn(t, "AWS/Lambda", "Errors", map[string]string{"FunctionName": "CloudTrailSource"})
		if !srcErrors.fires(1, true) {
			t.Error("the source's Errors alarm does not fire on a failed invocation")
		}
	})

	t.Run("aaids redrive moves parked activities back, none lost, none twice", func(t *testing.T) {
		t.Parallel()
		p := newPipeline(t, options{})
		queueID, attempts := onFailureQueue(t, dep.dest.LogicalID)
		q := localsqs.New(queueID, "dead-letters")
		t.Cleanup(q.Close)
		url := q.QueueURL(queueID)

		// Three activities fail every attempt and are parked by Lambda.
		records := repoDenials(t)[:4]
		p.slack.Fail(localslack.ChannelNotFound(), 3*attempts)
		requireOK(t, "source", p.invokeSource(subscription(records[:3]), 3))
		parked, _ := parkFailed(t, p, q, url, attempts)
		// A fourth never reached the function: EventBridge parked it in the
		// rule's dead-letter queue, with its error attributes.
		requireOK(t, "source", p.invokeSource(subscription(records[3:]), 1))
		e := p.eb.Accepted()[p.delivered]
		p.delivered++
		ev, err := envelope(e)
		if err != nil {
			t.Fatal(err)
		}
		dlq := q.QueueURL("dead-letters")
		if _, err := q.Send(dlq, string(ev), map[string]localsqs.Attribute{
			"RULE_ARN":      localsqs.StringAttribute("arn:aws:events:" + localRegion + ":" + localAccount + ":rule/" + localBusName + "/SlackRule"),
			"TARGET_ARN":    localsqs.StringAttribute("arn:aws:lambda:" + localRegion + ":" + localAccount + ":function:SlackDestination"),
			"ERROR_CODE":    localsqs.StringAttribute("SDK_CLIENT_ERROR"),
			"ERROR_MESSAGE": localsqs.StringAttribute("Lambda was throttled (reserved concurrency 0)"),
		}); err != nil {
			t.Fatal(err)
		}
		parked = append(parked, detailID(e.Detail))
		if len(parked) != 4 || len(p.slack.Messages()) != 0 {
			t.Fatalf("parked %v with %d posts, want 4 parked and none posted", parked, len(p.slack.Messages()))
		}

		lam := locallambda.New(map[string]locallambda.Function{"SlackDestination": p.dest})
		t.Cleanup(lam.Close)
		run := func(args ...string) (string, string) {
			t.Helper()
			cmd := exec.Command(dep.aaids, args...)
			cmd.Env = append(q.Env(), lam.Env()...)
			var out, errOut strings.Builder
			cmd.Stdout, cmd.Stderr = &out, &errOut
			if err := cmd.Run(); err != nil {
				t.Fatalf("aaids %s: %v\n%s\n%s", strings.Join(args, " "), err, out.String(), errOut.String())
			}
			return out.String(), errOut.String()
		}
		// A receive whose answer the SDK loses (seen locally under the
		// suite's parallel load: it warns of a response body it could not
		// discard and tries again) leaves its messages invisible for the
		// visibility timeout, as SQS would; a short one brings them back.
		waitVisible := func(queueURL string, n float64) {
			for i := 0; i < 30 && visible(t, q, queueURL) < n; i++ {
				time.Sleep(100 * time.Millisecond)
			}
		}
		var out string
		for i := 0; i < 3; i++ {
			waitVisible(url, 3)
			if out, _ = run("redrive", url, "--dry-run", "--visibility-timeout", "1"); strings.Count(out, "parked ") == 3 {
				break
			}
		}
		waitVisible(url, 3)
		if strings.Count(out, "parked ") != 3 || len(p.slack.Messages()) != 0 || visible(t, q, url) != 3 {
			t.Fatalf("dry run:\n%s\nposts %d, visible %v", out, len(p.slack.Messages()), visible(t, q, url))
		}
		// An operator runs redrive until the queue is empty (a lost
		// receive, above, can leave a message for a second run). What must
		// hold is the total: each parked message read and redriven once,
		// none failed.
		drain := func(queueURL string, args ...string) (read, redriven, failed int, summaries []string) {
			for i := 0; i < 3 && len(q.Messages(queueURL)) > 0; i++ {
				waitVisible(queueURL, 1)
				_, summary := run(append([]string{"redrive", queueURL, "--visibility-timeout", "1"}, args...)...)
				summaries = append(summaries, summary)
				at := strings.LastIndex(summary, "aaids redrive: read ")
				var r, d, f int
				if at < 0 {
					t.Fatalf("no summary in %q", summary)
				}
				if _, err := fmt.Sscanf(summary[at:], "aaids redrive: read %d, redriven %d, failed %d", &r, &d, &f); err != nil {
					t.Fatalf("summary %q: %v", summary, err)
				}
				read, redriven, failed = read+r, redriven+d, failed+f
			}
			return read, redriven, failed, summaries
		}
		if r, d, f, s := drain(url); r != 3 || d != 3 || f != 0 {
			t.Fatalf("on-failure queue: read %d, redriven %d, failed %d, want 3, 3, 0; summaries %q", r, d, f, s)
		}
		if r, d, f, s := drain(dlq, "--to", "function"); r != 1 || d != 1 || f != 0 {
			t.Fatalf("dead-letter queue: read %d, redriven %d, failed %d, want 1, 1, 0; summaries %q", r, d, f, s)
		}
		// Every parked activity posted exactly once; both queues empty.
		var posted []string
		for _, m := range p.slack.Messages() {
			for _, id := range parked {
				if strings.Contains(string(m.Raw), id) {
					posted = append(posted, id)
				}
			}
		}
		slices.Sort(posted)
		want := slices.Clone(parked)
		slices.Sort(want)
		if !slices.Equal(posted, want) || len(p.slack.Messages()) != len(parked) {
			t.Errorf("posted %v (%d messages), want each of %v once", posted, len(p.slack.Messages()), want)
		}
		if len(q.Messages(url)) != 0 || len(q.Messages(dlq)) != 0 || q.Deleted() != 4 {
			t.Errorf("left %d + %d parked, deleted %d; want 0, 0, 4", len(q.Messages(url)), len(q.Messages(dlq)), q.Deleted())
		}
		if lam.Invocations("SlackDestination") != 4 {
			t.Errorf("%d redrive invocations, want 4", lam.Invocations("SlackDestination"))
		}
	})
}
