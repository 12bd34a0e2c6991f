// Package slackdestination provides the Slack destination: an EventBridge rule
// on the activity bus that invokes a Lambda function, which renders each
// activity as a Slack message and posts it to an incoming webhook whose URL
// it reads from a Secrets Manager secret under a customer-managed KMS key.
//
// Several destinations can share one bus: narrow each one's rule with
// Props.Detail to route, e.g., critical activities or one account's
// activities to their own channel.
package slackdestination

import (
	"strings"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdadestinations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/activity-aware/ids/constructs/activitybus"
	"github.com/activity-aware/ids/constructs/gofunction"
	"github.com/activity-aware/ids/constructs/internal/failurequeue"
	"github.com/activity-aware/ids/constructs/internal/synthcheck"
	"github.com/activity-aware/ids/destinations/slack"
)

// Defaults.
const (
	// ImportPath is the main package of the destination function.
	ImportPath = "github.com/activity-aware/ids/lambdas/slack-destination"
	// DefaultSecretCacheTTL is how long the function reuses the webhook URL
	// it read, so a rotated URL takes effect within minutes.
	DefaultSecretCacheTTL = slack.DefaultSecretCacheTTL
	// DefaultReservedConcurrency keeps bursts queued in Lambda's async queue
	// instead of tripping Slack's limit of about one message per second.
	DefaultReservedConcurrency = 2
	// DefaultTimeoutSeconds covers a webhook post with its retries.
	DefaultTimeoutSeconds = 30
	// DefaultMaxEventAgeHours bounds how long an activity may wait, in the
	// rule's and in the function's retry queue, before it goes to a DLQ.
	DefaultMaxEventAgeHours = 6
	// DefaultRuleRetryAttempts of the rule target before the activity goes
	// to the rule's dead-letter queue.
	DefaultRuleRetryAttempts = 20
	// RetryAttempts of a failed asynchronous invocation of the function.
	RetryAttempts = 2
)

// Props configures a Slack destination. Bus and exactly one of WebhookURL
// and WebhookSecret are required.
type Props struct {
	// Bus carries the activities.
	Bus awsevents.IEventBus
	// WebhookURL is stored in a new secret under a new rotating KMS key, e.g.
	// awscdk.SecretValue_CfnParameter of a NoEcho parameter.
	WebhookURL awscdk.SecretValue
	// WebhookSecret is an existing secret whose string is the webhook URL.
	WebhookSecret awssecretsmanager.ISecret
	// SecretName names the new secret (with WebhookURL). Default: a name
	// CloudFormation generates. Naming it after the stack lets the
	// self-protection detections recognize changes to it.
	SecretName *string
	// KeyAlias is an alias ("alias/...") for the new secret's KMS key (with
	// WebhookURL). Default: none.
	KeyAlias *string
	// Detail narrows the rule to activities whose detail matches, e.g.
	// {"severity": ["critical", "high"]} or {"account": {"id": ["123456789012"]}}.
	// Default: every activity.
	Detail *map[string]any
	// SecretCacheTTL is how long the function caches the webhook URL.
	// Default 5 minutes.
	SecretCacheTTL awscdk.Duration
	// ProducerAccounts are the accounts whose activities the destination
	// renders as alerts (account ids, or "organization" for any account the
	// bus's organization policy admits, each publishing about itself); any
	// other event on the bus is posted as an "unverified activity" notice.
	// Default: the stack's own account.
	ProducerAccounts *[]*string
	// DecodeAuthorizationMessages lets the function decode the encoded
	// authorization message of a denied call (sts:DecodeAuthorizationMessage)
	// and show why it was denied. Default false.
	DecodeAuthorizationMessages *bool
	// ReservedConcurrency of the function. Default 2.
	ReservedConcurrency *float64
	// MaxEventAge of an activity in the rule's and the function's retries.
	// Default 6 hours.
	MaxEventAge awscdk.Duration
	// RuleRetryAttempts of the rule target. Default 20.
	RuleRetryAttempts *float64
	// Function overrides the function's defaults (memory, timeout, log
	// retention, module dir, import path). Its Environment is merged with
	// the destination's own (a variable the destination sets is a synthesis
	// error); OnFailure, RetryAttempts, MaxEventAge and
	// ReservedConcurrentExecutions are set by this construct.
	Function *gofunction.Props
}

// Destination is a Slack destination.
type Destination interface {
	constructs.Construct
	// Function is the destination Lambda function.
	Function() awslambda.IFunction
	// LogGroup is the function's own log group.
	LogGroup() awslogs.ILogGroup
	// Secret holds the webhook URL.
	Secret() awssecretsmanager.ISecret
	// Key encrypts the secret; nil when an existing secret was passed in.
	Key() awskms.IKey
	// Rule routes activities from the bus to the function.
	Rule() awsevents.IRule
	// DeadLetterQueue keeps the activities the rule could not hand to the
	// function.
	DeadLetterQueue() awssqs.IQueue
	// FailureQueue keeps the activities the function failed to deliver after
	// every retry.
	FailureQueue() awssqs.IQueue
}

