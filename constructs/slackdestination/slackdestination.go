// Package slackdestination provides the Slack destination: EventBridge rules
// on the activity bus put activities into two pacing queues, from which a
// Lambda function renders each activity as a Slack message and posts it as
// the Secrets Manager secret (under a customer-managed KMS key) says: to an
// incoming webhook (its URL), or as a Slack app's bot to a channel
// ({"botToken":"xoxb-…","channel":"C…"}) with the Web API. The mode follows
// the secret's shape at run time; the template is the same.
//
// In app mode with Props.State and Props.Threads (default true), a group's
// repeats are posted as replies in the thread of its first message, which
// keeps a count ("24 more in thread"); the digest closing the window goes
// into the thread too. Webhooks cannot thread: there, and in app mode with
// Threads false, repeats are folded into a top-level digest.
//
// Pacing, without reserved concurrency (which a new account's concurrency
// quota of 10 refuses): each queue's event source mapping runs at most
// MaxConcurrency invocations (default 2, the least SQS allows), each posting
// its batch one message after another, and the Slack client waits out 429s
// for the Retry-After Slack names. Critical and high activities go to a
// queue of their own, so they never wait behind a flood of lower ones.
// Failed messages are retried alone (ReportBatchItemFailures) and, after
// MaxReceiveCount receives, kept in the failure queue.
//
// With Props.State the function applies the notification policy (package
// correlation): the first activity of a group is posted, the rest of its
// window folded into one digest, suppressions counted, an activity id posted
// once; a rule runs the function every minute to post the digests of ended
// windows, so a digest follows its window within a minute without further
// traffic. A scheduled sweep was chosen over one EventBridge Scheduler
// schedule per group: it needs no scheduler role or per-group resources,
// costs one index query a minute when idle, and a failed digest is simply
// retried by the next sweep.
//
// Several destinations can share one bus and one state table: narrow each
// one's rules with Props.Filter (minimum severity, detection ids, sources,
// accounts, package routing) or the raw Props.Detail to route, e.g.,
// critical activities or one account's activities to their own channel.
// The filter combines with the pacing split: the priority rule takes what
// passes it among critical and high, the other rule the rest. A minimum
// severity given as a token (a stack parameter) reads both rules' lists from
// a mapping at deploy time, and the stack's own heartbeat canary always
// passes, so the heartbeat alarm does not fire for want of canaries.
package slackdestination

import (
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	corrstate "github.com/activity-aware/ids/constructs/correlation"
	"github.com/activity-aware/ids/constructs/gofunction"
	shared "github.com/activity-aware/ids/constructs/internal/destination"
	"github.com/activity-aware/ids/constructs/routing"
	"github.com/activity-aware/ids/destinations/slack"
)

