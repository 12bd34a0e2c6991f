package constructs_test

import (
	"debug/elf"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/jsii-runtime-go"
	"golang.org/x/mod/modfile"

	"github.com/activity-aware/ids/constructs/activitybus"
	"github.com/activity-aware/ids/constructs/cloudtrailsource"
	"github.com/activity-aware/ids/constructs/gofunction"
	"github.com/activity-aware/ids/constructs/slackdestination"
	"github.com/activity-aware/ids/detections"
	"github.com/activity-aware/ids/internal/templatejson"
)

// newStack returns a stack in a new app that skips bundling, so the tests
// assert the template without compiling the Lambda mains.
func newStack() awscdk.Stack {
	app := awscdk.NewApp(&awscdk.AppProps{
		Context: &map[string]any{"aws:cdk:bundling-stacks": []any{}},
	})
	return awscdk.NewStack(app, jsii.String("Test"), nil)
}

// synth returns the template of stack as JSON values.
func synth(t *testing.T, stack awscdk.Stack) (assertions.Template, map[string]any) {
	t.Helper()
	var tpl assertions.Template
	check(t, func() { tpl = assertions.Template_FromStack(stack, nil) })
	return tpl, *tpl.ToJSON()
}

// check runs an assertion, turning the panic jsii raises on a failed
// assertion into a test failure.
func check(t *testing.T, assert func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("%v", r)
		}
	}()
	assert()
}

// only returns the single resource of type typ, failing otherwise.
func only(t *testing.T, tpl map[string]any, typ string) map[string]any {
	t.Helper()
	rs := resources(tpl, typ)
	if len(rs) != 1 {
		t.Fatalf("want 1 %s, got %d", typ, len(rs))
	}
	for _, r := range rs {
		return r
	}
	return nil
}

// statements returns every IAM policy statement of the template's
// AWS::IAM::Policy resources.
func statements(tpl map[string]any) []map[string]any {
	var out []map[string]any
	for _, p := range resources(tpl, "AWS::IAM::Policy") {
		for _, s := range get(p, "Properties", "PolicyDocument", "Statement").([]any) {
			out = append(out, s.(map[string]any))
		}
	}
	return out
}

