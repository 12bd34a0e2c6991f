package pagerdutydestination_test

import (
	"reflect"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/jsii-runtime-go"

	"github.com/activity-aware/ids/constructs/activitybus"
	"github.com/activity-aware/ids/constructs/pagerdutydestination"
	"github.com/activity-aware/ids/constructs/routing"
	"github.com/activity-aware/ids/internal/cdktest"
)

func TestPagerDutyDestination(t *testing.T) {
	// GIVEN a NoEcho routing key parameter, gated by a condition
	stack := cdktest.NewStack()
	bus := activitybus.New(stack, jsii.String("ActivityBus"), nil)
	key := awscdk.NewCfnParameter(stack, jsii.String("Key"), &awscdk.CfnParameterProps{NoEcho: jsii.Bool(true), Default: jsii.String("")})
	cond := awscdk.NewCfnCondition(stack, jsii.String("HasKey"), &awscdk.CfnConditionProps{
		Expression: awscdk.Fn_ConditionNot(awscdk.Fn_ConditionEquals(key.ValueAsString(), jsii.String(""))),
	})
	// WHEN, with the default filter and the EU endpoint
	d := pagerdutydestination.New(stack, jsii.String("PagerDuty"), &pagerdutydestination.Props{
		Bus: bus.EventBus(), RoutingKey: awscdk.SecretValue_CfnParameter(key), Condition: cond,
		EventsURL: jsii.String("https://events.eu.pagerduty.com/v2/enqueue"),
	})
	// THEN only high and critical activities page
	_, raw := cdktest.Synth(t, stack)
	secretID := cdktest.LogicalID(t, raw, "AWS::SecretsManager::Secret")
	paced := cdktest.AssertPaced(t, raw, "PagerDuty", cdktest.LogicalID(t, raw, "AWS::Events::EventBus"))
	if !reflect.DeepEqual(paced.Urgent, map[string]any{"severity": []any{"critical", "high"}}) || !reflect.DeepEqual(paced.Rest, map[string]any{"severity": []any{"none"}}) {
		t.Errorf("severities: priority %v, rest %v", paced.Urgent, paced.Rest)
	}
	if got := cdktest.Get(cdktest.Only(t, raw, "AWS::SecretsManager::Secret"), "Properties", "SecretString"); !reflect.DeepEqual(got, cdktest.Ref("Key")) {
		t.Errorf("secret string = %v, want the NoEcho parameter", got)
	}
	wantEnv := map[string]any{
		"PAGERDUTY_SECRET_ARN": cdktest.Ref(secretID), "SECRET_CACHE_TTL": "5m0s",
		"PAGERDUTY_EVENTS_URL": "https://events.eu.pagerduty.com/v2/enqueue",
		// By default the stack's own account is the one producer.
		"PRODUCER_ACCOUNTS": cdktest.Ref("AWS::AccountId"),
		"HEARTBEAT_ACCOUNT": cdktest.Ref("AWS::AccountId"),
	}
	if got := cdktest.Get(cdktest.Only(t, raw, "AWS::Lambda::Function"), "Properties", "Environment", "Variables"); !reflect.DeepEqual(got, wantEnv) {
		t.Errorf("environment = %v", got)
	}
	if read := cdktest.StatementFor(t, raw, "secretsmanager:GetSecretValue"); !reflect.DeepEqual(read["Resource"], cdktest.Ref(secretID)) {
		t.Errorf("GetSecretValue on %v", read["Resource"])
	}
	for id, r := range raw["Resources"].(map[string]any) {
		typ := cdktest.Get(r, "Type")
		if typ != "AWS::Events::EventBus" && typ != "AWS::Events::Archive" && cdktest.Get(r, "Condition") != "HasKey" {
			t.Errorf("%s %s deployed without the condition", typ, id)
		}
	}
	if d.Key() == nil || d.Secret() == nil {
		t.Error("no key or secret")
	}
}

func TestPagerDutyDestinationExistingSecretRouted(t *testing.T) {
	stack := cdktest.NewStack()
	bus := activitybus.New(stack, jsii.String("ActivityBus"), nil)
	secret := awssecretsmanager.Secret_FromSecretNameV2(stack, jsii.String("Existing"), jsii.String("pagerduty"))
	d := pagerdutydestination.New(stack, jsii.String("PagerDuty"), &pagerdutydestination.Props{
		Bus: bus.EventBus(), Secret: secret,
		Filter: &routing.Filter{MinSeverity: jsii.String("critical"), Accounts: jsii.Strings("123456789012")},
	})
	_, raw := cdktest.Synth(t, stack)
	account := map[string]any{"id": []any{"123456789012"}}
	paced := cdktest.AssertPaced(t, raw, "PagerDuty", cdktest.LogicalID(t, raw, "AWS::Events::EventBus"))
	if want := map[string]any{"severity": []any{"critical"}, "account": account}; !reflect.DeepEqual(paced.Urgent, want) {
		t.Errorf("priority detail pattern = %v, want %v", paced.Urgent, want)
	}
	if want := map[string]any{"severity": []any{"none"}, "account": account}; !reflect.DeepEqual(paced.Rest, want) {
		t.Errorf("other detail pattern = %v, want %v", paced.Rest, want)
	}
	if len(cdktest.Resources(raw, "AWS::KMS::Key")) != 0 || d.Key() != nil {
		t.Error("an existing secret must not create a key")
	}
}
