package cloudtraileventssource_test

import (
	"reflect"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/activity-aware/ids/constructs/activitybus"
	"github.com/activity-aware/ids/constructs/cloudtraileventssource"
	"github.com/activity-aware/ids/internal/cdktest"
)

var detailTypes = []any{"AWS API Call via CloudTrail", "AWS Console Sign In via CloudTrail", "AWS Console Signin via CloudTrail"}

func TestCloudTrailEventsSource(t *testing.T) {
	tests := []struct {
		name           string
		detections     []string
		pattern        map[string]any
		detectionsOnly string
	}{{
		name:       "default detections: the rule filters",
		detections: nil,
		pattern: map[string]any{
			"source":      []any{map[string]any{"prefix": "aws."}},
			"detail-type": detailTypes,
			"detail":      map[string]any{"errorCode": []any{map[string]any{"suffix": "UnauthorizedOperation"}, map[string]any{"prefix": "AccessDenied"}}},
		},
	}, {
		name:       "presets EventBridge cannot express: every event, the function filters",
		detections: []string{"all"},
		pattern: map[string]any{
			"source":      []any{map[string]any{"prefix": "aws."}},
			"detail-type": detailTypes,
		},
		detectionsOnly: "true",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// GIVEN a stack with an activity bus
			stack := cdktest.NewStack()
			bus := activitybus.New(stack, jsii.String("ActivityBus"), nil)
			var ids *[]*string
			if tt.detections != nil {
				ids = jsii.Strings(tt.detections...)
			}
			// WHEN the source is added
			cloudtraileventssource.New(stack, jsii.String("CloudTrailEvents"), &cloudtraileventssource.Props{Bus: bus.EventBus(), Detections: ids})
			// THEN its rule takes read-only management events too, with the
			// pattern derived from the detections
			_, raw := cdktest.Synth(t, stack)
			busID := cdktest.LogicalID(t, raw, "AWS::Events::EventBus")
			rule := cdktest.Only(t, raw, "AWS::Events::Rule")
			if got := cdktest.Get(rule, "Properties", "State"); got != "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS" {
				t.Errorf("state %v", got)
			}
			if got := cdktest.Get(rule, "Properties", "EventPattern"); !reflect.DeepEqual(got, tt.pattern) {
				t.Errorf("pattern %v\nwant %v", got, tt.pattern)
			}
			fn := cdktest.Only(t, raw, "AWS::Lambda::Function")
			vars := cdktest.Get(fn, "Properties", "Environment", "Variables")
			if got, _ := cdktest.Get(vars, "DETECTIONS_ONLY").(string); got != tt.detectionsOnly {
				t.Errorf("DETECTIONS_ONLY = %q, want %q", got, tt.detectionsOnly)
			}
			if cdktest.Get(vars, "EVENT_SOURCES") != "cloudtrail-events" || cdktest.Get(vars, "DETECTIONS") == nil {
				t.Errorf("environment %v", vars)
			}
			cdktest.AssertTLSOnly(t, raw, cdktest.FindID(t, raw, "AWS::SQS::Queue", "DeadLetterQueue"))
			if s := cdktest.StatementFor(t, raw, "events:PutEvents"); !reflect.DeepEqual(s["Resource"], cdktest.GetAtt(busID, "Arn")) {
				t.Errorf("PutEvents on %v", s["Resource"])
			}
		})
	}
}

func TestGlobalForwarder(t *testing.T) {
	// GIVEN a stack in us-east-1
	app := cdktest.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("Global"), &awscdk.StackProps{Env: &awscdk.Environment{Region: jsii.String("us-east-1"), Account: jsii.String("111122223333")}})
	// WHEN the forwarder to eu-west-1 is added
	cloudtraileventssource.NewGlobalForwarder(stack, jsii.String("Forward"), "eu-west-1")
	// THEN IAM, STS, Organizations and sign-in events (all management events)
	// go to eu-west-1's default bus, with a role and a dead-letter queue
	_, raw := cdktest.Synth(t, stack)
	rule := cdktest.Only(t, raw, "AWS::Events::Rule")
	if got := cdktest.Get(rule, "Properties", "State"); got != "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS" {
		t.Errorf("state %v", got)
	}
	want := map[string]any{"source": []any{"aws.iam", "aws.sts", "aws.organizations", "aws.signin"}, "detail-type": detailTypes}
	if got := cdktest.Get(rule, "Properties", "EventPattern"); !reflect.DeepEqual(got, want) {
		t.Errorf("pattern %v", got)
	}
	bus := map[string]any{"Fn::Join": []any{"", []any{"arn:", map[string]any{"Ref": "AWS::Partition"}, ":events:eu-west-1:111122223333:event-bus/default"}}}
	target := cdktest.Get(rule, "Properties", "Targets", 0)
	if got := cdktest.Get(target, "Arn"); !reflect.DeepEqual(got, bus) {
		t.Errorf("target %v", got)
	}
	if cdktest.Get(target, "RoleArn") == nil || cdktest.Get(target, "DeadLetterConfig", "Arn") == nil {
		t.Errorf("target without role or DLQ: %v", target)
	}
	s := cdktest.StatementFor(t, raw, "events:PutEvents")
	if !reflect.DeepEqual(s["Resource"], bus) {
		t.Errorf("role may put events on %v", s["Resource"])
	}
}