// statementFor returns the statement granting action, failing when none does.
func statementFor(t *testing.T, tpl map[string]any, action string) map[string]any {
	t.Helper()
	for _, s := range statements(tpl) {
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

var (
	get       = templatejson.Get
	resources = templatejson.Resources
	ref       = templatejson.Ref
	getAtt    = templatejson.GetAtt
)

// logicalID returns the logical id of the single resource of type typ.
func logicalID(t *testing.T, tpl map[string]any, typ string) string {
	t.Helper()
	rs := resources(tpl, typ)
	if len(rs) != 1 {
		t.Fatalf("want 1 %s, got %d", typ, len(rs))
	}
	for id := range rs {
		return id
	}
	return ""
}

func TestGoFunctionDefaultsAndOverrides(t *testing.T) {
	tests := []struct {
		name          string
		props         gofunction.Props
		wantArch      string
		wantMemory    float64
		wantTimeout   float64
		wantRetention float64
		wantLogLevel  string
		wantDeletion  string
	}{
		{
			name:          "defaults",
			props:         gofunction.Props{ImportPath: jsii.String("example.com/hello")},
			wantArch:      "arm64",
			wantMemory:    128,
			wantTimeout:   30,
			wantRetention: 365,
			wantLogLevel:  "INFO",
			wantDeletion:  "Retain",
		},
		{
			name: "overrides",
			props: gofunction.Props{
				ImportPath:          jsii.String("example.com/hello"),
				Architecture:        awslambda.Architecture_X86_64(),
				MemorySize:          jsii.Number(256),
				Timeout:             awscdk.Duration_Seconds(jsii.Number(90)),
				LogRetention:        awslogs.RetentionDays_ONE_MONTH,
				LogRemovalPolicy:    awscdk.RemovalPolicy_DESTROY,
				ApplicationLogLevel: awslambda.ApplicationLogLevel_DEBUG,
			},
			wantArch:      "x86_64",
			wantMemory:    256,
			wantTimeout:   90,
			wantRetention: 30,
			wantLogLevel:  "DEBUG",
			wantDeletion:  "Delete",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// GIVEN
			stack := newStack()
			// WHEN
			fn := gofunction.New(stack, jsii.String("Hello"), &tt.props)
			// THEN
			tpl, raw := synth(t, stack)
			logGroupID := logicalID(t, raw, "AWS::Logs::LogGroup")
			check(t, func() {
				tpl.HasResourceProperties(jsii.String("AWS::Lambda::Function"), map[string]any{
					"Runtime":       "provided.al2023",
					"Handler":       "bootstrap",
					"Architectures": []any{tt.wantArch},
					"MemorySize":    tt.wantMemory,
					"Timeout":       tt.wantTimeout,
					"LoggingConfig": map[string]any{
						"LogFormat":           "JSON",
						"ApplicationLogLevel": tt.wantLogLevel,
						"LogGroup":            ref(logGroupID),
					},
				})
				tpl.HasResource(jsii.String("AWS::Logs::LogGroup"), map[string]any{
					"Properties":     map[string]any{"RetentionInDays": tt.wantRetention},
					"DeletionPolicy": tt.wantDeletion,
				})
			})
			// The role writes to its own log group only, and carries no
			// managed policy.
			s := statementFor(t, raw, "logs:PutLogEvents")
			if !reflect.DeepEqual(s["Resource"], getAtt(logGroupID, "Arn")) {
				t.Errorf("logs statement resource = %v, want the function's log group", s["Resource"])
			}
			role := only(t, raw, "AWS::IAM::Role")
			if mp := get(role, "Properties", "ManagedPolicyArns"); mp != nil {
				t.Errorf("role has managed policies %v", mp)
			}
			if fn.Function() == nil || fn.LogGroup() == nil || fn.Role() == nil {
				t.Error("getters return nil")
			}
		})
	}
}

func TestGoFunctionBuildCommand(t *testing.T) {
	tests := []struct {
		arch       awslambda.Architecture
		wantGOARCH string
	}{
		{awslambda.Architecture_ARM_64(), "arm64"},
		{awslambda.Architecture_X86_64(), "amd64"},
		{nil, "arm64"},
	}
	for _, tt := range tests {
		t.Run(tt.wantGOARCH, func(t *testing.T) {
			b := gofunction.NewBuild("example.com/m/lambdas/x", "/src", gofunction.GOARCH(tt.arch))
			wantEnv := map[string]string{"GOOS": "linux", "GOARCH": tt.wantGOARCH, "CGO_ENABLED": "0"}
			if got := b.Env(); !reflect.DeepEqual(got, wantEnv) {
				t.Errorf("Env() = %v, want %v", got, wantEnv)
			}
			wantArgs := []string{"build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w",
				"-tags", "lambda.norpc", "-o", "/out/bootstrap", "example.com/m/lambdas/x"}
			if got := b.Args("/out/bootstrap"); !reflect.DeepEqual(got, wantArgs) {
				t.Errorf("Args() = %q, want %q", got, wantArgs)
			}
			opts := b.BundlingOptions()
			var command []string
			for _, c := range *opts.Command {
				command = append(command, *c)
			}
			if want := append([]string{"go"}, b.Args("/asset-output/bootstrap")...); !reflect.DeepEqual(command, want) {
				t.Errorf("container command = %q, want %q", command, want)
			}
			if got := *(*opts.Environment)["GOARCH"]; got != tt.wantGOARCH {
				t.Errorf("container GOARCH = %q, want %q", got, tt.wantGOARCH)
			}
		})
	}
}

func TestActivityBus(t *testing.T) {
	tests := []struct {
		name          string
		props         *activitybus.Props
		wantRetention float64
		wantOrgPolicy bool
	}{
		{name: "defaults", props: nil, wantRetention: 30},
		{
			name: "organization and retention",
			props: &activitybus.Props{
				OrganizationID:   jsii.String("o-a1b2c3d4e5"),
				ArchiveRetention: awscdk.Duration_Days(jsii.Number(90)),
				EventBusName:     jsii.String("activities"),
			},
			wantRetention: 90,
			wantOrgPolicy: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// GIVEN
			stack := newStack()
			grantee := gofunction.New(stack, jsii.String("Producer"), &gofunction.Props{
				ImportPath: jsii.String("example.com/producer"),
			})
			// WHEN
			bus := activitybus.New(stack, jsii.String("ActivityBus"), tt.props)
			bus.GrantPut(grantee.Function())
			// THEN
			tpl, raw := synth(t, stack)
			busID := logicalID(t, raw, "AWS::Events::EventBus")
			check(t, func() {
				tpl.HasResourceProperties(jsii.String("AWS::Events::Archive"), map[string]any{
					"SourceArn":     getAtt(busID, "Arn"),
					"RetentionDays": tt.wantRetention,
					"EventPattern": map[string]any{
						"source":      []any{map[string]any{"prefix": "activity-aware-ids."}},
						"detail-type": []any{"Activity"},
					},
				})
			})
			s := statementFor(t, raw, "events:PutEvents")
			if !reflect.DeepEqual(s["Resource"], getAtt(busID, "Arn")) {
				t.Errorf("PutEvents resource = %v, want the bus ARN", s["Resource"])
			}
			policies := resources(raw, "AWS::Events::EventBusPolicy")
			if got := len(policies) > 0; got != tt.wantOrgPolicy {
				t.Fatalf("bus policy present = %v, want %v", got, tt.wantOrgPolicy)
			}
			for _, p := range policies {
				cond := get(p, "Properties", "Statement", "Condition", "StringEquals", "aws:PrincipalOrgID")
				if cond != "o-a1b2c3d4e5" {
					t.Errorf("bus policy condition = %v, want the organization id", get(p, "Properties", "Statement"))
				}
			}
		})
	}
}