type destination struct {
	constructs.Construct
	fn           gofunction.Function
	secret       awssecretsmanager.ISecret
	key          awskms.IKey
	rule         awsevents.Rule
	dlq          awssqs.IQueue
	failureQueue awssqs.IQueue
}

func (d *destination) Function() awslambda.IFunction     { return d.fn.Function() }
func (d *destination) LogGroup() awslogs.ILogGroup       { return d.fn.LogGroup() }
func (d *destination) Secret() awssecretsmanager.ISecret { return d.secret }
func (d *destination) Key() awskms.IKey                  { return d.key }
func (d *destination) Rule() awsevents.IRule             { return d.rule }
func (d *destination) DeadLetterQueue() awssqs.IQueue    { return d.dlq }
func (d *destination) FailureQueue() awssqs.IQueue       { return d.failureQueue }

// New defines the destination's secret (unless given one), function, rule
// and queues.
func New(scope constructs.Construct, id *string, props *Props) Destination {
	if props == nil || props.Bus == nil {
		panic("slackdestination: Props.Bus is required")
	}
	if (props.WebhookURL == nil) == (props.WebhookSecret == nil) {
		panic("slackdestination: exactly one of Props.WebhookURL and Props.WebhookSecret is required")
	}
	p := *props
	if p.SecretCacheTTL == nil {
		p.SecretCacheTTL = awscdk.Duration_Seconds(jsii.Number(DefaultSecretCacheTTL.Seconds()))
	}
	if p.DecodeAuthorizationMessages == nil {
		p.DecodeAuthorizationMessages = jsii.Bool(false)
	}
	if p.ProducerAccounts == nil || len(*p.ProducerAccounts) == 0 {
		p.ProducerAccounts = &[]*string{awscdk.Aws_ACCOUNT_ID()}
	}
	if p.ReservedConcurrency == nil {
		p.ReservedConcurrency = jsii.Number(DefaultReservedConcurrency)
	}
	if p.MaxEventAge == nil {
		p.MaxEventAge = awscdk.Duration_Hours(jsii.Number(DefaultMaxEventAgeHours))
	}
	if p.RuleRetryAttempts == nil {
		p.RuleRetryAttempts = jsii.Number(DefaultRuleRetryAttempts)
	}
	fp := gofunction.WithDefaults(p.Function, gofunction.Props{
		ImportPath:  jsii.String(ImportPath),
		Timeout:     awscdk.Duration_Seconds(jsii.Number(DefaultTimeoutSeconds)),
		Description: jsii.String("Activity Aware IDS: activities from the bus to a Slack channel"),
	})

	c := constructs.NewConstruct(scope, id)
	d := &destination{Construct: c, secret: p.WebhookSecret}
	if d.secret == nil {
		d.key, d.secret = newSecret(c, p.WebhookURL, p.SecretName, p.KeyAlias)
	}

	d.failureQueue = failurequeue.New(c, jsii.String("FailureQueue"),
		"the activities the function failed to deliver to Slack after every retry")
	ttl := time.Duration(*p.SecretCacheTTL.ToSeconds(nil)) * time.Second
	var conflicts []string
	fp.Environment, conflicts = gofunction.MergeEnvironment(fp.Environment, slack.Config{
		WebhookSecretARN:            *d.secret.SecretArn(),
		SecretCacheTTL:              ttl,
		DecodeAuthorizationMessages: *p.DecodeAuthorizationMessages,
		// Only the stack's own account's canary is absorbed.
		HeartbeatAccount: *awscdk.Aws_ACCOUNT_ID(),
		ProducerAccounts: derefAll(*p.ProducerAccounts),
	}.Environment())
	if len(conflicts) > 0 {
		msg := "slackdestination: Function.Environment sets " + strings.Join(conflicts, ", ") +
			", which the destination sets itself"
		synthcheck.Add(c, func() []string { return []string{msg} })
	}
	fp.OnFailure = awslambdadestinations.NewSqsDestination(d.failureQueue)
	fp.RetryAttempts = jsii.Number(RetryAttempts)
	fp.MaxEventAge = p.MaxEventAge
	fp.ReservedConcurrentExecutions = p.ReservedConcurrency
	d.fn = gofunction.New(c, jsii.String("Function"), &fp)
	fn := d.fn.Function()
	d.secret.GrantRead(fn, nil)
	if d.key != nil {
		restrictSecret(d.secret, fn)
	}
	if *p.DecodeAuthorizationMessages {
		grantDecodeAuthorizationMessage(d.fn)
	}

	pattern := activitybus.ActivityPattern()
	pattern.Detail = p.Detail
	d.rule = awsevents.NewRule(c, jsii.String("Rule"), &awsevents.RuleProps{
		EventBus:     p.Bus,
		EventPattern: pattern,
		Description:  jsii.String("Activities to the Slack destination"),
	})
	d.dlq = failurequeue.New(c, jsii.String("DeadLetterQueue"),
		"the activities EventBridge could not hand to the destination function")
	d.rule.AddTarget(awseventstargets.NewLambdaFunction(fn, &awseventstargets.LambdaFunctionProps{
		DeadLetterQueue: d.dlq,
		MaxEventAge:     p.MaxEventAge,
		RetryAttempts:   p.RuleRetryAttempts,
	}))
	return d
}

