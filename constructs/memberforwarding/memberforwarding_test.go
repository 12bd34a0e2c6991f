package memberforwarding_test

import (
	"reflect"
	"sort"
	"testing"

	"github.com/aws/jsii-runtime-go"

	"github.com/activity-aware/ids/constructs/memberforwarding"
	"github.com/activity-aware/ids/internal/cdktest"
)

const central = "arn:aws:events:eu-west-1:111122223333:event-bus/Activity-Aware-IDS-ActivityBus"

func TestMemberForwarding(t *testing.T) {
	// GIVEN a member account's stack
	stack := cdktest.NewStack()
	// WHEN it forwards every event source to the central bus
	f := memberforwarding.New(stack, jsii.String("Forwarding"), &memberforwarding.Props{
		CentralBusArn: jsii.String(central),
		Sources:       jsii.Strings("cloudtrail-events", "guardduty", "securityhub", "accessanalyzer"),
	})
	// THEN one rule per source on the default bus sends to the central bus
	// with the one role and the dead-letter queue; CloudTrail's rule takes
	// all management events
	_, raw := cdktest.Synth(t, stack)
	rules := cdktest.Resources(raw, "AWS::Events::Rule")
	if len(rules) != 4 || len(f.Rules()) != 4 {
		t.Fatalf("%d rules, want 4", len(rules))
	}
	roleID := cdktest.LogicalID(t, raw, "AWS::IAM::Role")
	var sources []string
	for id, r := range rules {
		p := r["Properties"]
		if cdktest.Get(p, "EventBusName") != nil {
			t.Errorf("%s is not on the default bus", id)
		}
		target := cdktest.Get(p, "Targets", 0)
		if cdktest.Get(target, "Arn") != central || !reflect.DeepEqual(cdktest.Get(target, "RoleArn"), cdktest.GetAtt(roleID, "Arn")) || cdktest.Get(target, "DeadLetterConfig", "Arn") == nil {
			t.Errorf("%s target %v", id, target)
		}
		src := cdktest.Get(p, "EventPattern", "source", 0)
		if m, ok := src.(map[string]any); ok {
			src = m["prefix"]
			if cdktest.Get(p, "State") != "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS" {
				t.Errorf("CloudTrail rule state %v", cdktest.Get(p, "State"))
			}
		}
		sources = append(sources, src.(string))
	}
	sort.Strings(sources)
	if want := []string{"aws.", "aws.access-analyzer", "aws.guardduty", "aws.securityhub"}; !reflect.DeepEqual(sources, want) {
		t.Errorf("sources %v, want %v", sources, want)
	}
	// AND the role may put events on the central bus only, assumed by
	// EventBridge only
	statements := cdktest.Statements(raw)
	if len(statements) != 1 || statements[0]["Action"] != "events:PutEvents" || statements[0]["Resource"] != central {
		t.Errorf("role statements %v", statements)
	}
	trust := cdktest.Get(cdktest.Only(t, raw, "AWS::IAM::Role"), "Properties", "AssumeRolePolicyDocument", "Statement", 0, "Principal", "Service")
	if trust != "events.amazonaws.com" {
		t.Errorf("role trusts %v", trust)
	}
	cdktest.AssertTLSOnly(t, raw, cdktest.LogicalID(t, raw, "AWS::SQS::Queue"))
}

func TestDetailTypes(t *testing.T) {
	got := memberforwarding.DetailTypes([]string{"cloudtrail-logs", "guardduty", "cloudtrail-events"})
	want := []string{"GuardDuty Finding", "AWS API Call via CloudTrail", "AWS Console Sign In via CloudTrail", "AWS Console Signin via CloudTrail"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%v, want %v", got, want)
	}
}
