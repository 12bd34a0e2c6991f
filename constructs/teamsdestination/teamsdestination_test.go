package teamsdestination_test

import (
	"reflect"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/activity-aware/ids/constructs/activitybus"
	corrstate "github.com/activity-aware/ids/constructs/correlation"
	"github.com/activity-aware/ids/constructs/routing"
	"github.com/activity-aware/ids/constructs/teamsdestination"
	"github.com/activity-aware/ids/internal/cdktest"
)

func TestTeamsDestination(t *testing.T) {
	// GIVEN a NoEcho URL parameter gated by a condition, routed to medium
	// and above, with the stack's correlation state
	stack := cdktest.NewStack()
	bus := activitybus.New(stack, jsii.String("ActivityBus"), nil)
	state := corrstate.New(stack, jsii.String("State"), nil)
	url := awscdk.NewCfnParameter(stack, jsii.String("Url"), &awscdk.CfnParameterProps{NoEcho: jsii.Bool(true), Default: jsii.String("-")})
	cond := awscdk.NewCfnCondition(stack, jsii.String("HasTeams"), &awscdk.CfnConditionProps{
		Expression: awscdk.Fn_ConditionNot(awscdk.Fn_ConditionEquals(url.ValueAsString(), jsii.String("-"))),
	})
	// WHEN
	teamsdestination.New(stack, jsii.String("Teams"), &teamsdestination.Props{
		Bus: bus.EventBus(), WebhookURL: awscdk.SecretValue_CfnParameter(url), Condition: cond,
		Filter: &routing.Filter{MinSeverity: jsii.String("medium")}, State: state, DestinationName: jsii.String("teams"),
	})
	// THEN
	_, raw := cdktest.Synth(t, stack)
	secretID := cdktest.LogicalID(t, raw, "AWS::SecretsManager::Secret")
	if got := cdktest.Get(cdktest.Only(t, raw, "AWS::SecretsManager::Secret"), "Properties", "SecretString"); !reflect.DeepEqual(got, cdktest.Ref("Url")) {
		t.Errorf("secret string = %v", got)
	}
	tableID := cdktest.LogicalID(t, raw, "AWS::DynamoDB::Table")
	wantEnv := map[string]any{"TEAMS_WEBHOOK_SECRET_ARN": cdktest.Ref(secretID), "SECRET_CACHE_TTL": "5m0s", "PRODUCER_ACCOUNTS": cdktest.Ref("AWS::AccountId"),
		"HEARTBEAT_ACCOUNT": cdktest.Ref("AWS::AccountId"), "STATE_TABLE": cdktest.Ref(tableID), "DESTINATION_NAME": "teams",
		"NOTIFY_WINDOW": "10m0s", "NOTIFY_GROUP_BY": "principal,detection"}
	if got := cdktest.Get(cdktest.Only(t, raw, "AWS::Lambda::Function"), "Properties", "Environment", "Variables"); !reflect.DeepEqual(got, wantEnv) {
		t.Errorf("environment = %v", got)
	}
	paced := cdktest.AssertPaced(t, raw, "Teams", cdktest.LogicalID(t, raw, "AWS::Events::EventBus"))
	if !reflect.DeepEqual(paced.Urgent, map[string]any{"severity": []any{"critical", "high"}}) || !reflect.DeepEqual(paced.Rest, map[string]any{"severity": []any{"medium"}}) {
		t.Errorf("severities: priority %v, rest %v", paced.Urgent, paced.Rest)
	}
	cdktest.AssertNotificationPolicy(t, raw, paced.Function, tableID, "teams")
	if read := cdktest.StatementFor(t, raw, "secretsmanager:GetSecretValue"); !reflect.DeepEqual(read["Resource"], cdktest.Ref(secretID)) {
		t.Errorf("GetSecretValue on %v", read["Resource"])
	}
	for id, r := range raw["Resources"].(map[string]any) {
		typ := cdktest.Get(r, "Type")
		if typ != "AWS::Events::EventBus" && typ != "AWS::Events::Archive" && typ != "AWS::DynamoDB::Table" && cdktest.Get(r, "Condition") != "HasTeams" {
			t.Errorf("%s %s deployed without the condition", typ, id)
		}
	}
}