func TestCloudTrailSource(t *testing.T) {
	tests := []struct {
		name           string
		props          func(awscdk.Stack) *cloudtrailsource.Props
		wantSubscribed bool
		wantPattern    any
		wantDetections string
		wantCondition  bool
	}{
		{
			name: "literal log group, defaults",
			props: func(awscdk.Stack) *cloudtrailsource.Props {
				return &cloudtrailsource.Props{LogGroupName: jsii.String("CloudTrail/DefaultLogGroup")}
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
				cond := awscdk.NewCfnCondition(s, jsii.String("Subscribe"), &awscdk.CfnConditionProps{
					Expression: awscdk.Fn_ConditionNot(awscdk.Fn_ConditionEquals(name.ValueAsString(), jsii.String(""))),
				})
				return &cloudtrailsource.Props{
					LogGroupName:  name.ValueAsString(),
					Condition:     cond,
					FilterPattern: jsii.String(`{ $.errorCode = "AccessDenied" }`),
					Detections:    jsii.Strings("unauthorized-api-calls", "root-account-usage"),
				}
			},
			wantSubscribed: true,
			wantPattern:    `{ $.errorCode = "AccessDenied" }`,
			wantDetections: "unauthorized-api-calls,root-account-usage",
			wantCondition:  true,
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
			stack := newStack()
			bus := activitybus.New(stack, jsii.String("ActivityBus"), nil)
			props := tt.props(stack)
			props.Bus = bus.EventBus()
			// WHEN
			src := cloudtrailsource.New(stack, jsii.String("Source"), props)
			// THEN
			_, raw := synth(t, stack)
			busID := logicalID(t, raw, "AWS::Events::EventBus")
			queueID := logicalID(t, raw, "AWS::SQS::Queue")
			fnID := logicalID(t, raw, "AWS::Lambda::Function")

			fn := only(t, raw, "AWS::Lambda::Function")
			wantEnv := map[string]any{
				"EVENT_BUS_NAME":       ref(busID),
				"DETECTIONS":           tt.wantDetections,
				"PUT_EVENTS_MAX_BYTES": "262144",
			}
			if got := get(fn, "Properties", "Environment", "Variables"); !reflect.DeepEqual(got, wantEnv) {
				t.Errorf("environment = %v, want %v", got, wantEnv)
			}
			cfg := get(only(t, raw, "AWS::Lambda::EventInvokeConfig"), "Properties")
			if get(cfg, "MaximumRetryAttempts") != 2.0 || get(cfg, "MaximumEventAgeInSeconds") != 21600.0 ||
				!reflect.DeepEqual(get(cfg, "DestinationConfig", "OnFailure", "Destination"), getAtt(queueID, "Arn")) {
				t.Errorf("event invoke config = %v", cfg)
			}
			queue := get(only(t, raw, "AWS::SQS::Queue"), "Properties")
			if get(queue, "SqsManagedSseEnabled") != true {
				t.Errorf("failure queue not encrypted: %v", queue)
			}
			assertTLSOnly(t, raw, queueID)
			s := statementFor(t, raw, "events:PutEvents")
			if !reflect.DeepEqual(s["Resource"], getAtt(busID, "Arn")) {
				t.Errorf("PutEvents resource = %v, want the bus ARN", s["Resource"])
			}

			filters := resources(raw, "AWS::Logs::SubscriptionFilter")
			perms := resources(raw, "AWS::Lambda::Permission")
			if !tt.wantSubscribed {
				if len(filters) != 0 || len(perms) != 0 || src.SubscriptionFilter() != nil {
					t.Fatalf("want no subscription, got %d filters, %d permissions", len(filters), len(perms))
				}
				return
			}
			filter := only(t, raw, "AWS::Logs::SubscriptionFilter")
			perm := only(t, raw, "AWS::Lambda::Permission")
			logGroupName := get(filter, "Properties", "LogGroupName")
			if pattern := get(filter, "Properties", "FilterPattern"); pattern != tt.wantPattern {
				t.Errorf("filter pattern = %v, want %v", pattern, tt.wantPattern)
			}
			if !reflect.DeepEqual(get(filter, "Properties", "DestinationArn"), getAtt(fnID, "Arn")) {
				t.Errorf("filter destination = %v", get(filter, "Properties", "DestinationArn"))
			}
			wantSourceArn := map[string]any{"Fn::Join": []any{"", []any{
				"arn:", ref("AWS::Partition"), ":logs:", ref("AWS::Region"), ":", ref("AWS::AccountId"),
				":log-group:", logGroupName, ":*",
			}}}
			if logGroupName == "CloudTrail/DefaultLogGroup" {
				wantSourceArn = map[string]any{"Fn::Join": []any{"", []any{
					"arn:", ref("AWS::Partition"), ":logs:", ref("AWS::Region"), ":", ref("AWS::AccountId"),
					":log-group:CloudTrail/DefaultLogGroup:*",
				}}}
			}
			wantPerm := map[string]any{
				"Action":       "lambda:InvokeFunction",
				"FunctionName": getAtt(fnID, "Arn"),
				"Principal": map[string]any{"Fn::Join": []any{"", []any{
					"logs.", ref("AWS::Region"), ".", ref("AWS::URLSuffix")}}},
				"SourceArn":     wantSourceArn,
				"SourceAccount": ref("AWS::AccountId"),
			}
			if got := perm["Properties"]; !reflect.DeepEqual(got, wantPerm) {
				t.Errorf("permission = %v\nwant %v", got, wantPerm)
			}
			permID := logicalID(t, raw, "AWS::Lambda::Permission")
			if deps := fmt.Sprint(filter["DependsOn"]); !strings.Contains(deps, permID) {
				t.Errorf("filter depends on %s, want the permission %s", deps, permID)
			}
			if tt.wantCondition {
				if filter["Condition"] != "Subscribe" || perm["Condition"] != "Subscribe" {
					t.Errorf("conditions: filter %v, permission %v, want Subscribe", filter["Condition"], perm["Condition"])
				}
				if !reflect.DeepEqual(logGroupName, ref("LogGroupName")) {
					t.Errorf("filter log group = %v, want the parameter", logGroupName)
				}
			}
		})
	}
}

