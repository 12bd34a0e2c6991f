package cloudtrailsource_test

import (
	"fmt"
	"github.com/activity-aware/ids/constructs/activitybus"
	"github.com/activity-aware/ids/constructs/cloudtrailsource"
	"github.com/activity-aware/ids/constructs/gofunction"
	"github.com/activity-aware/ids/detections"
	"github.com/activity-aware/ids/internal/cdktest"
	"github.com/activity-aware/ids/sources/cloudtrail"
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"
	"reflect"
	"strings"
	"testing"
)

func TestCloudTrailSource(t *testing.T) {
	tests := []struct {
		name           string
		props          func(awscdk.Stack) *cloudtrailsource.Props
		wantSubscribed bool
		wantPattern    any
		wantDetections string
		wantParameter  bool
	}{
		{
			name: "literal log group, defaults",
			props: func(s awscdk.Stack) *cloudtrailsource.Props {
				return &cloudtrailsource.Props{LogGroup: logGroup(s, jsii.String("CloudTrail/DefaultLogGroup"))}
			},
			wantSubscribed: true,
			wantPattern:    `{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }`,
			wantDetections: "unauthorized-api-calls",
		},
		{
			name: "parameter log group under a condition",
			props: func(s awscdk.Stack) *cloudtrailsource.Props {
				name := awscdk.NewCfnParameter(s, jsii.String("LogGroupName"), &awscdk.CfnParameterProps{
					Default: jsii.String("CloudTrail/DefaultLogGroup"),
				})
				return &cloudtrailsource.Props{
					LogGroup:      logGroup(s, name.ValueAsString()),
					FilterPattern: jsii.String(`{ $.errorCode = "AccessDenied" }`),
					Detections:    jsii.Strings("unauthorized-api-calls", "root-account-usage"),
				}
			},
			wantSubscribed: true,
			wantPattern:    `{ $.errorCode = "AccessDenied" }`,
			wantDetections: "unauthorized-api-calls,root-account-usage",
			wantParameter:  true,
		},
		{
			name:           "no log group",
			props:          func(awscdk.Stack) *cloudtrailsource.Props { return &cloudtrailsource.Props{} },
			wantDetections: "unauthorized-api-calls",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// GIVEN
			stack := cdktest.NewStack()
			bus := activitybus.New(stack, jsii.String("ActivityBus"), nil)
			props := tt.props(stack)
			props.Bus = bus.EventBus()
			// WHEN
			src := cloudtrailsource.New(stack, jsii.String("Source"), props)
			// THEN
			_, raw := cdktest.Synth(t, stack)
			busID := cdktest.LogicalID(t, raw, "AWS::Events::EventBus")
			queueID := cdktest.LogicalID(t, raw, "AWS::SQS::Queue")
			fnID := cdktest.LogicalID(t, raw, "AWS::Lambda::Function")

			fn := cdktest.Only(t, raw, "AWS::Lambda::Function")
			wantEnv := map[string]any{
				"EVENT_BUS_NAME":       cdktest.Ref(busID),
				"DETECTIONS":           tt.wantDetections,
				"PUT_EVENTS_MAX_BYTES": "262144",
				// A partly published batch parks its undelivered log
				// events in the failure queue.
				"FAILURE_QUEUE_URL": cdktest.Ref(queueID),
			}
			if got := cdktest.Get(fn, "Properties", "Environment", "Variables"); !reflect.DeepEqual(got, wantEnv) {
				t.Errorf("environment = %v, want %v", got, wantEnv)
			}
			send := cdktest.StatementFor(t, raw, "sqs:SendMessage")
			if !reflect.DeepEqual(send["Resource"], cdktest.GetAtt(queueID, "Arn")) {
				t.Errorf("sqs:SendMessage on %v, want the failure queue", send["Resource"])
			}
			cfg := cdktest.Get(cdktest.Only(t, raw, "AWS::Lambda::EventInvokeConfig"), "Properties")
			if cdktest.Get(cfg, "MaximumRetryAttempts") != 2.0 || cdktest.Get(cfg, "MaximumEventAgeInSeconds") != 21600.0 ||
				!reflect.DeepEqual(cdktest.Get(cfg, "DestinationConfig", "OnFailure", "Destination"), cdktest.GetAtt(queueID, "Arn")) {
				t.Errorf("event invoke config = %v", cfg)
			}
			queue := cdktest.Get(cdktest.Only(t, raw, "AWS::SQS::Queue"), "Properties")
			if cdktest.Get(queue, "SqsManagedSseEnabled") != true {
				t.Errorf("failure queue not encrypted: %v", queue)
			}
			cdktest.AssertTLSOnly(t, raw, queueID)
			s := cdktest.StatementFor(t, raw, "events:PutEvents")
			if !reflect.DeepEqual(s["Resource"], cdktest.GetAtt(busID, "Arn")) {
				t.Errorf("PutEvents resource = %v, want the bus ARN", s["Resource"])
			}

			filters := cdktest.Resources(raw, "AWS::Logs::SubscriptionFilter")
			perms := cdktest.Resources(raw, "AWS::Lambda::Permission")
			if !tt.wantSubscribed {
				if len(filters) != 0 || len(perms) != 0 || src.SubscriptionFilter() != nil {
					t.Fatalf("want no subscription, got %d filters, %d permissions", len(filters), len(perms))
				}
				return
			}
			filter := cdktest.Only(t, raw, "AWS::Logs::SubscriptionFilter")
			perm := cdktest.Only(t, raw, "AWS::Lambda::Permission")
			logGroupName := cdktest.Get(filter, "Properties", "LogGroupName")
			if pattern := cdktest.Get(filter, "Properties", "FilterPattern"); pattern != tt.wantPattern {
				t.Errorf("filter pattern = %v, want %v", pattern, tt.wantPattern)
			}
			if !reflect.DeepEqual(cdktest.Get(filter, "Properties", "DestinationArn"), cdktest.GetAtt(fnID, "Arn")) {
				t.Errorf("filter destination = %v", cdktest.Get(filter, "Properties", "DestinationArn"))
			}
			wantSourceArn := map[string]any{"Fn::Join": []any{"", []any{
				"arn:", cdktest.Ref("AWS::Partition"), ":logs:", cdktest.Ref("AWS::Region"), ":", cdktest.Ref("AWS::AccountId"),
				":log-group:", logGroupName, ":*",
			}}}
			if logGroupName == "CloudTrail/DefaultLogGroup" {
				wantSourceArn = map[string]any{"Fn::Join": []any{"", []any{
					"arn:", cdktest.Ref("AWS::Partition"), ":logs:", cdktest.Ref("AWS::Region"), ":", cdktest.Ref("AWS::AccountId"),
					":log-group:CloudTrail/DefaultLogGroup:*",
				}}}
			}
			wantPerm := map[string]any{
				"Action":       "lambda:InvokeFunction",
				"FunctionName": cdktest.GetAtt(fnID, "Arn"),
				"Principal": map[string]any{"Fn::Join": []any{"", []any{
					"logs.", cdktest.Ref("AWS::Region"), ".", cdktest.Ref("AWS::URLSuffix")}}},
				"SourceArn":     wantSourceArn,
				"SourceAccount": cdktest.Ref("AWS::AccountId"),
			}
			if got := perm["Properties"]; !reflect.DeepEqual(got, wantPerm) {
				t.Errorf("permission = %v\nwant %v", got, wantPerm)
			}
			permID := cdktest.LogicalID(t, raw, "AWS::Lambda::Permission")
			if deps := fmt.Sprint(filter["DependsOn"]); !strings.Contains(deps, permID) {
				t.Errorf("filter depends on %s, want the permission %s", deps, permID)
			}
			if tt.wantParameter {
				if !reflect.DeepEqual(logGroupName, cdktest.Ref("LogGroupName")) {
					t.Errorf("filter log group = %v, want the parameter", logGroupName)
				}
			}
		})
	}
}

