package main

import (
	"reflect"
	"testing"

	"github.com/activity-aware/ids/constructs/cloudtrailsource"
	"github.com/activity-aware/ids/internal/cdktest"
)

// TestTwoChannels synthesizes the example (without compiling its functions)
// and checks what it promises: one source on the named log group with the
// two presets' pattern, and two Slack channels, the on-call one reached by
// high and critical activities only.
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
	// Each channel paces through two queues, so it has two rules: critical
	// and high to its priority queue, the rest to its other queue. The
	// on-call channel's other rule matches no severity an activity has.
	rules := cdktest.Resources(raw, "AWS::Events::Rule")
	if len(rules) != 4 {
		t.Fatalf("want 4 rules (two per channel), got %d", len(rules))
	}
	severities := func(id string) any {
		return cdktest.Get(rules[id], "Properties", "EventPattern", "detail", "severity")
	}
	urgent := []any{"critical", "high"}
	want := map[string]any{
		"TeamChannelPriorityRule":   urgent,
		"TeamChannelRule":           []any{map[string]any{"anything-but": urgent}},
		"OnCallChannelPriorityRule": urgent,
		"OnCallChannelRule":         []any{"none"},
	}
	for prefix, sev := range want {
		var found int
		for id := range rules {
			if len(id) == len(prefix)+8 && id[:len(prefix)] == prefix {
				found++
				if got := severities(id); !reflect.DeepEqual(got, sev) {
					t.Errorf("rule %s severity = %v, want %v", id, got, sev)
				}
			}
		}
		if found != 1 {
			t.Errorf("%d rules named %s…, want 1", found, prefix)
		}
	}
	if n := len(cdktest.Resources(raw, "AWS::Lambda::Function")); n != 3 {
		t.Errorf("want 3 functions (one source, two destinations), got %d", n)
	}
}
