package emaildestination_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/jsii-runtime-go"

	"github.com/activity-aware/ids/constructs/activitybus"
	"github.com/activity-aware/ids/constructs/emaildestination"
	"github.com/activity-aware/ids/constructs/routing"
	"github.com/activity-aware/ids/internal/cdktest"
)

func TestEmailDestination(t *testing.T) {
	// GIVEN a condition and a minimum severity
	stack := cdktest.NewStack()
	bus := activitybus.New(stack, jsii.String("ActivityBus"), nil)
	cond := awscdk.NewCfnCondition(stack, jsii.String("HasEmail"), &awscdk.CfnConditionProps{
		Expression: awscdk.Fn_ConditionEquals(awscdk.Aws_REGION(), jsii.String("us-east-1")),
	})
	// WHEN
	d := emaildestination.New(stack, jsii.String("Email"), &emaildestination.Props{
		Bus: bus.EventBus(), Condition: cond, Filter: &routing.Filter{MinSeverity: jsii.String("high")},
	})
	// THEN the topic is encrypted under the new key, TLS only, without
	// subscriptions of ours
	_, raw := cdktest.Synth(t, stack)
	topicID := cdktest.LogicalID(t, raw, "AWS::SNS::Topic")
	keyID := cdktest.LogicalID(t, raw, "AWS::KMS::Key")
	if got := cdktest.Get(cdktest.Only(t, raw, "AWS::SNS::Topic"), "Properties", "KmsMasterKeyId"); !reflect.DeepEqual(got, map[string]any{"Fn::GetAtt": []any{keyID, "Arn"}}) {
		t.Errorf("topic key = %v", got)
	}
	if got := cdktest.Get(cdktest.Only(t, raw, "AWS::KMS::Key"), "Properties", "EnableKeyRotation"); got != true {
		t.Errorf("key rotation = %v", got)
	}
	if n := len(cdktest.Resources(raw, "AWS::SNS::Subscription")); n != 0 {
		t.Errorf("%d subscriptions", n)
	}
	policy := cdktest.Get(cdktest.Only(t, raw, "AWS::SNS::TopicPolicy"), "Properties", "PolicyDocument", "Statement").([]any)[0]
	if cdktest.Get(policy, "Effect") != "Deny" || !reflect.DeepEqual(cdktest.Get(policy, "Condition"), map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}}) {
		t.Errorf("topic policy %v does not deny plain HTTP", policy)
	}
	paced := cdktest.AssertPaced(t, raw, "Email", cdktest.LogicalID(t, raw, "AWS::Events::EventBus"))
	if !reflect.DeepEqual(paced.Urgent, map[string]any{"severity": []any{"critical", "high"}}) || !reflect.DeepEqual(paced.Rest, map[string]any{"severity": []any{"none"}}) {
		t.Errorf("severities: priority %v, rest %v", paced.Urgent, paced.Rest)
	}
	wantEnv := map[string]any{"EMAIL_TOPIC_ARN": cdktest.Ref(topicID), "PRODUCER_ACCOUNTS": cdktest.Ref("AWS::AccountId"), "HEARTBEAT_ACCOUNT": cdktest.Ref("AWS::AccountId")}
	if got := cdktest.Get(cdktest.Only(t, raw, "AWS::Lambda::Function"), "Properties", "Environment", "Variables"); !reflect.DeepEqual(got, wantEnv) {
		t.Errorf("environment = %v", got)
	}
	// sns:Publish on this topic only; the key for encrypting the message.
	if pub := cdktest.StatementFor(t, raw, "sns:Publish"); !reflect.DeepEqual(pub["Resource"], cdktest.Ref(topicID)) {
		t.Errorf("sns:Publish on %v", pub["Resource"])
	}
	if gen := cdktest.StatementFor(t, raw, "kms:GenerateDataKey"); !reflect.DeepEqual(gen["Resource"], map[string]any{"Fn::GetAtt": []any{keyID, "Arn"}}) {
		t.Errorf("kms:GenerateDataKey on %v", gen["Resource"])
	}
	for _, st := range cdktest.Statements(raw) {
		if strings.Contains(fmt.Sprint(st["Action"]), "*") {
			t.Errorf("wildcard action in %v", st)
		}
	}
	for id, r := range raw["Resources"].(map[string]any) {
		typ := cdktest.Get(r, "Type")
		if typ != "AWS::Events::EventBus" && typ != "AWS::Events::Archive" && cdktest.Get(r, "Condition") != "HasEmail" {
			t.Errorf("%s %s deployed without the condition", typ, id)
		}
	}
	if d.Topic() == nil || d.TopicKey() == nil || d.Secret() != nil {
		t.Error("topic, key or secret")
	}
}

func TestEmailDestinationExistingTopic(t *testing.T) {
	stack := cdktest.NewStack()
	bus := activitybus.New(stack, jsii.String("ActivityBus"), nil)
	const arn = "arn:aws:sns:us-east-1:123456789012:security-mail"
	d := emaildestination.New(stack, jsii.String("Email"), &emaildestination.Props{
		Bus: bus.EventBus(), Topic: awssns.Topic_FromTopicArn(stack, jsii.String("Existing"), jsii.String(arn)),
	})
	_, raw := cdktest.Synth(t, stack)
	if len(cdktest.Resources(raw, "AWS::KMS::Key")) != 0 || len(cdktest.Resources(raw, "AWS::SNS::Topic")) != 0 || d.TopicKey() != nil {
		t.Error("an existing topic must not create a topic or key")
	}
	if pub := cdktest.StatementFor(t, raw, "sns:Publish"); pub["Resource"] != arn {
		t.Errorf("sns:Publish on %v", pub["Resource"])
	}
}
