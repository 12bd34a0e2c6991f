package slackdestination_test

import (
	"encoding/json"
	"github.com/activity-aware/ids/constructs/activitybus"
	corrstate "github.com/activity-aware/ids/constructs/correlation"
	"github.com/activity-aware/ids/constructs/gofunction"
	"github.com/activity-aware/ids/constructs/routing"
	"github.com/activity-aware/ids/constructs/slackdestination"
	"github.com/activity-aware/ids/internal/cdktest"
	"github.com/activity-aware/ids/internal/cfntemplate"
	"github.com/activity-aware/ids/internal/eventpattern"
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/jsii-runtime-go"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// teamSecretARN is an existing webhook secret.
const teamSecretARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:slack/team-AbCdEf"

// defaultEnv is the function's environment with an existing secret and the
// other settings left to their defaults.
func defaultEnv(secretARN string) map[string]any {
	return map[string]any{
		"SLACK_WEBHOOK_SECRET_ARN":      secretARN,
		"SECRET_CACHE_TTL":              "5m0s",
		"DECODE_AUTHORIZATION_MESSAGES": "false",
		"HEARTBEAT_ACCOUNT":             map[string]any{"Ref": "AWS::AccountId"},
		"PRODUCER_ACCOUNTS":             map[string]any{"Ref": "AWS::AccountId"},
	}
}

func TestSlackDestination(t *testing.T) {
	tests := []struct {
		name        string
		props       func(awscdk.Stack) *slackdestination.Props
		wantNewKey  bool
		wantPattern map[string]any
		wantEnv     map[string]any
		wantDecode  bool
		wantConc    any
		// wantUrgent and wantRest are the priority and the other rule's
		// detail patterns.
		wantUrgent, wantRest any
	}{
		{
			name: "new secret from a NoEcho parameter, defaults",
			props: func(s awscdk.Stack) *slackdestination.Props {
				url := awscdk.NewCfnParameter(s, jsii.String("Url"), &awscdk.CfnParameterProps{NoEcho: jsii.Bool(true)})
				return &slackdestination.Props{WebhookURL: awscdk.SecretValue_CfnParameter(url)}
			},
			wantNewKey: true,
			wantPattern: map[string]any{
				"source":      []any{map[string]any{"prefix": "activity-aware-ids."}},
				"detail-type": []any{"Activity"},
			},
			wantEnv: map[string]any{
				"SECRET_CACHE_TTL":              "5m0s",
				"DECODE_AUTHORIZATION_MESSAGES": "false",
				"HEARTBEAT_ACCOUNT":             map[string]any{"Ref": "AWS::AccountId"},
				// By default the stack's own account is the one producer.
				"PRODUCER_ACCOUNTS": map[string]any{"Ref": "AWS::AccountId"},
			},
			wantConc:   nil,
			wantUrgent: map[string]any{"severity": []any{"critical", "high"}},
			wantRest:   map[string]any{"severity": []any{map[string]any{"anything-but": []any{"critical", "high"}}}},
		},
		{
			name: "existing secret, narrowed to critical activities of one account",
			props: func(s awscdk.Stack) *slackdestination.Props {
				secret := awssecretsmanager.Secret_FromSecretCompleteArn(s, jsii.String("Existing"),
					jsii.String("arn:aws:secretsmanager:eu-west-1:123456789012:secret:slack/critical-AbCdEf"))
				return &slackdestination.Props{
					WebhookSecret: secret,
					Detail: &map[string]any{
						"severity": []any{"critical"},
						"account":  map[string]any{"id": []any{"123456789012"}},
					},
					SecretCacheTTL:              awscdk.Duration_Minutes(jsii.Number(1)),
					DecodeAuthorizationMessages: jsii.Bool(true),
					ProducerAccounts:            jsii.Strings("123456789012", "organization"),
					ReservedConcurrency:         jsii.Number(1),
				}
			},
			wantPattern: map[string]any{
				"source":      []any{map[string]any{"prefix": "activity-aware-ids."}},
				"detail-type": []any{"Activity"},
				"detail": map[string]any{
					"severity": []any{"critical"},
					"account":  map[string]any{"id": []any{"123456789012"}},
				},
			},
			wantEnv: map[string]any{
				"SLACK_WEBHOOK_SECRET_ARN":      "arn:aws:secretsmanager:eu-west-1:123456789012:secret:slack/critical-AbCdEf",
				"SECRET_CACHE_TTL":              "1m0s",
				"DECODE_AUTHORIZATION_MESSAGES": "true",
				"HEARTBEAT_ACCOUNT":             map[string]any{"Ref": "AWS::AccountId"},
				"PRODUCER_ACCOUNTS":             "123456789012,organization",
			},
			wantDecode: true,
			wantConc:   1.0,
			wantUrgent: map[string]any{"severity": []any{"critical"}, "account": map[string]any{"id": []any{"123456789012"}}},
			wantRest:   map[string]any{"severity": []any{"none"}, "account": map[string]any{"id": []any{"123456789012"}}},
		},
		{
			// The app mode's secret is the same secret; threads off is the
			// one setting it adds (on by default, so absent above).
			name: "existing secret, threads off",
			props: func(s awscdk.Stack) *slackdestination.Props {
				secret := awssecretsmanager.Secret_FromSecretCompleteArn(s, jsii.String("Existing"), jsii.String(teamSecretARN))
				return &slackdestination.Props{WebhookSecret: secret, Threads: jsii.Bool(false)}
			},
			wantPattern: map[string]any{
				"source":      []any{map[string]any{"prefix": "activity-aware-ids."}},
				"detail-type": []any{"Activity"},
			},
			wantEnv: func() map[string]any {
				env := defaultEnv(teamSecretARN)
				env["SLACK_THREADS"] = "false"
				return env
			}(),
			wantConc:   nil,
			wantUrgent: map[string]any{"severity": []any{"critical", "high"}},
			wantRest:   map[string]any{"severity": []any{map[string]any{"anything-but": []any{"critical", "high"}}}},
		},
		{
			name: "filter: medium and above of one account's CloudTrail activities",
			props: func(s awscdk.Stack) *slackdestination.Props {
				secret := awssecretsmanager.Secret_FromSecretCompleteArn(s, jsii.String("Existing"), jsii.String(teamSecretARN))
				return &slackdestination.Props{
					WebhookSecret: secret,
					Filter: &routing.Filter{
						MinSeverity: jsii.String("medium"),
						Accounts:    jsii.Strings("123456789012"),
						Sources:     jsii.Strings("cloudtrail"),
					},
				}
			},
			wantPattern: map[string]any{
				"source":      []any{"activity-aware-ids.cloudtrail"},
				"detail-type": []any{"Activity"},
			},
			wantEnv:    defaultEnv(teamSecretARN),
			wantConc:   nil,
			wantUrgent: map[string]any{"severity": []any{"critical", "high"}, "account": map[string]any{"id": []any{"123456789012"}}},
			wantRest:   map[string]any{"severity": []any{"medium"}, "account": map[string]any{"id": []any{"123456789012"}}},
		},
		{
			name: "filter: detection ids with the raw detail as the escape hatch",
			props: func(s awscdk.Stack) *slackdestination.Props {
				secret := awssecretsmanager.Secret_FromSecretCompleteArn(s, jsii.String("Existing"), jsii.String(teamSecretARN))
				return &slackdestination.Props{
					WebhookSecret: secret,
					Filter:        &routing.Filter{Detections: jsii.Strings("root-activity")},
					Detail:        &map[string]any{"severity": []any{"high", "low"}},
				}
			},
			wantPattern: map[string]any{
				"source":      []any{map[string]any{"prefix": "activity-aware-ids."}},
				"detail-type": []any{"Activity"},
			},
			wantEnv:    defaultEnv(teamSecretARN),
			wantConc:   nil,
			wantUrgent: map[string]any{"severity": []any{"high"}, "detections": map[string]any{"id": []any{"root-activity"}}},
			wantRest:   map[string]any{"severity": []any{"low"}, "detections": map[string]any{"id": []any{"root-activity"}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// GIVEN
			stack := cdktest.NewStack()
			bus := activitybus.New(stack, jsii.String("ActivityBus"), nil)
			props := tt.props(stack)
			props.Bus = bus.EventBus()
			// WHEN
			dst := slackdestination.New(stack, jsii.String("Slack"), props)
			// THEN
			_, raw := cdktest.Synth(t, stack)
			busID := cdktest.LogicalID(t, raw, "AWS::Events::EventBus")
			fnID := cdktest.LogicalID(t, raw, "AWS::Lambda::Function")
			fn := cdktest.Only(t, raw, "AWS::Lambda::Function")

			secretArn := any(nil)
			if tt.wantNewKey {
				keyID := cdktest.LogicalID(t, raw, "AWS::KMS::Key")
				secretID := cdktest.LogicalID(t, raw, "AWS::SecretsManager::Secret")
				if cdktest.Get(cdktest.Only(t, raw, "AWS::KMS::Key"), "Properties", "EnableKeyRotation") != true {
					t.Error("key rotation disabled")
				}
				secret := cdktest.Get(cdktest.Only(t, raw, "AWS::SecretsManager::Secret"), "Properties")
				if !reflect.DeepEqual(cdktest.Get(secret, "KmsKeyId"), cdktest.GetAtt(keyID, "Arn")) {
					t.Errorf("secret KmsKeyId = %v, want the key", cdktest.Get(secret, "KmsKeyId"))
				}
				if !reflect.DeepEqual(cdktest.Get(secret, "SecretString"), cdktest.Ref("Url")) {
					t.Errorf("secret string = %v, want the NoEcho parameter", cdktest.Get(secret, "SecretString"))
				}
				secretArn = cdktest.Ref(secretID)
				tt.wantEnv["SLACK_WEBHOOK_SECRET_ARN"] = secretArn
				assertKeyDecryptFor(t, raw, keyID, fnID)
				assertOnlyTheFunctionReads(t, raw, secretID, fnID)
			} else {
				if len(cdktest.Resources(raw, "AWS::SecretsManager::Secret")) != 0 || len(cdktest.Resources(raw, "AWS::KMS::Key")) != 0 || dst.Key() != nil {
					t.Error("an existing secret must not create a secret or key")
				}
				secretArn = tt.wantEnv["SLACK_WEBHOOK_SECRET_ARN"]
			}
			if got := cdktest.Get(fn, "Properties", "Environment", "Variables"); !reflect.DeepEqual(got, tt.wantEnv) {
				t.Errorf("environment = %v, want %v", got, tt.wantEnv)
			}
			if got := cdktest.Get(fn, "Properties", "ReservedConcurrentExecutions"); got != tt.wantConc {
				t.Errorf("reserved concurrency = %v, want %v", got, tt.wantConc)
			}

			// Read access to this secret only.
			read := cdktest.StatementFor(t, raw, "secretsmanager:GetSecretValue")
			if !reflect.DeepEqual(read["Resource"], secretArn) {
				t.Errorf("GetSecretValue resource = %v, want %v", read["Resource"], secretArn)
			}
			// A `*` resource only for sts:DecodeAuthorizationMessage, and only
			// when asked for.
			var star []any
			for _, s := range cdktest.Statements(raw) {
				if s["Resource"] == "*" {
					star = append(star, s["Action"])
				}
			}
			wantStar := []any(nil)
			if tt.wantDecode {
				wantStar = []any{"sts:DecodeAuthorizationMessage"}
			}
			if !reflect.DeepEqual(star, wantStar) {
				t.Errorf("statements on *: %v, want %v", star, wantStar)
			}

			paced := cdktest.AssertPaced(t, raw, "Slack", busID)
			if n := len(cdktest.Resources(raw, "AWS::Events::Rule")); n != 2 {
				t.Fatalf("want 2 rules (priority and the rest), got %d", n)
			}
			for q, detail := range map[string]any{paced.PriorityQueue: tt.wantUrgent, paced.Queue: tt.wantRest} {
				pattern := map[string]any{}
				for k, v := range tt.wantPattern {
					if k != "detail" {
						pattern[k] = v
					}
				}
				pattern["detail"] = detail
				if !reflect.DeepEqual(paced.Rules[q], pattern) {
					t.Errorf("rule pattern = %v, want %v", paced.Rules[q], pattern)
				}
			}
		})
	}
}

// assertKeyDecryptFor checks that the key lets the function's role decrypt,
// through Secrets Manager only.
func assertKeyDecryptFor(t *testing.T, tpl map[string]any, keyID, fnID string) {
	t.Helper()
	roleArn := cdktest.Get(tpl, "Resources", fnID, "Properties", "Role")
	for _, s := range cdktest.Get(tpl, "Resources", keyID, "Properties", "KeyPolicy", "Statement").([]any) {
		if reflect.DeepEqual(cdktest.Get(s, "Principal", "AWS"), roleArn) && cdktest.Get(s, "Action") == "kms:Decrypt" &&
			cdktest.Get(s, "Condition", "StringEquals", "kms:ViaService") != nil {
			return
		}
	}
	t.Errorf("key policy does not grant kms:Decrypt via Secrets Manager to the function role %v", roleArn)
}

func TestSlackDestinationRefusesOverriddenEnvironment(t *testing.T) {
	// GIVEN a user's function environment that sets one of the destination's variables
	stack := cdktest.NewStack()
	bus := activitybus.New(stack, jsii.String("ActivityBus"), nil)
	secret := awssecretsmanager.Secret_FromSecretNameV2(stack, jsii.String("Existing"), jsii.String("slack"))
	// WHEN
	slackdestination.New(stack, jsii.String("Slack"), &slackdestination.Props{
		Bus:           bus.EventBus(),
		WebhookSecret: secret,
		Function: &gofunction.Props{Environment: &map[string]*string{
			"SECRET_CACHE_TTL": jsii.String("0s"), "TZ_NAME": jsii.String("UTC"),
		}},
	})
	// THEN synthesis names it
	want := "slackdestination: Function.Environment sets SECRET_CACHE_TTL, which the destination sets itself"
	if err := cdktest.SynthError(stack); err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("synthesis error = %v, want %q", err, want)
	}
}

// assertOnlyTheFunctionReads checks the secret's resource policy: every
// principal but the function's role and CloudFormation's deploying role is
// denied secretsmanager:GetSecretValue, so an identity policy elsewhere in
// the account that grants secretsmanager:* cannot read the webhook URL.
func assertOnlyTheFunctionReads(t *testing.T, tpl map[string]any, secretID, fnID string) {
	t.Helper()
	policy := cdktest.Get(cdktest.Only(t, tpl, "AWS::SecretsManager::ResourcePolicy"), "Properties")
	if !reflect.DeepEqual(cdktest.Get(policy, "SecretId"), cdktest.Ref(secretID)) {
		t.Errorf("resource policy on %v, want the secret", cdktest.Get(policy, "SecretId"))
	}
	roleID := cdktest.LogicalID(t, tpl, "AWS::IAM::Role")
	if !reflect.DeepEqual(cdktest.Get(tpl, "Resources", fnID, "Properties", "Role"), cdktest.GetAtt(roleID, "Arn")) {
		t.Fatalf("the function's role is not %s", roleID)
	}
	want := map[string]any{
		"Sid":       "OnlyTheDestinationReadsTheWebhook",
		"Effect":    "Deny",
		"Principal": map[string]any{"AWS": "*"},
		"Action":    "secretsmanager:GetSecretValue",
		"Resource":  "*",
		"Condition": map[string]any{"ArnNotLike": map[string]any{"aws:PrincipalArn": []any{
			cdktest.GetAtt(roleID, "Arn"),
			map[string]any{"Fn::Join": []any{"", []any{"arn:", map[string]any{"Ref": "AWS::Partition"}, ":iam::", map[string]any{"Ref": "AWS::AccountId"}, ":role/cdk-*-cfn-exec-role-*"}}},
		}}},
	}
	statements := cdktest.Get(policy, "ResourcePolicy", "Statement").([]any)
	if len(statements) != 1 || !reflect.DeepEqual(statements[0], want) {
		t.Errorf("secret resource policy = %v\nwant %v", statements, want)
	}
}

// TestSlackDestinationNotificationPolicy: with a state table, the function
// is told the table, its name, window and group key, may use the table, and
// a rule runs it every minute to post the digests of ended windows.
func TestSlackDestinationNotificationPolicy(t *testing.T) {
	// GIVEN
	stack := cdktest.NewStack()
	bus := activitybus.New(stack, jsii.String("ActivityBus"), nil)
	state := corrstate.New(stack, jsii.String("State"), nil)
	url := awscdk.NewCfnParameter(stack, jsii.String("Url"), &awscdk.CfnParameterProps{NoEcho: jsii.Bool(true)})
	// WHEN
	slackdestination.New(stack, jsii.String("Critical"), &slackdestination.Props{
		Bus: bus.EventBus(), WebhookURL: awscdk.SecretValue_CfnParameter(url), State: state,
		NotifyWindow: awscdk.Duration_Minutes(jsii.Number(15)), GroupBy: jsii.Strings("principal", "source-ip"),
	})
	// THEN
	_, raw := cdktest.Synth(t, stack)
	tableID := cdktest.LogicalID(t, raw, "AWS::DynamoDB::Table")
	fnID := cdktest.LogicalID(t, raw, "AWS::Lambda::Function")
	env := cdktest.Get(cdktest.Only(t, raw, "AWS::Lambda::Function"), "Properties", "Environment", "Variables")
	for k, want := range map[string]any{
		"STATE_TABLE": cdktest.Ref(tableID), "DESTINATION_NAME": "Critical", "NOTIFY_WINDOW": "15m0s", "NOTIFY_GROUP_BY": "principal,source-ip",
	} {
		if got := cdktest.Get(env, k); !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %v, want %v", k, got, want)
		}
	}
	cdktest.AssertNotificationPolicy(t, raw, fnID, tableID, "Critical")
	stack2 := cdktest.NewStack()
	url2 := awscdk.NewCfnParameter(stack2, jsii.String("Url"), &awscdk.CfnParameterProps{NoEcho: jsii.Bool(true)})
	slackdestination.New(stack2, jsii.String("Bad"), &slackdestination.Props{
		Bus: activitybus.New(stack2, jsii.String("Bus"), nil).EventBus(), WebhookURL: awscdk.SecretValue_CfnParameter(url2),
		State: corrstate.New(stack2, jsii.String("S"), nil), GroupBy: jsii.Strings("colour"),
	})
	if err := cdktest.SynthError(stack2); err == nil || !strings.Contains(err.Error(), "colour") {
		t.Fatalf("an unknown group dimension synthesized: %v", err)
	}
}