func TestCloudTrailSourceRefusesOwnLogGroup(t *testing.T) {
	// GIVEN a source whose function log group has a known name
	stack := cdktest.NewStack()
	bus := activitybus.New(stack, jsii.String("ActivityBus"), nil)
	const own = "/aws/lambda/activity-aware-ids-source"
	cloudtrailsource.New(stack, jsii.String("Source"), &cloudtrailsource.Props{
		Bus:      bus.EventBus(),
		LogGroup: logGroup(stack, jsii.String(own)),
		Function: &gofunction.Props{LogGroupName: jsii.String(own)},
	})
	// WHEN the app is synthesized
	got := cdktest.SynthError(stack)
	// THEN synthesis fails and says why
	if got == nil || !strings.Contains(fmt.Sprint(got), "refusing to subscribe the source to its own log group") {
		t.Fatalf("synthesis error = %v, want the own-log-group refusal", got)
	}
}

func TestCloudTrailSourceRuleAgainstOwnLogGroupParameter(t *testing.T) {
	// GIVEN a log group parameter and a function log group with a known name
	stack := cdktest.NewStack()
	bus := activitybus.New(stack, jsii.String("ActivityBus"), nil)
	name := awscdk.NewCfnParameter(stack, jsii.String("LogGroupName"), nil)
	const own = "/aws/lambda/activity-aware-ids-source"
	// WHEN
	cloudtrailsource.New(stack, jsii.String("Source"), &cloudtrailsource.Props{
		Bus:      bus.EventBus(),
		LogGroup: logGroup(stack, name.ValueAsString()),
		Function: &gofunction.Props{LogGroupName: jsii.String(own)},
	})
	// THEN CloudFormation refuses the parameter value at deployment
	_, raw := cdktest.Synth(t, stack)
	rules, _ := raw["Rules"].(map[string]any)
	want := map[string]any{"Fn::Not": []any{map[string]any{"Fn::Equals": []any{cdktest.Ref("LogGroupName"), own}}}}
	for _, r := range rules {
		if reflect.DeepEqual(cdktest.Get(r, "Assertions", 0, "Assert"), want) {
			return
		}
	}
	t.Fatalf("rules = %v, want an assertion %v", rules, want)
}

