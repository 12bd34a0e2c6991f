package guarddutysource_test

import (
	"testing"

	"github.com/aws/jsii-runtime-go"

	"github.com/activity-aware/ids/constructs/activitybus"
	"github.com/activity-aware/ids/constructs/guarddutysource"
	"github.com/activity-aware/ids/internal/cdktest"
)

func TestGuardDutySource(t *testing.T) {
	// GIVEN a stack with an activity bus
	stack := cdktest.NewStack()
	bus := activitybus.New(stack, jsii.String("ActivityBus"), nil)
	// WHEN the GuardDuty source is added
	src := guarddutysource.New(stack, jsii.String("GuardDutySource"), &guarddutysource.Props{Bus: bus.EventBus()})
	// THEN a rule sends GuardDuty findings from the default bus to the
	// function, with a DLQ, retries and a failure queue
	_, raw := cdktest.Synth(t, stack)
	busID := cdktest.LogicalID(t, raw, "AWS::Events::EventBus")
	cdktest.AssertEventSource(t, raw, busID, "guardduty", map[string]any{
		"source":      []any{"aws.guardduty"},
		"detail-type": []any{"GuardDuty Finding"},
	})
	if len(src.Rules()) != 1 || src.Function() == nil || src.DeadLetterQueue() == nil || src.FailureQueue() == nil {
		t.Error("getters return nothing")
	}
}