// assertTLSOnly checks that queueID's policy denies requests without TLS.
func assertTLSOnly(t *testing.T, tpl map[string]any, queueID string) {
	t.Helper()
	for _, p := range resources(tpl, "AWS::SQS::QueuePolicy") {
		if !reflect.DeepEqual(get(p, "Properties", "Queues", 0), ref(queueID)) {
			continue
		}
		for _, s := range get(p, "Properties", "PolicyDocument", "Statement").([]any) {
			if get(s, "Effect") == "Deny" && get(s, "Condition", "Bool", "aws:SecureTransport") == "false" {
				return
			}
		}
	}
	t.Errorf("queue %s does not deny requests without TLS", queueID)
}

func TestCloudTrailSourceRefusesOwnLogGroup(t *testing.T) {
	// GIVEN a source whose function log group has a known name
	stack := newStack()
	bus := activitybus.New(stack, jsii.String("ActivityBus"), nil)
	const own = "/aws/lambda/activity-aware-ids-source"
	cloudtrailsource.New(stack, jsii.String("Source"), &cloudtrailsource.Props{
		Bus:          bus.EventBus(),
		LogGroupName: jsii.String(own),
		Function:     &gofunction.Props{LogGroupName: jsii.String(own)},
	})
	// WHEN the app is synthesized
	var got any
	func() {
		defer func() { got = recover() }()
		assertions.Template_FromStack(stack, nil)
	}()
	// THEN synthesis fails and says why
	if got == nil || !strings.Contains(fmt.Sprint(got), "refusing to subscribe the source to its own log group") {
		t.Fatalf("synthesis error = %v, want the own-log-group refusal", got)
	}
}

