package accessanalyzersource_test

import (
	"testing"

	"github.com/aws/jsii-runtime-go"

	"github.com/activity-aware/ids/constructs/accessanalyzersource"
	"github.com/activity-aware/ids/constructs/activitybus"
	"github.com/activity-aware/ids/internal/cdktest"
)

func TestAccessAnalyzerSource(t *testing.T) {
	// GIVEN a stack with an activity bus
	stack := cdktest.NewStack()
	bus := activitybus.New(stack, jsii.String("ActivityBus"), nil)
	// WHEN the IAM Access Analyzer source is added
	accessanalyzersource.New(stack, jsii.String("AccessAnalyzerSource"), &accessanalyzersource.Props{Bus: bus.EventBus()})
	// THEN a rule sends external, unused and internal access findings from
	// the default bus to the function, with a DLQ, retries and a failure queue
	_, raw := cdktest.Synth(t, stack)
	busID := cdktest.LogicalID(t, raw, "AWS::Events::EventBus")
	cdktest.AssertEventSource(t, raw, busID, "accessanalyzer", map[string]any{
		"source":      []any{"aws.access-analyzer"},
		"detail-type": []any{"Access Analyzer Finding", "Unused Access Finding for IAM entities", "Internal Access Finding"},
	})
}
