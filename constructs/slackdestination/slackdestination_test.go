package slackdestination_test

import (
	"github.com/activity-aware/ids/constructs/activitybus"
	corrstate "github.com/activity-aware/ids/constructs/correlation"
	"github.com/activity-aware/ids/constructs/gofunction"
	"github.com/activity-aware/ids/constructs/slackdestination"
	"github.com/activity-aware/ids/internal/cdktest"
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/jsii-runtime-go"
	"reflect"
	"strings"
	"testing"
)

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

			dlqID := cdktest.FindID(t, raw, "AWS::SQS::Queue", "DeadLetterQueue")
			failureID := cdktest.FindID(t, raw, "AWS::SQS::Queue", "FailureQueue")
			priorityID := cdktest.FindID(t, raw, "AWS::SQS::Queue", "PriorityQueue")
			queueID := ""
			for id := range cdktest.Resources(raw, "AWS::SQS::Queue") {
				if id != dlqID && id != failureID && id != priorityID {
					queueID = id
				}
			}
			rules := cdktest.Resources(raw, "AWS::Events::Rule")
			if len(rules) != 2 {
				t.Fatalf("want 2 rules (priority and the rest), got %d", len(rules))
			}
			for _, r := range rules {
				rule := cdktest.Get(r, "Properties")
				target := cdktest.Get(rule, "Targets", 0)
				wantDetail := tt.wantRest
				if reflect.DeepEqual(cdktest.Get(target, "Arn"), cdktest.GetAtt(priorityID, "Arn")) {
					wantDetail = tt.wantUrgent
				} else if !reflect.DeepEqual(cdktest.Get(target, "Arn"), cdktest.GetAtt(queueID, "Arn")) {
					t.Errorf("rule target %v is neither pacing queue", target)
				}
				pattern := map[string]any{}
				for k, v := range tt.wantPattern {
					if k != "detail" {
						pattern[k] = v
					}
				}
				pattern["detail"] = wantDetail
				if !reflect.DeepEqual(cdktest.Get(rule, "EventPattern"), pattern) {
					t.Errorf("rule pattern = %v, want %v", cdktest.Get(rule, "EventPattern"), pattern)
				}
				if !reflect.DeepEqual(cdktest.Get(rule, "EventBusName"), cdktest.Ref(busID)) {
					t.Errorf("rule bus = %v", cdktest.Get(rule, "EventBusName"))
				}
				if !reflect.DeepEqual(cdktest.Get(target, "DeadLetterConfig"), map[string]any{"Arn": cdktest.GetAtt(dlqID, "Arn")}) ||
					!reflect.DeepEqual(cdktest.Get(target, "RetryPolicy"), map[string]any{"MaximumEventAgeInSeconds": 21600.0, "MaximumRetryAttempts": 20.0}) {
					t.Errorf("rule target = %v", target)
				}
			}
			for _, q := range []string{dlqID, failureID, queueID, priorityID} {
				if cdktest.Get(raw, "Resources", q, "Properties", "SqsManagedSseEnabled") != true {
					t.Errorf("queue %s not encrypted", q)
				}
				cdktest.AssertTLSOnly(t, raw, q)
			}
			for _, q := range []string{queueID, priorityID} {
				if got := cdktest.Get(raw, "Resources", q, "Properties", "RedrivePolicy"); !reflect.DeepEqual(got,
					map[string]any{"deadLetterTargetArn": cdktest.GetAtt(failureID, "Arn"), "maxReceiveCount": 10.0}) {
					t.Errorf("queue %s redrive = %v, want the failure queue", q, got)
				}
			}
			assertEventsMaySend(t, raw, dlqID)
			for _, m := range cdktest.Resources(raw, "AWS::Lambda::EventSourceMapping") {
				p := cdktest.Get(m, "Properties")
				if cdktest.Get(p, "ScalingConfig", "MaximumConcurrency") != 2.0 || cdktest.Get(p, "BatchSize") != 10.0 ||
					!reflect.DeepEqual(cdktest.Get(p, "FunctionResponseTypes"), []any{"ReportBatchItemFailures"}) {
					t.Errorf("event source mapping = %v", p)
				}
			}
			if n := len(cdktest.Resources(raw, "AWS::Lambda::EventSourceMapping")); n != 2 {
				t.Errorf("%d event source mappings, want one per queue", n)
			}
		})
	}
}

// assertEventsMaySend checks that EventBridge may send to the DLQ, from this
// stack's rules only.
func assertEventsMaySend(t *testing.T, tpl map[string]any, queueID string) {
	t.Helper()
	for _, p := range cdktest.Resources(tpl, "AWS::SQS::QueuePolicy") {
		for _, s := range cdktest.Get(p, "Properties", "PolicyDocument", "Statement").([]any) {
			if cdktest.Get(s, "Principal", "Service") == "events.amazonaws.com" && cdktest.Get(s, "Action") == "sqs:SendMessage" &&
				reflect.DeepEqual(cdktest.Get(s, "Resource"), cdktest.GetAtt(queueID, "Arn")) && cdktest.Get(s, "Condition", "ArnEquals", "aws:SourceArn") != nil {
				return
			}
		}
	}
	t.Errorf("DLQ %s has no policy statement letting the rule send to it", queueID)
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
	var sweep map[string]any
	for _, r := range cdktest.Resources(raw, "AWS::Events::Rule") {
		if cdktest.Get(r, "Properties", "ScheduleExpression") != nil {
			sweep = r
		}
	}
	if sweep == nil || cdktest.Get(sweep, "Properties", "ScheduleExpression") != "rate(1 minute)" ||
		!reflect.DeepEqual(cdktest.Get(sweep, "Properties", "Targets", 0, "Arn"), cdktest.GetAtt(fnID, "Arn")) {
		t.Fatalf("no minute sweep invoking the function: %v", sweep)
	}
	if st := cdktest.StatementFor(t, raw, "dynamodb:Query"); st == nil {
		t.Fatal("the function may not query the state table")
	}
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