func TestCloudTrailSourceRuleAgainstOwnLogGroupParameter(t *testing.T) {
	// GIVEN a log group parameter and a function log group with a known name
	stack := newStack()
	bus := activitybus.New(stack, jsii.String("ActivityBus"), nil)
	name := awscdk.NewCfnParameter(stack, jsii.String("LogGroupName"), nil)
	const own = "/aws/lambda/activity-aware-ids-source"
	// WHEN
	cloudtrailsource.New(stack, jsii.String("Source"), &cloudtrailsource.Props{
		Bus:          bus.EventBus(),
		LogGroupName: name.ValueAsString(),
		Function:     &gofunction.Props{LogGroupName: jsii.String(own)},
	})
	// THEN CloudFormation refuses the parameter value at deployment
	_, raw := synth(t, stack)
	rules, _ := raw["Rules"].(map[string]any)
	want := map[string]any{"Fn::Not": []any{map[string]any{"Fn::Equals": []any{ref("LogGroupName"), own}}}}
	for _, r := range rules {
		if reflect.DeepEqual(get(r, "Assertions", 0, "Assert"), want) {
			return
		}
	}
	t.Fatalf("rules = %v, want an assertion %v", rules, want)
}

func TestSlackDestination(t *testing.T) {
	tests := []struct {
		name        string
		props       func(awscdk.Stack) *slackdestination.Props
		wantNewKey  bool
		wantPattern map[string]any
		wantEnv     map[string]any
		wantDecode  bool
		wantConc    float64
	}{
		{
			name: "new secret from a NoEcho parameter, defaults",
			props: func(s awscdk.Stack) *slackdestination.Props {
				url := awscdk.NewCfnParameter(s, jsii.String("Url"), &awscdk.CfnParameterProps{NoEcho: jsii.Bool(true)})
				return &slackdestination.Props{WebhookURL: awscdk.SecretValue_CfnParameter(url)}
			},
			wantNewKey: true,
			wantPattern: map[string]any{
				"source":      []any{map[string]any{"prefix": "activity-aware-ids."}},
				"detail-type": []any{"Activity"},
			},
			wantEnv: map[string]any{
				"SECRET_CACHE_TTL":              "5m0s",
				"DECODE_AUTHORIZATION_MESSAGES": "false",
			},
			wantConc: 2,
		},
		{
			name: "existing secret, narrowed to critical activities of one account",
			props: func(s awscdk.Stack) *slackdestination.Props {
				secret := awssecretsmanager.Secret_FromSecretCompleteArn(s, jsii.String("Existing"),
					jsii.String("arn:aws:secretsmanager:eu-west-1:123456789012:secret:slack/critical-AbCdEf"))
				return &slackdestination.Props{
					WebhookSecret: secret,
					Detail: &map[string]any{
						"severity": []any{"critical"},
						"account":  map[string]any{"id": []any{"123456789012"}},
					},
					SecretCacheTTL:              awscdk.Duration_Minutes(jsii.Number(1)),
					DecodeAuthorizationMessages: jsii.Bool(true),
					ReservedConcurrency:         jsii.Number(1),
				}
			},
			wantPattern: map[string]any{
				"source":      []any{map[string]any{"prefix": "activity-aware-ids."}},
				"detail-type": []any{"Activity"},
				"detail": map[string]any{
					"severity": []any{"critical"},
					"account":  map[string]any{"id": []any{"123456789012"}},
				},
			},
			wantEnv: map[string]any{
				"SLACK_WEBHOOK_SECRET_ARN":      "arn:aws:secretsmanager:eu-west-1:123456789012:secret:slack/critical-AbCdEf",
				"SECRET_CACHE_TTL":              "1m0s",
				"DECODE_AUTHORIZATION_MESSAGES": "true",
			},
			wantDecode: true,
			wantConc:   1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// GIVEN
			stack := newStack()
			bus := activitybus.New(stack, jsii.String("ActivityBus"), nil)
			props := tt.props(stack)
			props.Bus = bus.EventBus()
			// WHEN
			dst := slackdestination.New(stack, jsii.String("Slack"), props)
			// THEN
			_, raw := synth(t, stack)
			busID := logicalID(t, raw, "AWS::Events::EventBus")
			fnID := logicalID(t, raw, "AWS::Lambda::Function")
			fn := only(t, raw, "AWS::Lambda::Function")

			secretArn := any(nil)
			if tt.wantNewKey {
				keyID := logicalID(t, raw, "AWS::KMS::Key")
				secretID := logicalID(t, raw, "AWS::SecretsManager::Secret")
				if get(only(t, raw, "AWS::KMS::Key"), "Properties", "EnableKeyRotation") != true {
					t.Error("key rotation disabled")
				}
				secret := get(only(t, raw, "AWS::SecretsManager::Secret"), "Properties")
				if !reflect.DeepEqual(get(secret, "KmsKeyId"), getAtt(keyID, "Arn")) {
					t.Errorf("secret KmsKeyId = %v, want the key", get(secret, "KmsKeyId"))
				}
				if !reflect.DeepEqual(get(secret, "SecretString"), ref("Url")) {
					t.Errorf("secret string = %v, want the NoEcho parameter", get(secret, "SecretString"))
				}
				secretArn = ref(secretID)
				tt.wantEnv["SLACK_WEBHOOK_SECRET_ARN"] = secretArn
				assertKeyDecryptFor(t, raw, keyID, fnID)
			} else {
				if len(resources(raw, "AWS::SecretsManager::Secret")) != 0 || len(resources(raw, "AWS::KMS::Key")) != 0 || dst.Key() != nil {
					t.Error("an existing secret must not create a secret or key")
				}
				secretArn = tt.wantEnv["SLACK_WEBHOOK_SECRET_ARN"]
			}
			if got := get(fn, "Properties", "Environment", "Variables"); !reflect.DeepEqual(got, tt.wantEnv) {
				t.Errorf("environment = %v, want %v", got, tt.wantEnv)
			}
			if got := get(fn, "Properties", "ReservedConcurrentExecutions"); got != tt.wantConc {
				t.Errorf("reserved concurrency = %v, want %v", got, tt.wantConc)
			}

			// Read access to this secret only.
			read := statementFor(t, raw, "secretsmanager:GetSecretValue")
			if !reflect.DeepEqual(read["Resource"], secretArn) {
				t.Errorf("GetSecretValue resource = %v, want %v", read["Resource"], secretArn)
			}
			// A `*` resource only for sts:DecodeAuthorizationMessage, and only
			// when asked for.
			var star []any
			for _, s := range statements(raw) {
				if s["Resource"] == "*" {
					star = append(star, s["Action"])
				}
			}
			wantStar := []any(nil)
			if tt.wantDecode {
				wantStar = []any{"sts:DecodeAuthorizationMessage"}
			}
			if !reflect.DeepEqual(star, wantStar) {
				t.Errorf("statements on *: %v, want %v", star, wantStar)
			}

			rule := get(only(t, raw, "AWS::Events::Rule"), "Properties")
			if !reflect.DeepEqual(get(rule, "EventPattern"), tt.wantPattern) {
				t.Errorf("rule pattern = %v, want %v", get(rule, "EventPattern"), tt.wantPattern)
			}
			if !reflect.DeepEqual(get(rule, "EventBusName"), ref(busID)) {
				t.Errorf("rule bus = %v", get(rule, "EventBusName"))
			}
			dlqID := findID(t, raw, "AWS::SQS::Queue", "DeadLetterQueue")
			failureID := findID(t, raw, "AWS::SQS::Queue", "FailureQueue")
			wantTarget := map[string]any{
				"Arn":              getAtt(fnID, "Arn"),
				"Id":               "Target0",
				"DeadLetterConfig": map[string]any{"Arn": getAtt(dlqID, "Arn")},
				"RetryPolicy":      map[string]any{"MaximumEventAgeInSeconds": 21600.0, "MaximumRetryAttempts": 20.0},
			}
			if got := get(rule, "Targets", 0); !reflect.DeepEqual(got, wantTarget) {
				t.Errorf("rule target = %v\nwant %v", got, wantTarget)
			}
			for _, q := range []string{dlqID, failureID} {
				if get(raw, "Resources", q, "Properties", "SqsManagedSseEnabled") != true {
					t.Errorf("queue %s not encrypted", q)
				}
				assertTLSOnly(t, raw, q)
			}
			assertEventsMaySend(t, raw, dlqID)
			cfg := get(only(t, raw, "AWS::Lambda::EventInvokeConfig"), "Properties")
			if !reflect.DeepEqual(get(cfg, "DestinationConfig", "OnFailure", "Destination"), getAtt(failureID, "Arn")) ||
				get(cfg, "MaximumRetryAttempts") != 2.0 {
				t.Errorf("event invoke config = %v", cfg)
			}
		})
	}
}

