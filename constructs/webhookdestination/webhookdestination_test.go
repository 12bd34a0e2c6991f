package webhookdestination_test

import (
	"reflect"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/jsii-runtime-go"

	"github.com/activity-aware/ids/constructs/activitybus"
	"github.com/activity-aware/ids/constructs/routing"
	"github.com/activity-aware/ids/constructs/webhookdestination"
	"github.com/activity-aware/ids/internal/cdktest"
)

func TestWebhookDestinationNewSecretGated(t *testing.T) {
	// GIVEN a NoEcho URL parameter, a minimum-severity parameter and a condition on the URL
	stack := cdktest.NewStack()
	bus := activitybus.New(stack, jsii.String("ActivityBus"), nil)
	url := awscdk.NewCfnParameter(stack, jsii.String("Url"), &awscdk.CfnParameterProps{NoEcho: jsii.Bool(true), Default: jsii.String("")})
	minSev := awscdk.NewCfnParameter(stack, jsii.String("MinSeverity"), &awscdk.CfnParameterProps{Default: jsii.String("info")})
	cond := awscdk.NewCfnCondition(stack, jsii.String("HasWebhook"), &awscdk.CfnConditionProps{
		Expression: awscdk.Fn_ConditionNot(awscdk.Fn_ConditionEquals(url.ValueAsString(), jsii.String(""))),
	})
	// WHEN
	d := webhookdestination.New(stack, jsii.String("Webhook"), &webhookdestination.Props{
		Bus:       bus.EventBus(),
		URL:       url.ValueAsString(),
		Filter:    &routing.Filter{MinSeverity: minSev.ValueAsString()},
		Condition: cond,
	})
	// THEN
	_, raw := cdktest.Synth(t, stack)
	keyID := cdktest.LogicalID(t, raw, "AWS::KMS::Key")
	secretID := cdktest.LogicalID(t, raw, "AWS::SecretsManager::Secret")
	fnID := cdktest.LogicalID(t, raw, "AWS::Lambda::Function")
	secret := cdktest.Get(cdktest.Only(t, raw, "AWS::SecretsManager::Secret"), "Properties")
	wantGen := map[string]any{
		"SecretStringTemplate":    map[string]any{"Fn::Join": []any{"", []any{`{"url":"`, cdktest.Ref("Url"), `"}`}}},
		"GenerateStringKey":       "signingSecret",
		"PasswordLength":          48.0,
		"ExcludePunctuation":      true,
		"IncludeSpace":            false,
		"RequireEachIncludedType": true,
	}
	if got := cdktest.Get(secret, "GenerateSecretString"); !reflect.DeepEqual(got, wantGen) {
		t.Errorf("GenerateSecretString = %v\nwant %v", got, wantGen)
	}
	if cdktest.Get(secret, "SecretString") != nil {
		t.Error("the secret's value is in the template")
	}
	if !reflect.DeepEqual(cdktest.Get(secret, "KmsKeyId"), cdktest.GetAtt(keyID, "Arn")) {
		t.Errorf("secret KmsKeyId = %v", cdktest.Get(secret, "KmsKeyId"))
	}
	fn := cdktest.Only(t, raw, "AWS::Lambda::Function")
	wantEnv := map[string]any{"WEBHOOK_SECRET_ARN": cdktest.Ref(secretID), "SECRET_CACHE_TTL": "5m0s",
		// By default the stack's own account is the one producer.
		"PRODUCER_ACCOUNTS": cdktest.Ref("AWS::AccountId"), "HEARTBEAT_ACCOUNT": cdktest.Ref("AWS::AccountId")}
	if got := cdktest.Get(fn, "Properties", "Environment", "Variables"); !reflect.DeepEqual(got, wantEnv) {
		t.Errorf("environment = %v, want %v", got, wantEnv)
	}
	if read := cdktest.StatementFor(t, raw, "secretsmanager:GetSecretValue"); !reflect.DeepEqual(read["Resource"], cdktest.Ref(secretID)) {
		t.Errorf("GetSecretValue on %v", read["Resource"])
	}
	// The severity lists come from the stack's mapping at deploy time; the
	// heartbeat canary passes the other rule whatever the minimum.
	paced := cdktest.AssertPaced(t, raw, "Webhook", cdktest.LogicalID(t, raw, "AWS::Events::EventBus"))
	list := func(key string) any {
		return map[string]any{"Fn::Split": []any{",", map[string]any{"Fn::FindInMap": []any{"SeverityClassesAtOrAbove", cdktest.Ref("MinSeverity"), key}}}}
	}
	if got := cdktest.Get(paced.Urgent, "severity"); !reflect.DeepEqual(got, list("Urgent")) {
		t.Errorf("priority severity pattern = %v", got)
	}
	if got := cdktest.Get(paced.Rest, "$or", 1); !reflect.DeepEqual(got, map[string]any{"source": []any{"heartbeat"}, "tags": []any{"heartbeat"}}) {
		t.Errorf("the canary's way past the minimum = %v", got)
	}
	if got := cdktest.Get(raw, "Mappings", "SeverityClassesAtOrAbove", "medium"); !reflect.DeepEqual(got, map[string]any{"Urgent": "critical,high", "Rest": "medium"}) {
		t.Errorf("mapping medium = %v", got)
	}
	// Empty URL: nothing of the destination is deployed.
	for typ, rs := range resourcesByType(raw) {
		for id, r := range rs {
			if cdktest.Get(r, "Condition") != "HasWebhook" && typ != "AWS::Events::EventBus" && typ != "AWS::Events::Archive" && typ != "AWS::Events::EventBusPolicy" {
				t.Errorf("%s %s is deployed without the condition", typ, id)
			}
		}
	}
	if d.Key() == nil || d.Function() == nil || d.DeadLetterQueue() == nil || d.FailureQueue() == nil || d.Rule() == nil ||
		d.PriorityRule() == nil || d.Queue() == nil || d.PriorityQueue() == nil || d.LogGroup() == nil || d.Sweep() != nil {
		t.Error("a getter returns nil")
	}
	_ = fnID
}

