// Package cdktest helps tests of CDK constructs and stacks: a stack in an app
// that skips bundling (so no Lambda is compiled), the synthesized template as
// JSON values, and assertions on the resources, policies and queues in it.
// Like net/http/httptest, it is imported by tests only.
package cdktest

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/activity-aware/ids/internal/templatejson"
)

// Template access, re-exported so a test reads get(...), ref(...) from one
// place.
var (
	Get       = templatejson.Get
	Resources = templatejson.Resources
	Ref       = templatejson.Ref
	GetAtt    = templatejson.GetAtt
)

// NoBundling is the app context that skips asset bundling in every stack.
func NoBundling() map[string]any {
	return map[string]any{"aws:cdk:bundling-stacks": []any{}}
}

// NewApp returns an app that skips bundling, with context added.
func NewApp(context map[string]any) awscdk.App {
	ctx := NoBundling()
	for k, v := range context {
		ctx[k] = v
	}
	return awscdk.NewApp(&awscdk.AppProps{Context: &ctx})
}

// NewStack returns a stack named Test in a new app that skips bundling, so a
// test asserts the template without compiling the Lambda mains.
func NewStack() awscdk.Stack {
	return awscdk.NewStack(NewApp(nil), jsii.String("Test"), nil)
}

// Synth returns the template of stack, for assertions and as JSON values.
func Synth(t testing.TB, stack awscdk.Stack) (assertions.Template, map[string]any) {
	t.Helper()
	var tpl assertions.Template
	Check(t, func() { tpl = assertions.Template_FromStack(stack, nil) })
	return tpl, *tpl.ToJSON()
}

// SynthError synthesizes stack and returns the error synthesis panicked
// with, or nil when it succeeded.
func SynthError(stack awscdk.Stack) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	assertions.Template_FromStack(stack, nil)
	return nil
}

// Check runs an assertion, turning the panic jsii raises on a failed
// assertion into a test failure.
func Check(t testing.TB, assert func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("%v", r)
		}
	}()
	assert()
}

// Only returns the single resource of type typ, failing otherwise.
func Only(t testing.TB, tpl map[string]any, typ string) map[string]any {
	t.Helper()
	return tpl["Resources"].(map[string]any)[LogicalID(t, tpl, typ)].(map[string]any)
}

// LogicalID returns the logical id of the single resource of type typ.
func LogicalID(t testing.TB, tpl map[string]any, typ string) string {
	t.Helper()
	rs := Resources(tpl, typ)
	if len(rs) != 1 {
		t.Fatalf("want 1 %s, got %d", typ, len(rs))
	}
	for id := range rs {
		return id
	}
	return ""
}

// FindID returns the logical id of the resource of type typ whose id
// contains part.
func FindID(t testing.TB, tpl map[string]any, typ, part string) string {
	t.Helper()
	for id := range Resources(tpl, typ) {
		if strings.Contains(id, part) {
			return id
		}
	}
	t.Fatalf("no %s with %q in its id", typ, part)
	return ""
}

// Statements returns every IAM policy statement of the template's
// AWS::IAM::Policy resources.
func Statements(tpl map[string]any) []map[string]any {
	var out []map[string]any
	for _, p := range Resources(tpl, "AWS::IAM::Policy") {
		for _, s := range Get(p, "Properties", "PolicyDocument", "Statement").([]any) {
			out = append(out, s.(map[string]any))
		}
	}
	return out
}

// StatementFor returns the statement granting action, failing when none does.
func StatementFor(t testing.TB, tpl map[string]any, action string) map[string]any {
	t.Helper()
	for _, s := range Statements(tpl) {
		switch a := s["Action"].(type) {
		case string:
			if a == action {
				return s
			}
		case []any:
			for _, x := range a {
				if x == action {
					return s
				}
			}
		}
	}
	t.Fatalf("no IAM statement grants %s", action)
	return nil
}

