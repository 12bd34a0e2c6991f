package securityhubsource_test

import (
	"testing"

	"github.com/aws/jsii-runtime-go"

	"github.com/activity-aware/ids/constructs/activitybus"
	"github.com/activity-aware/ids/constructs/securityhubsource"
	"github.com/activity-aware/ids/internal/cdktest"
)

func TestSecurityHubSource(t *testing.T) {
	for _, skip := range []bool{false, true} {
		// GIVEN a stack with an activity bus
		stack := cdktest.NewStack()
		bus := activitybus.New(stack, jsii.String("ActivityBus"), nil)
		// WHEN the Security Hub source is added
		securityhubsource.New(stack, jsii.String("SecurityHubSource"), &securityhubsource.Props{Bus: bus.EventBus(), SkipGuardDuty: jsii.Bool(skip)})
		// THEN a rule sends imported findings from the default bus to the
		// function, which skips GuardDuty's when asked to
		_, raw := cdktest.Synth(t, stack)
		busID := cdktest.LogicalID(t, raw, "AWS::Events::EventBus")
		cdktest.AssertEventSource(t, raw, busID, "securityhub", map[string]any{
			"source":      []any{"aws.securityhub"},
			"detail-type": []any{"Security Hub Findings - Imported"},
		})
		fn := cdktest.Only(t, raw, "AWS::Lambda::Function")
		got := cdktest.Get(fn, "Properties", "Environment", "Variables", "SECURITYHUB_SKIP_PRODUCTS")
		if want := map[bool]any{false: nil, true: "GuardDuty"}[skip]; got != want {
			t.Errorf("skip %v: SECURITYHUB_SKIP_PRODUCTS = %v, want %v", skip, got, want)
		}
	}
}