func TestCloudTrailSourceFilterPatternFromDetections(t *testing.T) {
	all := make([]string, 0, len(detections.All()))
	for _, p := range detections.All() {
		all = append(all, p.ID)
	}
	pair := []string{"unauthorized-api-calls", "root-account-usage"}
	pairPattern, err := cloudtrailsource.FilterPatternFor(pair)
	if err != nil {
		t.Fatal(err)
	}
	if def, err := cloudtrailsource.FilterPatternFor([]string{cloudtrailsource.DefaultDetection}); err != nil || def != cloudtrailsource.DefaultFilterPattern {
		t.Fatalf("default detection's pattern = %q, %v; want the original system's pattern", def, err)
	}
	tests := []struct {
		name        string
		props       cloudtrailsource.Props
		wantPattern string
		wantOnly    any // the function's DETECTIONS_ONLY, nil when unset
		wantError   string
	}{
		{
			name:        "derived from two presets",
			props:       cloudtrailsource.Props{Detections: jsii.Strings(pair...)},
			wantPattern: pairPattern,
		},
		{
			name:      "malformed literal pattern",
			props:     cloudtrailsource.Props{FilterPattern: jsii.String(`{ $.errorCode = }`)},
			wantError: `FilterPattern "{ $.errorCode = }": column`,
		},
		{
			name:      "unknown preset",
			props:     cloudtrailsource.Props{Detections: jsii.Strings("unauthorized-api-calls", "no-such-preset")},
			wantError: `"no-such-preset"`,
		},
		{
			name:        "every preset does not fit 1024 characters: the broad prefilter",
			props:       cloudtrailsource.Props{Detections: jsii.Strings(all...)},
			wantPattern: detections.BroadPattern,
			wantOnly:    "true",
		},
		{
			name: "exclusions: the function drops what the tuned presets do not label",
			props: cloudtrailsource.Props{Detections: jsii.Strings("lambda-code-overwritten"),
				DetectionExclusions: &map[string]*[]*string{"lambda-code-overwritten": jsii.Strings("arn:aws:sts::*:assumed-role/deploy/*")}},
			wantPattern: `{ ($.eventSource = "lambda.amazonaws.com") && ($.eventName = "UpdateFunctionCode*") }`,
			wantOnly:    "true",
		},
		{
			name:        "the all pack is every preset",
			props:       cloudtrailsource.Props{Detections: jsii.Strings("all")},
			wantPattern: detections.BroadPattern,
			wantOnly:    "true",
		},
		{
			name: "exclusions of a preset not enabled",
			props: cloudtrailsource.Props{Detections: jsii.Strings("threats"),
				DetectionExclusions: &map[string]*[]*string{"root-account-usage": jsii.Strings("arn:aws:iam::1:root")}},
			wantError: `"root-account-usage" in exclusions`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// GIVEN
			stack := cdktest.NewStack()
			bus := activitybus.New(stack, jsii.String("ActivityBus"), nil)
			props := tt.props
			props.Bus = bus.EventBus()
			props.LogGroup = logGroup(stack, jsii.String("CloudTrail/DefaultLogGroup"))
			// WHEN
			cloudtrailsource.New(stack, jsii.String("Source"), &props)
			// THEN
			if tt.wantError != "" {
				got := cdktest.SynthError(stack)
				if got == nil || !strings.Contains(fmt.Sprint(got), tt.wantError) {
					t.Fatalf("synthesis error = %v, want one mentioning %q", got, tt.wantError)
				}
				return
			}
			_, raw := cdktest.Synth(t, stack)
			if got := cdktest.Get(cdktest.Only(t, raw, "AWS::Logs::SubscriptionFilter"), "Properties", "FilterPattern"); got != tt.wantPattern {
				t.Fatalf("filter pattern = %v, want %v", got, tt.wantPattern)
			}
			fn := cdktest.Only(t, raw, "AWS::Lambda::Function")
			if got := cdktest.Get(fn, "Properties", "Environment", "Variables", cloudtrail.EnvDetectionsOnly); got != tt.wantOnly {
				t.Errorf("%s = %v, want %v", cloudtrail.EnvDetectionsOnly, got, tt.wantOnly)
			}
		})
	}
}

