package cdktest

import (
	"reflect"
	"strings"
	"testing"
)

// Paced are the logical ids of one destination's pacing parts and the
// detail patterns of its two rules.
type Paced struct {
	Function, Queue, PriorityQueue, DeadLetterQueue, FailureQueue string
	// Urgent and Rest are the detail patterns of the rules filling
	// PriorityQueue and Queue.
	Urgent, Rest any
	// Rules are the two rules' full event patterns, by target queue id.
	Rules map[string]any
}

// AssertPaced checks the destination whose construct id is prefix (at the
// stack's top level, so its resources' logical ids start with it): two rules on the bus
// busID put activities into two encrypted, TLS-only queues, with 20 retries
// within 6 hours and the dead-letter queue behind them (EventBridge may send
// to it); each queue moves a message to the failure queue after 10 receives
// and is drained by an event source mapping of at most 2 concurrent
// invocations, batches of 10, reporting batch item failures; the function
// keeps failed asynchronous invocations (the sweep's) in the failure queue.
func AssertPaced(t testing.TB, tpl map[string]any, prefix, busID string) Paced {
	t.Helper()
	p := Paced{Rules: map[string]any{}}
	mine := func(typ string) map[string]any {
		out := map[string]any{}
		for id, r := range Resources(tpl, typ) {
			if strings.HasPrefix(id, prefix) {
				out[id] = r
			}
		}
		return out
	}
	for id := range mine("AWS::Lambda::Function") {
		if p.Function != "" {
			t.Fatalf("two functions under %q", prefix)
		}
		p.Function = id
	}
	for id := range mine("AWS::SQS::Queue") {
		switch rest := strings.TrimPrefix(id, prefix); {
		case strings.HasPrefix(rest, "DeadLetterQueue"):
			p.DeadLetterQueue = id
		case strings.HasPrefix(rest, "FailureQueue"):
			p.FailureQueue = id
		case strings.HasPrefix(rest, "PriorityQueue"):
			p.PriorityQueue = id
		case strings.HasPrefix(rest, "Queue"):
			p.Queue = id
		}
	}
	if p.Function == "" || p.Queue == "" || p.PriorityQueue == "" || p.DeadLetterQueue == "" || p.FailureQueue == "" {
		t.Fatalf("destination %q: function %q, queues %q, %q, dead-letter %q, failure %q", prefix, p.Function, p.Queue, p.PriorityQueue, p.DeadLetterQueue, p.FailureQueue)
	}
	for _, c := range Resources(tpl, "AWS::Lambda::EventInvokeConfig") {
		if reflect.DeepEqual(Get(c, "Properties", "FunctionName"), Ref(p.Function)) &&
			!reflect.DeepEqual(Get(c, "Properties", "DestinationConfig", "OnFailure", "Destination"), GetAtt(p.FailureQueue, "Arn")) {
			t.Errorf("%s: failed asynchronous invocations go to %v, want the failure queue", p.Function, Get(c, "Properties", "DestinationConfig"))
		}
	}
	for _, r := range mine("AWS::Events::Rule") {
		rule := Get(r, "Properties")
		if Get(rule, "ScheduleExpression") != nil {
			continue
		}
		target := Get(rule, "Targets", 0)
		arn := Get(target, "Arn")
		switch {
		case reflect.DeepEqual(arn, GetAtt(p.PriorityQueue, "Arn")):
			p.Urgent = Get(rule, "EventPattern", "detail")
			p.Rules[p.PriorityQueue] = Get(rule, "EventPattern")
		case reflect.DeepEqual(arn, GetAtt(p.Queue, "Arn")):
			p.Rest = Get(rule, "EventPattern", "detail")
			p.Rules[p.Queue] = Get(rule, "EventPattern")
		default:
			t.Errorf("rule target %v is neither pacing queue", target)
			continue
		}
		if !reflect.DeepEqual(Get(rule, "EventBusName"), Ref(busID)) {
			t.Errorf("rule bus = %v, want %s", Get(rule, "EventBusName"), busID)
		}
		if !reflect.DeepEqual(Get(target, "DeadLetterConfig"), map[string]any{"Arn": GetAtt(p.DeadLetterQueue, "Arn")}) ||
			!reflect.DeepEqual(Get(target, "RetryPolicy"), map[string]any{"MaximumEventAgeInSeconds": 21600.0, "MaximumRetryAttempts": 20.0}) {
			t.Errorf("rule target = %v", target)
		}
	}
	if len(p.Rules) != 2 {
		t.Fatalf("destination %q: %d rules fill its queues, want 2 (priority and the rest)", prefix, len(p.Rules))
	}
	for _, q := range []string{p.DeadLetterQueue, p.FailureQueue, p.Queue, p.PriorityQueue} {
		if Get(tpl, "Resources", q, "Properties", "SqsManagedSseEnabled") != true {
			t.Errorf("queue %s not encrypted", q)
		}
		AssertTLSOnly(t, tpl, q)
	}
	for _, q := range []string{p.Queue, p.PriorityQueue} {
		if got := Get(tpl, "Resources", q, "Properties", "RedrivePolicy"); !reflect.DeepEqual(got,
			map[string]any{"deadLetterTargetArn": GetAtt(p.FailureQueue, "Arn"), "maxReceiveCount": 10.0}) {
			t.Errorf("queue %s redrive = %v, want the failure queue", q, got)
		}
	}
	assertEventsMaySend(t, tpl, p.DeadLetterQueue)
	drained := map[string]bool{}
	for _, m := range Resources(tpl, "AWS::Lambda::EventSourceMapping") {
		mp := Get(m, "Properties")
		if !reflect.DeepEqual(Get(mp, "FunctionName"), Ref(p.Function)) {
			continue
		}
		for _, q := range []string{p.Queue, p.PriorityQueue} {
			if reflect.DeepEqual(Get(mp, "EventSourceArn"), GetAtt(q, "Arn")) {
				drained[q] = true
			}
		}
		if Get(mp, "ScalingConfig", "MaximumConcurrency") != 2.0 || Get(mp, "BatchSize") != 10.0 ||
			!reflect.DeepEqual(Get(mp, "FunctionResponseTypes"), []any{"ReportBatchItemFailures"}) {
			t.Errorf("event source mapping = %v", mp)
		}
	}
	if len(drained) != 2 {
		t.Errorf("%s drains %d of its two queues", p.Function, len(drained))
	}
	return p
}

