package activitybus_test

import (
	"github.com/activity-aware/ids/constructs/activitybus"
	"github.com/activity-aware/ids/constructs/gofunction"
	"github.com/activity-aware/ids/internal/cdktest"
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"reflect"
	"testing"
)

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
			stack := cdktest.NewStack()
			grantee := gofunction.New(stack, jsii.String("Producer"), &gofunction.Props{
				ImportPath: jsii.String("example.com/producer"),
			})
			// WHEN
			bus := activitybus.New(stack, jsii.String("ActivityBus"), tt.props)
			bus.GrantPut(grantee.Function())
			// THEN
			tpl, raw := cdktest.Synth(t, stack)
			busID := cdktest.LogicalID(t, raw, "AWS::Events::EventBus")
			cdktest.Check(t, func() {
				tpl.HasResourceProperties(jsii.String("AWS::Events::Archive"), map[string]any{
					"SourceArn":     cdktest.GetAtt(busID, "Arn"),
					"RetentionDays": tt.wantRetention,
					"EventPattern": map[string]any{
						"source":      []any{map[string]any{"prefix": "activity-aware-ids."}},
						"detail-type": []any{"Activity"},
					},
				})
			})
			s := cdktest.StatementFor(t, raw, "events:PutEvents")
			if !reflect.DeepEqual(s["Resource"], cdktest.GetAtt(busID, "Arn")) {
				t.Errorf("PutEvents resource = %v, want the bus ARN", s["Resource"])
			}
			policies := cdktest.Resources(raw, "AWS::Events::EventBusPolicy")
			if got := len(policies) > 0; got != tt.wantOrgPolicy {
				t.Fatalf("bus policy present = %v, want %v", got, tt.wantOrgPolicy)
			}
			// The organization may publish activities and nothing else: a
			// member cannot put an event that a rule for another source, or
			// another detail type, would match.
			wantCondition := map[string]any{
				"StringEquals": map[string]any{"aws:PrincipalOrgID": "o-a1b2c3d4e5", "events:detail-type": "Activity"},
				"StringLike":   map[string]any{"events:source": "activity-aware-ids.*"},
			}
			for _, p := range policies {
				st := cdktest.Get(p, "Properties", "Statement")
				cond := cdktest.Get(p, "Properties", "Statement", "Condition")
				if !reflect.DeepEqual(cond, wantCondition) {
					t.Errorf("bus policy condition = %v, want %v (statement %v)", cond, wantCondition, st)
				}
				if a := cdktest.Get(p, "Properties", "Statement", "Action"); a != "events:PutEvents" {
					t.Errorf("bus policy action = %v, want events:PutEvents only", a)
				}
			}
		})
	}
}
