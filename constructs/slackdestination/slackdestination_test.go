package slackdestination_test

import (
	"github.com/activity-aware/ids/constructs/activitybus"
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
		wantConc    float64
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
			wantConc: 2,
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
			wantConc:   1,
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

			rule := cdktest.Get(cdktest.Only(t, raw, "AWS::Events::Rule"), "Properties")
			if !reflect.DeepEqual(cdktest.Get(rule, "EventPattern"), tt.wantPattern) {
				t.Errorf("rule pattern = %v, want %v", cdktest.Get(rule, "EventPattern"), tt.wantPattern)
			}
			if !reflect.DeepEqual(cdktest.Get(rule, "EventBusName"), cdktest.Ref(busID)) {
				t.Errorf("rule bus = %v", cdktest.Get(rule, "EventBusName"))
			}
			dlqID := cdktest.FindID(t, raw, "AWS::SQS::Queue", "DeadLetterQueue")
			failureID := cdktest.FindID(t, raw, "AWS::SQS::Queue", "FailureQueue")
			wantTarget := map[string]any{
				"Arn":              cdktest.GetAtt(fnID, "Arn"),
				"Id":               "Target0",
				"DeadLetterConfig": map[string]any{"Arn": cdktest.GetAtt(dlqID, "Arn")},
				"RetryPolicy":      map[string]any{"MaximumEventAgeInSeconds": 21600.0, "MaximumRetryAttempts": 20.0},
			}
			if got := cdktest.Get(rule, "Targets", 0); !reflect.DeepEqual(got, wantTarget) {
				t.Errorf("rule target = %v\nwant %v", got, wantTarget)
			}
			for _, q := range []string{dlqID, failureID} {
				if cdktest.Get(raw, "Resources", q, "Properties", "SqsManagedSseEnabled") != true {
					t.Errorf("queue %s not encrypted", q)
				}
				cdktest.AssertTLSOnly(t, raw, q)
			}
			assertEventsMaySend(t, raw, dlqID)
			cfg := cdktest.Get(cdktest.Only(t, raw, "AWS::Lambda::EventInvokeConfig"), "Properties")
			if !reflect.DeepEqual(cdktest.Get(cfg, "DestinationConfig", "OnFailure", "Destination"), cdktest.GetAtt(failureID, "Arn")) ||
				cdktest.Get(cfg, "MaximumRetryAttempts") != 2.0 {
				t.Errorf("event invoke config = %v", cfg)
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