// AssertTLSOnly checks that queueID's policy denies requests without TLS.
func AssertTLSOnly(t testing.TB, tpl map[string]any, queueID string) {
	t.Helper()
	for _, p := range Resources(tpl, "AWS::SQS::QueuePolicy") {
		if !reflect.DeepEqual(Get(p, "Properties", "Queues", 0), Ref(queueID)) {
			continue
		}
		for _, s := range Get(p, "Properties", "PolicyDocument", "Statement").([]any) {
			if Get(s, "Effect") == "Deny" && Get(s, "Condition", "Bool", "aws:SecureTransport") == "false" {
				return
			}
		}
	}
	t.Errorf("queue %s does not deny requests without TLS", queueID)
}

// AssertEventSource checks the event-source construct in tpl (the only
// Lambda function with EVENT_SOURCES in its environment): a rule with
// pattern on the default bus targets the function with retries and a
// dead-letter queue, failed invocations go to a failure queue, the function
// reads sources and may put events on the bus busID, and both queues refuse
// requests without TLS.
func AssertEventSource(t testing.TB, tpl map[string]any, busID, sources string, pattern map[string]any) {
	t.Helper()
	var fnID string
	for id, fn := range Resources(tpl, "AWS::Lambda::Function") {
		if Get(fn, "Properties", "Environment", "Variables", "EVENT_SOURCES") == sources {
			fnID = id
		}
	}
	if fnID == "" {
		t.Fatalf("no function reads EVENT_SOURCES=%s", sources)
	}
	fn := Resources(tpl, "AWS::Lambda::Function")[fnID]
	if got := Get(fn, "Properties", "Environment", "Variables", "EVENT_BUS_NAME"); !reflect.DeepEqual(got, Ref(busID)) {
		t.Errorf("EVENT_BUS_NAME = %v, want a Ref to %s", got, busID)
	}
	var found bool
	for _, r := range Resources(tpl, "AWS::Events::Rule") {
		target := Get(r, "Properties", "Targets", 0)
		if !reflect.DeepEqual(Get(target, "Arn"), GetAtt(fnID, "Arn")) {
			continue
		}
		found = true
		if !reflect.DeepEqual(Get(r, "Properties", "EventPattern"), pattern) {
			t.Errorf("rule pattern %v\nwant %v", Get(r, "Properties", "EventPattern"), pattern)
		}
		if bus := Get(r, "Properties", "EventBusName"); bus != nil {
			t.Errorf("rule on bus %v, want the default bus", bus)
		}
		if Get(r, "Properties", "State") != "ENABLED" {
			t.Errorf("rule state %v", Get(r, "Properties", "State"))
		}
		dlq := Get(target, "DeadLetterConfig", "Arn")
		if dlq == nil || Get(target, "RetryPolicy", "MaximumRetryAttempts") != 20.0 {
			t.Errorf("target without DLQ or retries: %v", target)
		}
		if m, ok := dlq.(map[string]any); ok {
			AssertTLSOnly(t, tpl, m["Fn::GetAtt"].([]any)[0].(string))
		}
	}
	if !found {
		t.Fatalf("no rule targets %s", fnID)
	}
	var onFailure bool
	for _, c := range Resources(tpl, "AWS::Lambda::EventInvokeConfig") {
		if Get(c, "Properties", "FunctionName") == nil || !reflect.DeepEqual(Get(c, "Properties", "FunctionName"), Ref(fnID)) {
			continue
		}
		dest := Get(c, "Properties", "DestinationConfig", "OnFailure", "Destination")
		if m, ok := dest.(map[string]any); ok {
			onFailure = true
			AssertTLSOnly(t, tpl, m["Fn::GetAtt"].([]any)[0].(string))
		}
	}
	if !onFailure {
		t.Errorf("function %s has no on-failure destination", fnID)
	}
	s := StatementFor(t, tpl, "events:PutEvents")
	if !reflect.DeepEqual(s["Resource"], GetAtt(busID, "Arn")) {
		t.Errorf("PutEvents resource %v, want the bus ARN", s["Resource"])
	}
}