// findID returns the logical id of the resource of type typ whose id
// contains part.
func findID(t *testing.T, tpl map[string]any, typ, part string) string {
	t.Helper()
	for id := range resources(tpl, typ) {
		if strings.Contains(id, part) {
			return id
		}
	}
	t.Fatalf("no %s with %q in its id", typ, part)
	return ""
}

// assertEventsMaySend checks that EventBridge may send to the DLQ, from this
// stack's rules only.
func assertEventsMaySend(t *testing.T, tpl map[string]any, queueID string) {
	t.Helper()
	for _, p := range resources(tpl, "AWS::SQS::QueuePolicy") {
		for _, s := range get(p, "Properties", "PolicyDocument", "Statement").([]any) {
			if get(s, "Principal", "Service") == "events.amazonaws.com" && get(s, "Action") == "sqs:SendMessage" &&
				reflect.DeepEqual(get(s, "Resource"), getAtt(queueID, "Arn")) && get(s, "Condition", "ArnEquals", "aws:SourceArn") != nil {
				return
			}
		}
	}
	t.Errorf("DLQ %s has no policy statement letting the rule send to it", queueID)
}

// assertKeyDecryptFor checks that the key lets the function's role decrypt,
// through Secrets Manager only.
func assertKeyDecryptFor(t *testing.T, tpl map[string]any, keyID, fnID string) {
	t.Helper()
	roleArn := get(tpl, "Resources", fnID, "Properties", "Role")
	for _, s := range get(tpl, "Resources", keyID, "Properties", "KeyPolicy", "Statement").([]any) {
		if reflect.DeepEqual(get(s, "Principal", "AWS"), roleArn) && get(s, "Action") == "kms:Decrypt" &&
			get(s, "Condition", "StringEquals", "kms:ViaService") != nil {
			return
		}
	}
	t.Errorf("key policy does not grant kms:Decrypt via Secrets Manager to the function role %v", roleArn)
}