// Defaults.
const (
	// ImportPath is the main package of the destination function.
	ImportPath = "github.com/activity-aware/ids/lambdas/slack-destination"
	// DefaultSecretCacheTTL is how long the function reuses the webhook URL
	// it read, so a rotated URL takes effect within minutes.
	DefaultSecretCacheTTL = slack.DefaultSecretCacheTTL
	// DefaultMaxConcurrency of each queue's event source mapping: the least
	// SQS allows, so two posters per queue share Slack's rate of about one
	// message per second per webhook.
	DefaultMaxConcurrency = shared.DefaultMaxConcurrency
	// DefaultBatchSize of a queue's event source mapping.
	DefaultBatchSize = shared.DefaultBatchSize
	// DefaultMaxReceiveCount of a queued activity before it goes to the
	// failure queue.
	DefaultMaxReceiveCount = shared.DefaultMaxReceiveCount
	// QueueRetentionDays keeps queued activities through a long outage.
	QueueRetentionDays = shared.QueueRetentionDays
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
	// awscdk.SecretValue_CfnParameter of a NoEcho parameter: the webhook URL,
	// or a Slack app's {"botToken":"xoxb-…","channel":"C…"} (app mode).
	WebhookURL awscdk.SecretValue
	// WebhookSecret is an existing secret whose string is the webhook URL or
	// the app's JSON.
	WebhookSecret awssecretsmanager.ISecret
	// Threads, in app mode with State, posts a group's repeats as replies
	// in its first message's thread and keeps a count on that message
	// (SLACK_THREADS). Default true; meaningless in webhook mode.
	Threads *bool
	// SecretName names the new secret (with WebhookURL). Default: a name
	// CloudFormation generates. Naming it after the stack lets the
	// self-protection detections recognize changes to it.
	SecretName *string
	// KeyAlias is an alias ("alias/...") for the new secret's KMS key (with
	// WebhookURL). Default: none.
	KeyAlias *string
	// Filter selects the activities this destination receives, in the terms
	// of package routing (MinSeverity may be a CloudFormation parameter's
	// token). Default: every activity.
	Filter *routing.Filter
	// Detail narrows the rules to activities whose detail matches, e.g.
	// {"severity": ["critical", "high"]} or {"account": {"id": ["123456789012"]}}:
	// the raw escape hatch, the same as Filter.Detail (set at most one of
	// them). A severity in it must be a list of severities. Default: every
	// activity.
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
	// ReservedConcurrency of the function. Default none: pacing comes from
	// the queues' MaxConcurrency, and a new account's concurrency quota
	// refuses reservations.
	ReservedConcurrency *float64
	// MaxConcurrency of each pacing queue's event source mapping (2 to
	// 1000). Default 2.
	MaxConcurrency *float64
	// BatchSize of each pacing queue's event source mapping. Default 10.
	BatchSize *float64
	// MaxReceiveCount of a queued activity before the failure queue keeps
	// it. Default 10.
	MaxReceiveCount *float64
	// State, when set, turns on the notification policy with its state in
	// this table (and the minute sweep that posts digests).
	State corrstate.State
	// DestinationName names this destination's groups in the state table.
	// Default: the construct's id.
	DestinationName *string
	// NotifyWindow is how long a group is folded after its first post.
	// Default 10 minutes (correlation.DefaultWindow).
	NotifyWindow awscdk.Duration
	// GroupBy lists the group key's dimensions (principal, detection,
	// outcome, account, source-ip, service, action). Default principal and
	// detection.
	GroupBy *[]*string
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

// Destination is a Slack destination: its secret (holding the webhook
// URL), key, function, rules, pacing queues, dead-letter and failure queues
// (and sweep, with a correlation state).
type Destination interface {
	shared.Interface
}

// New defines the destination's secret (unless given one), function, rules
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
	if p.Threads == nil {
		p.Threads = jsii.Bool(true)
	}

	c := constructs.NewConstruct(scope, id)
	secret := p.WebhookSecret
	var key awskms.IKey
	if secret == nil {
		key, secret = newSecret(c, p.WebhookURL, p.SecretName, p.KeyAlias)
	}
	cfg := slack.Config{
		WebhookSecretARN:            *secret.SecretArn(),
		SecretCacheTTL:              time.Duration(*p.SecretCacheTTL.ToSeconds(nil)) * time.Second,
		DecodeAuthorizationMessages: *p.DecodeAuthorizationMessages,
		DisableThreads:              !*p.Threads,
	}
	parts := shared.New(c, shared.Props{
		Name:                "Slack",
		ImportPath:          ImportPath,
		Description:         "Activity Aware IDS: activities from the bus to a Slack channel",
		ProblemPrefix:       "slackdestination: ",
		Bus:                 p.Bus,
		Secret:              secret,
		Key:                 key,
		Environment:         cfg.Environment(),
		ProducerAccounts:    p.ProducerAccounts,
		Filter:              p.Filter,
		Detail:              p.Detail,
		ReservedConcurrency: p.ReservedConcurrency,
		MaxEventAge:         p.MaxEventAge,
		RuleRetryAttempts:   p.RuleRetryAttempts,
		MaxConcurrency:      p.MaxConcurrency,
		BatchSize:           p.BatchSize,
		MaxReceiveCount:     p.MaxReceiveCount,
		State:               p.State,
		DestinationName:     p.DestinationName,
		NotifyWindow:        p.NotifyWindow,
		GroupBy:             p.GroupBy,
		Function:            p.Function,
	})
	fn := parts.Function()
	if key != nil {
		restrictSecret(secret, fn)
	}
	if *p.DecodeAuthorizationMessages {
		grantDecodeAuthorizationMessage(fn)
	}
	return &shared.Construct{Construct: c, Parts: parts}
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
func grantDecodeAuthorizationMessage(fn awslambda.IFunction) {
	fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
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