// cfnExecRolePattern matches the role CloudFormation deploys with under the
// CDK bootstrap (any qualifier), which manages the secret.
const cfnExecRolePattern = "role/cdk-*-cfn-exec-role-*"

// restrictSecret denies secretsmanager:GetSecretValue on the secret to every
// principal but the function's role and the deploying role: an identity
// policy elsewhere in the account granting secretsmanager:* cannot read the
// webhook URL (an explicit deny in the resource policy wins).
func restrictSecret(secret awssecretsmanager.ISecret, fn awslambda.IFunction) {
	deployRole := awscdk.Fn_Join(jsii.String(""), &[]*string{
		jsii.String("arn:"), awscdk.Aws_PARTITION(), jsii.String(":iam::"), awscdk.Aws_ACCOUNT_ID(), jsii.String(":" + cfnExecRolePattern),
	})
	secret.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("OnlyTheDestinationReadsTheWebhook"),
		Effect:     awsiam.Effect_DENY,
		Principals: &[]awsiam.IPrincipal{awsiam.NewAnyPrincipal()},
		Actions:    jsii.Strings("secretsmanager:GetSecretValue"),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]any{
			"ArnNotLike": map[string]any{"aws:PrincipalArn": []any{*fn.Role().RoleArn(), *deployRole}},
		},
	}))
}

// newSecret stores url in a secret under a new customer-managed key that
// rotates yearly. Both go with the stack: the URL is a stack parameter, so
// nothing is lost that a redeploy does not restore.
func newSecret(c constructs.Construct, url awscdk.SecretValue, name, alias *string) (awskms.Key, awssecretsmanager.ISecret) {
	key := awskms.NewKey(c, jsii.String("Key"), &awskms.KeyProps{
		Description:       jsii.String("Activity Aware IDS: encrypts the Slack webhook secret"),
		EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy:     awscdk.RemovalPolicy_DESTROY,
	})
	if alias != nil {
		key.AddAlias(alias)
	}
	secret := awssecretsmanager.NewSecret(c, jsii.String("WebhookSecret"), &awssecretsmanager.SecretProps{
		SecretName:        name,
		Description:       jsii.String("Activity Aware IDS: the Slack incoming webhook URL"),
		EncryptionKey:     key,
		SecretStringValue: url,
		RemovalPolicy:     awscdk.RemovalPolicy_DESTROY,
	})
	cdknag.NagSuppressions_AddResourceSuppressions(secret, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-SMG4"),
		Reason: jsii.String("The secret is a Slack incoming webhook URL, which only a Slack admin can " +
			"reissue (then updated with `dev.sh deploy` or put-secret-value); no rotation Lambda can " +
			"create one. The KMS key encrypting it rotates yearly."),
	}}, jsii.Bool(false))
	return key, secret
}

// grantDecodeAuthorizationMessage lets fn call sts:DecodeAuthorizationMessage.
func grantDecodeAuthorizationMessage(fn gofunction.Function) {
	fn.Function().AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("DecodeAuthorizationMessage"),
		Actions:   jsii.Strings("sts:DecodeAuthorizationMessage"),
		Resources: jsii.Strings("*"),
	}))
	cdknag.NagSuppressions_AddResourceSuppressions(fn.Role(), &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-IAM5"),
		Reason: jsii.String("sts:DecodeAuthorizationMessage supports no resource-level permissions " +
			"(the Service Authorization Reference lists no resource type for it), so its only valid " +
			"resource is *; it decodes the messages of denied calls and reads nothing else."),
		AppliesTo: &[]any{jsii.String("Resource::*")},
	}}, jsii.Bool(true))
}

func derefAll(ps []*string) []string {
	out := make([]string, 0, len(ps))
	for _, s := range ps {
		if s != nil {
			out = append(out, *s)
		}
	}
	return out
}