// TestGoFunctionBuildsByImportPathFromAnotherModule synthesizes, with real
// bundling, an app in a temporary module that requires this one through a
// replace directive: the function must compile by import path from there.
func TestGoFunctionBuildsByImportPathFromAnotherModule(t *testing.T) {
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("go toolchain not on PATH: %v", err)
	}
	dir := t.TempDir()
	writeConsumerModule(t, repo, dir)

	// One binary, run twice: the asset hash must not change when the handler
	// did not.
	build := exec.Command(goBin, "build", "-o", filepath.Join(dir, "consumer"), ".")
	build.Dir = dir
	build.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build consumer app: %v\n%s", err, out)
	}
	var hashes []string
	for i := range 2 {
		outdir := filepath.Join(dir, fmt.Sprintf("cdk.out.%d", i))
		run := exec.Command(filepath.Join(dir, "consumer"))
		run.Dir = dir
		run.Env = append(os.Environ(), "CDK_OUTDIR="+outdir)
		start := time.Now()
		if out, err := run.CombinedOutput(); err != nil {
			t.Fatalf("synthesize consumer app: %v\n%s", err, out)
		}
		t.Logf("synth %d with bundling: %v", i, time.Since(start).Round(time.Millisecond))
		hash, bootstrap := consumerAsset(t, outdir)
		hashes = append(hashes, hash)
		f, err := elf.Open(bootstrap)
		if err != nil {
			t.Fatalf("bootstrap is not an ELF binary: %v", err)
		}
		if f.Machine != elf.EM_AARCH64 {
			t.Errorf("bootstrap machine = %v, want EM_AARCH64", f.Machine)
		}
		f.Close()
		if fi, err := os.Stat(bootstrap); err == nil {
			t.Logf("bootstrap size: %d bytes", fi.Size())
		}
	}
	if hashes[0] != hashes[1] {
		t.Errorf("asset hash changed between identical builds: %s, %s", hashes[0], hashes[1])
	}
}