// assertEventsMaySend checks that EventBridge may send to the queue, from
// this stack's rules only.
func assertEventsMaySend(t testing.TB, tpl map[string]any, queueID string) {
	t.Helper()
	for _, p := range Resources(tpl, "AWS::SQS::QueuePolicy") {
		for _, s := range Get(p, "Properties", "PolicyDocument", "Statement").([]any) {
			if Get(s, "Principal", "Service") == "events.amazonaws.com" && Get(s, "Action") == "sqs:SendMessage" &&
				reflect.DeepEqual(Get(s, "Resource"), GetAtt(queueID, "Arn")) && Get(s, "Condition", "ArnEquals", "aws:SourceArn") != nil {
				return
			}
		}
	}
	t.Errorf("queue %s has no policy statement letting the rules send to it", queueID)
}

// AssertNotificationPolicy checks that the function fnID applies the
// notification policy under name with its state in tableID: the state
// variables, a minute sweep invoking it, and grants on the table and its
// due index by name (no wildcard).
func AssertNotificationPolicy(t testing.TB, tpl map[string]any, fnID, tableID, name string) {
	t.Helper()
	env := Get(tpl, "Resources", fnID, "Properties", "Environment", "Variables")
	if got := Get(env, "STATE_TABLE"); !reflect.DeepEqual(got, Ref(tableID)) {
		t.Errorf("%s: STATE_TABLE = %v, want the table", fnID, got)
	}
	if got := Get(env, "DESTINATION_NAME"); got != name {
		t.Errorf("%s: DESTINATION_NAME = %v, want %s", fnID, got, name)
	}
	for _, k := range []string{"NOTIFY_WINDOW", "NOTIFY_GROUP_BY"} {
		if Get(env, k) == nil {
			t.Errorf("%s: no %s", fnID, k)
		}
	}
	sweeps := 0
	for _, r := range Resources(tpl, "AWS::Events::Rule") {
		if Get(r, "Properties", "ScheduleExpression") == "rate(1 minute)" &&
			reflect.DeepEqual(Get(r, "Properties", "Targets", 0, "Arn"), GetAtt(fnID, "Arn")) {
			sweeps++
		}
	}
	if sweeps != 1 {
		t.Errorf("%s: %d minute sweeps, want 1", fnID, sweeps)
	}
	role := Get(tpl, "Resources", fnID, "Properties", "Role", "Fn::GetAtt", 0)
	var granted bool
	for _, p := range Resources(tpl, "AWS::IAM::Policy") {
		attached := false
		for _, r := range Get(p, "Properties", "Roles").([]any) {
			if reflect.DeepEqual(r, Ref(role.(string))) {
				attached = true
			}
		}
		if !attached {
			continue
		}
		for _, s := range Get(p, "Properties", "PolicyDocument", "Statement").([]any) {
			if !reflect.DeepEqual(Get(s, "Action"), []any{"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"}) {
				continue
			}
			res := Get(s, "Resource").([]any)
			want := []any{GetAtt(tableID, "Arn"), map[string]any{"Fn::Join": []any{"", []any{GetAtt(tableID, "Arn"), "/index/due"}}}}
			if !reflect.DeepEqual(res, want) {
				t.Errorf("%s: state grant on %v, want the table and its due index", fnID, res)
			}
			granted = true
		}
	}
	if !granted {
		t.Errorf("%s: no grant on the state table", fnID)
	}
}