func resourcesByType(tpl map[string]any) map[string]map[string]any {
	out := map[string]map[string]any{}
	for id, r := range tpl["Resources"].(map[string]any) {
		typ := cdktest.Get(r, "Type").(string)
		if out[typ] == nil {
			out[typ] = map[string]any{}
		}
		out[typ][id] = r
	}
	return out
}

func TestWebhookDestinationExistingSecretRouted(t *testing.T) {
	// GIVEN an existing secret and a filter in users' terms
	stack := cdktest.NewStack()
	bus := activitybus.New(stack, jsii.String("ActivityBus"), nil)
	const arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:hooks/soc-AbCdEf"
	secret := awssecretsmanager.Secret_FromSecretCompleteArn(stack, jsii.String("Existing"), jsii.String(arn))
	// WHEN
	d := webhookdestination.New(stack, jsii.String("Webhook"), &webhookdestination.Props{
		Bus:    bus.EventBus(),
		Secret: secret,
		Filter: &routing.Filter{
			MinSeverity: jsii.String("high"),
			Detections:  jsii.Strings("root-activity"),
			Sources:     jsii.Strings("cloudtrail"),
			Accounts:    jsii.Strings("123456789012"),
		},
	})
	// THEN
	_, raw := cdktest.Synth(t, stack)
	if len(cdktest.Resources(raw, "AWS::SecretsManager::Secret")) != 0 || len(cdktest.Resources(raw, "AWS::KMS::Key")) != 0 || d.Key() != nil {
		t.Error("an existing secret must not create a secret or key")
	}
	want := map[string]any{
		"source":      []any{"activity-aware-ids.cloudtrail"},
		"detail-type": []any{"Activity"},
		"detail": map[string]any{
			"severity":   []any{"critical", "high"},
			"detections": map[string]any{"id": []any{"root-activity"}},
			"account":    map[string]any{"id": []any{"123456789012"}},
		},
	}
	paced := cdktest.AssertPaced(t, raw, "Webhook", cdktest.LogicalID(t, raw, "AWS::Events::EventBus"))
	if got := paced.Rules[paced.PriorityQueue]; !reflect.DeepEqual(got, want) {
		t.Errorf("pattern = %v\nwant %v", got, want)
	}
	for _, r := range cdktest.Resources(raw, "AWS::Lambda::Function") {
		if cdktest.Get(r, "Condition") != nil {
			t.Error("no condition given, yet the function has one")
		}
	}
	if read := cdktest.StatementFor(t, raw, "secretsmanager:GetSecretValue"); read["Resource"] != arn {
		t.Errorf("GetSecretValue on %v", read["Resource"])
	}
}