const consumerMain = `package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/activity-aware/ids/constructs/gofunction"
)

func main() {
	defer jsii.Close()
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("Consumer"), nil)
	gofunction.New(stack, jsii.String("Hello"), &gofunction.Props{
		ImportPath: jsii.String("github.com/activity-aware/ids/constructs/gofunction/testdata/hello"),
	})
	app.Synth(nil)
}
`

// writeConsumerModule writes a module in dir that requires this module
// (replaced by repo) with this module's own requirements.
func writeConsumerModule(t *testing.T, repo, dir string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repo, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	ours, err := modfile.Parse("go.mod", data, nil)
	if err != nil {
		t.Fatal(err)
	}
	mod := &modfile.File{}
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(mod.AddModuleStmt("example.com/consumer"))
	must(mod.AddGoStmt(ours.Go.Version))
	for _, r := range ours.Require {
		mod.AddNewRequire(r.Mod.Path, r.Mod.Version, true)
	}
	mod.AddNewRequire(ours.Module.Mod.Path, "v0.0.0-00010101000000-000000000000", false)
	must(mod.AddReplace(ours.Module.Mod.Path, "", repo, ""))
	mod.Cleanup()
	out, err := mod.Format()
	must(err)
	must(os.WriteFile(filepath.Join(dir, "go.mod"), out, 0o644))
	sum, err := os.ReadFile(filepath.Join(repo, "go.sum"))
	must(err)
	must(os.WriteFile(filepath.Join(dir, "go.sum"), sum, 0o644))
	must(os.WriteFile(filepath.Join(dir, "main.go"), []byte(consumerMain), 0o644))
}

// consumerAsset returns the function's asset hash and bootstrap path in the
// cloud assembly outdir.
func consumerAsset(t *testing.T, outdir string) (hash, bootstrap string) {
	t.Helper()
	var tpl map[string]any
	readJSON(t, filepath.Join(outdir, "Consumer.template.json"), &tpl)
	key, _ := get(only(t, tpl, "AWS::Lambda::Function"), "Properties", "Code", "S3Key").(string)
	hash = strings.TrimSuffix(key, ".zip")
	var assets struct {
		Files map[string]struct {
			Source struct{ Path string } `json:"source"`
		} `json:"files"`
	}
	readJSON(t, filepath.Join(outdir, "Consumer.assets.json"), &assets)
	asset, ok := assets.Files[hash]
	if !ok || asset.Source.Path == "" {
		t.Fatalf("no asset %q in the assembly", hash)
	}
	return hash, filepath.Join(outdir, asset.Source.Path, "bootstrap")
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
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
			name:      "every preset does not fit 1024 characters",
			props:     cloudtrailsource.Props{Detections: jsii.Strings(all...)},
			wantError: "broader",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// GIVEN
			stack := newStack()
			bus := activitybus.New(stack, jsii.String("ActivityBus"), nil)
			props := tt.props
			props.Bus = bus.EventBus()
			props.LogGroupName = jsii.String("CloudTrail/DefaultLogGroup")
			// WHEN
			cloudtrailsource.New(stack, jsii.String("Source"), &props)
			// THEN
			if tt.wantError != "" {
				var got any
				func() {
					defer func() { got = recover() }()
					assertions.Template_FromStack(stack, nil)
				}()
				if got == nil || !strings.Contains(fmt.Sprint(got), tt.wantError) {
					t.Fatalf("synthesis error = %v, want one mentioning %q", got, tt.wantError)
				}
				return
			}
			_, raw := synth(t, stack)
			if got := get(only(t, raw, "AWS::Logs::SubscriptionFilter"), "Properties", "FilterPattern"); got != tt.wantPattern {
				t.Fatalf("filter pattern = %v, want %v", got, tt.wantPattern)
			}
		})
	}
}
