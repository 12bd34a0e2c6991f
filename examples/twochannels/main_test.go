package main

import (
	"reflect"
	"testing"

	"github.com/activity-aware/ids/constructs/cloudtrailsource"
	"github.com/activity-aware/ids/internal/cdktest"
)

// TestTwoChannels synthesizes the example (without compiling its functions)
// and checks what it promises: one source on the named log group with the
// two presets' pattern, and two Slack rules, one narrowed to high and
// critical activities.
func TestTwoChannels(t *testing.T) {
	// GIVEN / WHEN
	_, raw := cdktest.Synth(t, newStack(cdktest.NewApp(nil)))
	// THEN
	pattern, err := cloudtrailsource.FilterPatternFor([]string{"unauthorized-api-calls", "root-account-usage"})
	if err != nil {
		t.Fatal(err)
	}
	filter := cdktest.Get(cdktest.Only(t, raw, "AWS::Logs::SubscriptionFilter"), "Properties")
	if cdktest.Get(filter, "LogGroupName") != "CloudTrail/DefaultLogGroup" || cdktest.Get(filter, "FilterPattern") != pattern {
		t.Errorf("subscription filter = %v, want CloudTrail/DefaultLogGroup with %q", filter, pattern)
	}
	rules := cdktest.Resources(raw, "AWS::Events::Rule")
	if len(rules) != 2 {
		t.Fatalf("want 2 rules, got %d", len(rules))
	}
	var narrowed int
	for id, r := range rules {
		detail := cdktest.Get(r, "Properties", "EventPattern", "detail")
		switch {
		case detail == nil:
		case reflect.DeepEqual(detail, map[string]any{"severity": []any{"critical", "high"}}):
			narrowed++
		default:
			t.Errorf("rule %s detail = %v", id, detail)
		}
	}
	if narrowed != 1 {
		t.Errorf("%d rules narrowed to critical and high, want 1", narrowed)
	}
	if n := len(cdktest.Resources(raw, "AWS::Lambda::Function")); n != 3 {
		t.Errorf("want 3 functions (one source, two destinations), got %d", n)
	}
}
