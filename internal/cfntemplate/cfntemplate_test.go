package cfntemplate

import (
	"encoding/json"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// testdata/stack.template.json is a snapshot of the synthesized stack's
// functions, rule, bus, secret, queues, policies and subscription filter: it
// tests this reader only; the end-to-end suite synthesizes the stack afresh.

const (
	busName   = "local-activity-bus"
	busARN    = "arn:aws:events:us-east-1:111122223333:event-bus/local-activity-bus"
	secretARN = "arn:aws:secretsmanager:us-east-1:111122223333:secret:local-webhook-AbCdEf"
)

func load(t *testing.T) *Template {
	t.Helper()
	data, err := os.ReadFile("testdata/stack.template.json")
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	return tpl
}

func localValues(t *testing.T, tpl *Template) Values {
	t.Helper()
	bus, err := tpl.Only(TypeEventBus)
	if err != nil {
		t.Fatal(err)
	}
	secret, err := tpl.Only(TypeSecret)
	if err != nil {
		t.Fatal(err)
	}
	return Values{
		Refs:  map[string]string{bus: busName, secret: secretARN, "AWS::Region": "us-east-1", "AWS::AccountId": "111122223333"},
		Attrs: map[string]string{bus + ".Arn": busARN},
	}
}

func TestPipelineFromTemplate(t *testing.T) {
	tpl := load(t)
	vals := localValues(t, tpl)

	sourceID, err := tpl.SubscribedFunction()
	if err != nil {
		t.Fatal(err)
	}
	source, err := tpl.Function(sourceID, vals)
	if err != nil {
		t.Fatal(err)
	}
	if source.Env["EVENT_BUS_NAME"] != busName || source.Env["PUT_EVENTS_MAX_BYTES"] != "262144" {
		t.Fatalf("source env = %v", source.Env)
	}
	if source.Timeout != 60*time.Second || source.MemoryMB != 128 || source.LogFormat != "JSON" || source.LogLevel != "INFO" {
		t.Fatalf("source config = %+v", source)
	}
	puts, err := tpl.Allowed(source.RoleID, "events:PutEvents", vals)
	if err != nil || !slices.Equal(puts, []string{busARN}) {
		t.Fatalf("source may PutEvents on %v, %v; want the bus", puts, err)
	}

	var destID string
	for _, id := range tpl.OfType(TypeFunction) {
		if id != sourceID {
			destID = id
		}
	}
	rule, err := tpl.RuleTargeting(destID)
	if err != nil {
		t.Fatal(err)
	}
	if bus, _ := tpl.Only(TypeEventBus); rule.BusID != bus {
		t.Fatalf("rule on %q, want the bus %q", rule.BusID, bus)
	}
	var pattern map[string]any
	if err := json.Unmarshal(rule.Pattern, &pattern); err != nil || pattern["detail-type"] == nil {
		t.Fatalf("pattern %s: %v", rule.Pattern, err)
	}
	dest, err := tpl.Function(destID, vals)
	if err != nil {
		t.Fatal(err)
	}
	if dest.Env["SLACK_WEBHOOK_SECRET_ARN"] != secretARN || dest.Timeout != 30*time.Second {
		t.Fatalf("destination = %+v", dest)
	}
	reads, err := tpl.Allowed(dest.RoleID, "secretsmanager:GetSecretValue", vals)
	if err != nil || !slices.Equal(reads, []string{secretARN}) {
		t.Fatalf("destination may read %v, %v; want the secret", reads, err)
	}
}

func TestUnresolvedReferenceFails(t *testing.T) {
	tpl := load(t)
	vals := localValues(t, tpl)
	delete(vals.Refs, "ActivityBus7F826587")
	id, err := tpl.SubscribedFunction()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tpl.Function(id, vals); !errors.Is(err, ErrUnresolved) || !strings.Contains(err.Error(), "EVENT_BUS_NAME") {
		t.Fatalf("Function with the bus unknown = %v, want ErrUnresolved naming EVENT_BUS_NAME", err)
	}
}

func TestResolve(t *testing.T) {
	vals := Values{
		Refs:  map[string]string{"Bus": "b", "AWS::Region": "eu-west-1", "AWS::Partition": "aws"},
		Attrs: map[string]string{"Bus.Arn": "arn:aws:events:eu-west-1:1:event-bus/b"},
	}
	tests := []struct {
		raw     string
		want    string
		wantErr error
	}{
		{`"plain"`, "plain", nil},
		{`300`, "300", nil},
		{`{"Ref":"Bus"}`, "b", nil},
		{`{"Fn::GetAtt":["Bus","Arn"]}`, "arn:aws:events:eu-west-1:1:event-bus/b", nil},
		{`{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":x:",{"Ref":"AWS::Region"}]]}`, "arn:aws:x:eu-west-1", nil},
		{`{"Fn::Sub":"${Bus}/${AWS::Region}/${Bus.Arn}"}`, "b/eu-west-1/arn:aws:events:eu-west-1:1:event-bus/b", nil},
		{`{"Ref":"Renamed"}`, "", ErrUnresolved},
		{`{"Fn::GetAtt":["Bus","Name"]}`, "", ErrUnresolved},
		{`{"Fn::ImportValue":"x"}`, "", ErrUnresolved},
	}
	for _, tt := range tests {
		got, err := vals.Resolve(json.RawMessage(tt.raw))
		if tt.wantErr != nil {
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("Resolve(%s) = %q, %v; want %v", tt.raw, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Resolve(%s) = %q, %v; want %q", tt.raw, got, err, tt.want)
		}
	}
}

func TestResolvePattern(t *testing.T) {
	tpl, err := Parse([]byte(`{
		"Parameters": {"MinSeverity": {"Type": "String", "Default": "high"}},
		"Mappings": {"SeveritiesAtOrAbove": {"critical": {"List": "critical"}, "high": {"List": "critical,high"}}},
		"Resources": {"R": {"Type": "AWS::Events::Rule", "Properties": {}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	raw := json.RawMessage(`{"detail-type":["Activity"],"detail":{"severity":{"Fn::Split":[",",{"Fn::FindInMap":["SeveritiesAtOrAbove",{"Ref":"MinSeverity"},"List"]}]}}}`)
	for params, want := range map[string]string{
		"":         `{"detail":{"severity":["critical","high"]},"detail-type":["Activity"]}`,
		"critical": `{"detail":{"severity":["critical"]},"detail-type":["Activity"]}`,
	} {
		var p map[string]string
		if params != "" {
			p = map[string]string{"MinSeverity": params}
		}
		got, err := tpl.ResolvePattern(raw, p)
		if err != nil || string(got) != want {
			t.Errorf("ResolvePattern(%v) = %s, %v; want %s", p, got, err, want)
		}
	}
	if _, err := tpl.ResolvePattern(raw, map[string]string{"MinSeverity": "low"}); !errors.Is(err, ErrUnresolved) {
		t.Errorf("unknown key: %v", err)
	}
}

// TestResolvePatternCondition: Fn::If takes the branch its condition names
// for the parameters' values, through Fn::Not, Fn::And, Fn::Or and
// Condition.
func TestResolvePatternCondition(t *testing.T) {
	tpl, err := Parse([]byte(`{
		"Parameters": {"Min": {"Type": "String", "Default": "info"}, "Other": {"Type": "String", "Default": "x"}},
		"Conditions": {
			"All": {"Fn::Equals": [{"Ref": "Min"}, "info"]},
			"Some": {"Fn::And": [{"Fn::Not": [{"Condition": "All"}]}, {"Fn::Or": [{"Fn::Equals": [{"Ref": "Other"}, "x"]}, {"Fn::Equals": ["a", "b"]}]}]}
		},
		"Resources": {"R": {"Type": "AWS::Events::Rule", "Properties": {}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	raw := json.RawMessage(`{"a":{"Fn::If":["All",["all"],["some"]]},"b":{"Fn::If":["Some",["yes"],["no"]]}}`)
	for min, want := range map[string]string{
		"info": `{"a":["all"],"b":["no"]}`,
		"high": `{"a":["some"],"b":["yes"]}`,
	} {
		got, err := tpl.ResolvePattern(raw, map[string]string{"Min": min})
		if err != nil || string(got) != want {
			t.Errorf("Min=%s: ResolvePattern = %s, %v; want %s", min, got, err, want)
		}
	}
	if _, err := tpl.ResolvePattern(json.RawMessage(`{"a":{"Fn::If":["Nope",["x"],["y"]]}}`), nil); !errors.Is(err, ErrUnresolved) {
		t.Errorf("unknown condition: %v", err)
	}
}