func TestCloudTrailSourceMergesUserEnvironment(t *testing.T) {
	tests := []struct {
		name      string
		env       map[string]*string
		wantError string
	}{
		{name: "own variable added", env: map[string]*string{"GOMEMLIMIT": jsii.String("100MiB")}},
		{name: "variables the source sets", env: map[string]*string{"EVENT_BUS_NAME": jsii.String("other"), "DETECTIONS": jsii.String("")},
			wantError: "Function.Environment sets DETECTIONS, EVENT_BUS_NAME, which the source sets itself"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// GIVEN a user's function environment
			stack := cdktest.NewStack()
			bus := activitybus.New(stack, jsii.String("ActivityBus"), nil)
			// WHEN
			cloudtrailsource.New(stack, jsii.String("Source"), &cloudtrailsource.Props{
				Bus:      bus.EventBus(),
				Function: &gofunction.Props{Environment: &tt.env},
			})
			// THEN it is merged with the source's, or refused by name
			if tt.wantError != "" {
				if err := cdktest.SynthError(stack); err == nil || !strings.Contains(err.Error(), tt.wantError) {
					t.Fatalf("synthesis error = %v, want %q", err, tt.wantError)
				}
				return
			}
			_, raw := cdktest.Synth(t, stack)
			vars := cdktest.Get(cdktest.Only(t, raw, "AWS::Lambda::Function"), "Properties", "Environment", "Variables")
			for _, k := range []string{"GOMEMLIMIT", "EVENT_BUS_NAME", "DETECTIONS", "PUT_EVENTS_MAX_BYTES"} {
				if cdktest.Get(vars, k) == nil {
					t.Errorf("environment %v lacks %s", vars, k)
				}
			}
		})
	}
}

// logGroup is CloudTrail's log group by name, as a user passes it.
func logGroup(s awscdk.Stack, name *string) awslogs.ILogGroup {
	return awslogs.LogGroup_FromLogGroupName(s, jsii.String("CloudTrailLogGroup"), name)
}
