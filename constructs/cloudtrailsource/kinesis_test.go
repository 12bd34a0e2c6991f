package cloudtrailsource_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/activity-aware/ids/constructs/activitybus"
	"github.com/activity-aware/ids/constructs/cloudtrailsource"
	"github.com/activity-aware/ids/internal/cdktest"
)

// joined renders an Fn::Join of strings and references as text, each
// reference as ${Name}.
func joined(t *testing.T, v any) string {
	t.Helper()
	if s, ok := v.(string); ok {
		return s
	}
	parts := cdktest.Get(v.(map[string]any), "Fn::Join").([]any)[1].([]any)
	var b strings.Builder
	for _, p := range parts {
		switch p := p.(type) {
		case string:
			b.WriteString(p)
		case map[string]any:
			if ref, ok := p["Ref"]; ok {
				b.WriteString("${" + ref.(string) + "}")
			} else {
				b.WriteString("${" + p["Fn::GetAtt"].([]any)[0].(string) + "}")
			}
		}
	}
	return b.String()
}

func TestCloudTrailSourceKinesis(t *testing.T) {
	tests := []struct {
		name          string
		org           *string
		wantPrincipal any
		wantCondition any
	}{
		{"organization", jsii.String("o-abc123"), "*",
			map[string]any{"StringEquals": map[string]any{"aws:PrincipalOrgID": "o-abc123"}}},
		{"own account", nil, map[string]any{"AWS": "${AWS::AccountId}"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// GIVEN
			stack := cdktest.NewStack()
			bus := activitybus.New(stack, jsii.String("ActivityBus"), nil)
			// WHEN
			src := cloudtrailsource.New(stack, jsii.String("Source"), &cloudtrailsource.Props{
				Bus: bus.EventBus(), Kinesis: &cloudtrailsource.KinesisProps{OrganizationID: tt.org},
			})
			// THEN
			tpl, raw := cdktest.Synth(t, stack)
			if src.Stream() == nil || src.LogsDestination() == nil || src.StreamFailureQueue() == nil {
				t.Fatal("getters return nil")
			}
			streamID := cdktest.LogicalID(t, raw, "AWS::Kinesis::Stream")
			queueID := cdktest.FindID(t, raw, "AWS::SQS::Queue", "StreamFailureQueue")
			roleID := cdktest.FindID(t, raw, "AWS::IAM::Role", "LogsDestinationRole")
			cdktest.Check(t, func() {
				tpl.HasResourceProperties(jsii.String("AWS::Kinesis::Stream"), map[string]any{
					"StreamEncryption":     map[string]any{"EncryptionType": "KMS", "KeyId": "alias/aws/kinesis"},
					"ShardCount":           cloudtrailsource.DefaultShardCount,
					"RetentionPeriodHours": cloudtrailsource.DefaultStreamRetentionDays * 24,
				})
				tpl.HasResourceProperties(jsii.String("AWS::Lambda::EventSourceMapping"), map[string]any{
					"EventSourceArn":             map[string]any{"Fn::GetAtt": []any{streamID, "Arn"}},
					"BatchSize":                  cloudtrailsource.DefaultBatchSize,
					"BisectBatchOnFunctionError": true,
					"FunctionResponseTypes":      []any{"ReportBatchItemFailures"},
					"MaximumRetryAttempts":       cloudtrailsource.DefaultStreamRetryAttempts,
					"ParallelizationFactor":      cloudtrailsource.DefaultParallelizationFactor,
					"StartingPosition":           "TRIM_HORIZON",
					"DestinationConfig": map[string]any{"OnFailure": map[string]any{
						"Destination": map[string]any{"Fn::GetAtt": []any{queueID, "Arn"}}}},
				})
				tpl.HasResourceProperties(jsii.String("AWS::Logs::Destination"), map[string]any{
					"DestinationName": "Test-cloudtrail",
					"RoleArn":         map[string]any{"Fn::GetAtt": []any{roleID, "Arn"}},
					"TargetArn":       map[string]any{"Fn::GetAtt": []any{streamID, "Arn"}},
				})
				// CloudWatch Logs assumes the role, from this region only.
				tpl.HasResourceProperties(jsii.String("AWS::IAM::Role"), map[string]any{
					"AssumeRolePolicyDocument": assertions.Match_ObjectLike(&map[string]any{"Statement": []any{
						assertions.Match_ObjectLike(&map[string]any{"Principal": map[string]any{"Service": "logs.amazonaws.com"},
							"Condition": assertions.Match_ObjectLike(&map[string]any{"StringLike": assertions.Match_AnyValue()})}),
					}}),
				})
			})

			// The destination admits exactly the organization (or the
			// account) to subscribe, on this destination only.
			dest := cdktest.Only(t, raw, "AWS::Logs::Destination")
			var policy struct {
				Statement []map[string]any
			}
			text := joined(t, cdktest.Get(dest, "Properties", "DestinationPolicy"))
			if err := json.Unmarshal([]byte(text), &policy); err != nil {
				t.Fatalf("destination policy %s: %v", text, err)
			}
			if len(policy.Statement) != 1 {
				t.Fatalf("statements %v", policy.Statement)
			}
			st := policy.Statement[0]
			if st["Action"] != "logs:PutSubscriptionFilter" || st["Effect"] != "Allow" ||
				st["Resource"] != "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:destination:Test-cloudtrail" ||
				!reflect.DeepEqual(st["Principal"], tt.wantPrincipal) || !reflect.DeepEqual(st["Condition"], tt.wantCondition) {
				t.Errorf("destination statement %v", st)
			}

			// The role writes to the stream and nothing else.
			for _, s := range cdktest.Statements(raw) {
				res, _ := json.Marshal(s["Resource"])
				acts, _ := json.Marshal(s["Action"])
				if strings.Contains(string(acts), "kinesis:PutRecord") && !strings.Contains(string(res), streamID) {
					t.Errorf("PutRecord on %s", res)
				}
			}
		})
	}
}

func TestCloudTrailSourceWithoutKinesis(t *testing.T) {
	stack := cdktest.NewStack()
	bus := activitybus.New(stack, jsii.String("ActivityBus"), nil)
	src := cloudtrailsource.New(stack, jsii.String("Source"), &cloudtrailsource.Props{Bus: bus.EventBus()})
	_, raw := cdktest.Synth(t, stack)
	for _, typ := range []string{"AWS::Kinesis::Stream", "AWS::Logs::Destination", "AWS::Lambda::EventSourceMapping"} {
		if n := len(cdktest.Resources(raw, typ)); n != 0 {
			t.Errorf("%d %s", n, typ)
		}
	}
	if src.Stream() != nil || src.LogsDestination() != nil || src.StreamFailureQueue() != nil {
		t.Error("getters without Kinesis")
	}
}
