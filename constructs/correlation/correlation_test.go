package correlation_test

import (
	"reflect"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"

	corrstate "github.com/activity-aware/ids/constructs/correlation"
	"github.com/activity-aware/ids/correlation"
	"github.com/activity-aware/ids/internal/cdktest"
)

// TestState checks the state table (on demand, TTL on exp, encrypted, PITR,
// the due index package correlation queries) and that each grant names the
// table, and the due index only where the notification policy needs it.
func TestState(t *testing.T) {
	// GIVEN
	stack := cdktest.NewStack()
	role := func(id string) awsiam.Role {
		return awsiam.NewRole(stack, jsii.String(id), &awsiam.RoleProps{AssumedBy: awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil)})
	}
	// WHEN
	s := corrstate.New(stack, jsii.String("State"), nil)
	s.GrantSource(role("Source"))
	s.GrantDestination(role("Destination"))
	// THEN
	_, raw := cdktest.Synth(t, stack)
	tableID := cdktest.LogicalID(t, raw, "AWS::DynamoDB::Table")
	table := cdktest.Get(cdktest.Only(t, raw, "AWS::DynamoDB::Table"), "Properties")
	for path, want := range map[string]any{
		"BillingMode": "PAY_PER_REQUEST",
		"TTL":         correlation.AttrExpires,
		"PITR":        true,
		"SSE":         true,
		"Index":       correlation.DueIndex,
		"Projection":  "KEYS_ONLY",
	} {
		got := map[string]any{
			"BillingMode": cdktest.Get(table, "BillingMode"),
			"TTL":         cdktest.Get(table, "TimeToLiveSpecification", "AttributeName"),
			"PITR":        cdktest.Get(table, "PointInTimeRecoverySpecification", "PointInTimeRecoveryEnabled"),
			"SSE":         cdktest.Get(table, "SSESpecification", "SSEEnabled"),
			"Index":       cdktest.Get(table, "GlobalSecondaryIndexes", 0, "IndexName"),
			"Projection":  cdktest.Get(table, "GlobalSecondaryIndexes", 0, "Projection", "ProjectionType"),
		}[path]
		if got != want {
			t.Errorf("table %s = %v, want %v", path, got, want)
		}
	}
	keys := cdktest.Get(table, "KeySchema")
	if !reflect.DeepEqual(keys, []any{
		map[string]any{"AttributeName": "pk", "KeyType": "HASH"},
		map[string]any{"AttributeName": "sk", "KeyType": "RANGE"},
	}) {
		t.Errorf("key schema %v", keys)
	}
	arn := cdktest.GetAtt(tableID, "Arn")
	index := map[string]any{"Fn::Join": []any{"", []any{arn, "/index/due"}}}
	for _, tc := range []struct {
		action string
		want   any
	}{
		{"dynamodb:Query", []any{arn, index}},
	} {
		st := cdktest.StatementFor(t, raw, tc.action)
		if !reflect.DeepEqual(st["Resource"], tc.want) {
			t.Errorf("%s on %v, want %v", tc.action, st["Resource"], tc.want)
		}
	}
	// The source's statements: the table only, no query, and a delete of
	// its own claims only (a failed count releases them).
	var sourceStatements, deletes int
	for _, st := range cdktest.Statements(raw) {
		if reflect.DeepEqual(st["Action"], []any{"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"}) {
			sourceStatements++
			if !reflect.DeepEqual(st["Resource"], arn) {
				t.Errorf("source grant on %v, want the table", st["Resource"])
			}
		}
		if st["Action"] == "dynamodb:DeleteItem" {
			deletes++
			want := map[string]any{"ForAllValues:StringLike": map[string]any{"dynamodb:LeadingKeys": []any{"seen#*"}}}
			if !reflect.DeepEqual(st["Resource"], arn) || !reflect.DeepEqual(st["Condition"], want) {
				t.Errorf("delete on %v if %v, want the table if %v", st["Resource"], st["Condition"], want)
			}
		}
		if st["Resource"] == "*" {
			t.Errorf("statement %v", st)
		}
	}
	if sourceStatements != 1 || deletes != 1 {
		t.Errorf("%d source statements and %d deletes, want 1 and 1", sourceStatements, deletes)
	}
	if cdktest.Get(raw, "Resources", tableID, "DeletionPolicy") != "Delete" {
		t.Errorf("deletion policy %v", cdktest.Get(raw, "Resources", tableID, "DeletionPolicy"))
	}
}

func TestDurationEnv(t *testing.T) {
	stack := cdktest.NewStack()
	p := awscdk.NewCfnParameter(stack, jsii.String("Minutes"), &awscdk.CfnParameterProps{Type: jsii.String("Number")})
	if got := corrstate.DurationEnv(awscdk.Duration_Minutes(jsii.Number(10))); got != "10m0s" {
		t.Errorf("literal: %q", got)
	}
	got := corrstate.DurationEnv(awscdk.Duration_Minutes(p.ValueAsNumber()))
	if !*awscdk.Token_IsUnresolved(jsii.String(got)) || got[len(got)-1] != 'm' {
		t.Errorf("token: %q", got)
	}
}