// TestSlackDestinationMinimumSeverityParameter: a minimum severity that is a
// parameter's token splits into the two pacing rules through a mapping, so
// for every allowed value the two rules together take exactly the
// severities at or above it; at info the other rule keeps anything but the
// urgent ones, and the heartbeat canary passes above it.
func TestSlackDestinationMinimumSeverityParameter(t *testing.T) {
	// GIVEN a parameter restricted to the five severities
	stack := cdktest.NewStack()
	bus := activitybus.New(stack, jsii.String("ActivityBus"), nil)
	min := awscdk.NewCfnParameter(stack, jsii.String("Min"), &awscdk.CfnParameterProps{
		Default: jsii.String("info"), AllowedValues: jsii.Strings(routing.Severities...),
	})
	secret := awssecretsmanager.Secret_FromSecretNameV2(stack, jsii.String("Existing"), jsii.String("slack"))
	// WHEN
	dst := slackdestination.New(stack, jsii.String("Slack"), &slackdestination.Props{
		Bus:           bus.EventBus(),
		WebhookSecret: secret,
		Filter:        &routing.Filter{MinSeverity: min.ValueAsString(), Accounts: jsii.Strings("123456789012")},
	})
	// THEN
	_, raw := cdktest.Synth(t, stack)
	mapping, _ := cdktest.Get(raw, "Mappings", "SeverityClassesAtOrAbove").(map[string]any)
	if mapping == nil {
		t.Fatalf("no severity mapping: %v", cdktest.Get(raw, "Mappings"))
	}
	ruleID := func(r awsevents.IRule) string {
		return stack.Resolve(r.(awsevents.Rule).Node().DefaultChild().(awscdk.CfnElement).LogicalId()).(string)
	}
	urgent := cdktest.Get(raw, "Resources", ruleID(dst.PriorityRule()), "Properties", "EventPattern", "detail")
	rest := cdktest.Get(raw, "Resources", ruleID(dst.Rule()), "Properties", "EventPattern", "detail")
	for _, d := range []any{urgent, rest} {
		if !reflect.DeepEqual(cdktest.Get(d, "account"), map[string]any{"id": []any{"123456789012"}}) {
			t.Errorf("the account filter is lost: %v", d)
		}
	}
	split := func(key string) any {
		return map[string]any{"Fn::Split": []any{",", map[string]any{"Fn::FindInMap": []any{"SeverityClassesAtOrAbove", cdktest.Ref("Min"), key}}}}
	}
	if got := cdktest.Get(urgent, "severity"); !reflect.DeepEqual(got, split("Urgent")) {
		t.Errorf("priority rule severity = %v", got)
	}
	cond := ""
	for id := range cdktest.Get(raw, "Conditions").(map[string]any) {
		if strings.Contains(id, "AllSeverities") {
			cond = id
		}
	}
	if got := cdktest.Get(raw, "Conditions", cond); !reflect.DeepEqual(got, map[string]any{"Fn::Equals": []any{cdktest.Ref("Min"), "info"}}) {
		t.Errorf("condition %s = %v", cond, got)
	}
	wantOr := []any{
		map[string]any{"severity": map[string]any{"Fn::If": []any{cond,
			[]any{map[string]any{"anything-but": []any{"critical", "high"}}}, split("Rest")}}},
		map[string]any{"source": []any{"heartbeat"}, "tags": []any{"heartbeat"}},
	}
	if got := cdktest.Get(rest, "$or"); !reflect.DeepEqual(got, wantOr) || cdktest.Get(rest, "severity") != nil {
		t.Errorf("other rule detail = %v, want $or %v", rest, wantOr)
	}
	// As deployed for each allowed value: exactly one rule takes an
	// activity at or above the minimum, none one below it; a severity newer
	// than the five arrives at info only; the canary always arrives.
	tpl, err := json.Marshal(raw)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := cfntemplate.Parse(tpl)
	if err != nil {
		t.Fatal(err)
	}
	event := func(source, severity string, tags ...string) []byte {
		b, _ := json.Marshal(map[string]any{
			"source": "activity-aware-ids." + source, "detail-type": "Activity", "account": "123456789012",
			"detail": map[string]any{"source": source, "severity": severity, "account": map[string]any{"id": "123456789012"}, "tags": tags},
		})
		return b
	}
	for _, m := range routing.Severities {
		var rules []*eventpattern.Pattern
		for _, id := range []string{ruleID(dst.PriorityRule()), ruleID(dst.Rule())} {
			pattern, _ := json.Marshal(cdktest.Get(raw, "Resources", id, "Properties", "EventPattern"))
			resolved, err := parsed.ResolvePattern(pattern, map[string]string{"Min": m})
			if err != nil {
				t.Fatalf("minimum %s: rule %s: %v", m, id, err)
			}
			compiled, err := eventpattern.Compile(resolved)
			if err != nil {
				t.Fatalf("minimum %s: rule %s: %v", m, id, err)
			}
			rules = append(rules, compiled)
		}
		taken := func(e []byte) (n int) {
			for _, r := range rules {
				if ok, _ := r.Match(e); ok {
					n++
				}
			}
			return n
		}
		above, _ := routing.AtOrAbove(m)
		for _, sev := range append(slices.Clone(routing.Severities), "catastrophic") {
			want := 0
			if slices.Contains(above, sev) || (sev == "catastrophic" && m == "info") {
				want = 1
			}
			if got := taken(event("cloudtrail", sev)); got != want {
				t.Errorf("minimum %s: a %s activity is taken by %d rules, want %d", m, sev, got, want)
			}
		}
		if got := taken(event("heartbeat", "info", "heartbeat")); got != 1 {
			t.Errorf("minimum %s: the canary is taken by %d rules, want 1", m, got)
		}
	}

	// What each allowed value lets through, urgent and rest together.
	for _, m := range routing.Severities {
		want, _ := routing.AtOrAbove(m)
		var got []string
		for _, key := range []string{"Urgent", "Rest"} {
			for _, s := range strings.Split(cdktest.Get(mapping, m, key).(string), ",") {
				if s != "none" {
					got = append(got, s)
				}
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("minimum %s: the rules take %v, want %v", m, got, want)
		}
		for _, s := range strings.Split(cdktest.Get(mapping, m, "Urgent").(string), ",") {
			if s != "critical" && s != "high" {
				t.Errorf("minimum %s: %s in the priority queue", m, s)
			}
		}
	}
}

// TestSlackDestinationRefusesTwoRawDetails: Detail and Filter.Detail are one
// setting; both set is a synthesis error, not a silent choice.
func TestSlackDestinationRefusesTwoRawDetails(t *testing.T) {
	stack := cdktest.NewStack()
	bus := activitybus.New(stack, jsii.String("ActivityBus"), nil)
	secret := awssecretsmanager.Secret_FromSecretNameV2(stack, jsii.String("Existing"), jsii.String("slack"))
	slackdestination.New(stack, jsii.String("Slack"), &slackdestination.Props{
		Bus:           bus.EventBus(),
		WebhookSecret: secret,
		Detail:        &map[string]any{"severity": []any{"high"}},
		Filter:        &routing.Filter{Detail: &map[string]any{"severity": []any{"low"}}},
	})
	if err := cdktest.SynthError(stack); err == nil || !strings.Contains(err.Error(), "not both") {
		t.Errorf("synthesis error = %v, want one naming both details", err)
	}
}
