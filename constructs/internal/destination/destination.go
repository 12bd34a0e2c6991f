// Package destination builds what every destination construct shares: the
// function (compiled from the destination's main package), its secret's
// read grant, the rule on the activity bus narrowed by a routing filter, the
// rule's dead-letter queue and the function's on-failure queue, optionally
// all gated by one CloudFormation condition (a stack parameter left empty:
// not deployed); and the customer-managed key and secret a destination keeps
// its credentials in.
package destination

import (
	"sort"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdadestinations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/activity-aware/ids/constructs/gofunction"
	"github.com/activity-aware/ids/constructs/internal/failurequeue"
	"github.com/activity-aware/ids/constructs/internal/synthcheck"
	"github.com/activity-aware/ids/constructs/routing"
	"github.com/activity-aware/ids/eventbus"
)

// Defaults every destination starts from.
const (
	// DefaultReservedConcurrency keeps bursts in Lambda's asynchronous queue
	// instead of tripping the receiver's rate limit.
	DefaultReservedConcurrency = 2
	// DefaultTimeoutSeconds covers a post with its retries.
	DefaultTimeoutSeconds = 30
	// DefaultMaxEventAgeHours bounds how long an activity may wait, in the
	// rule's and in the function's retries, before it goes to a queue.
	DefaultMaxEventAgeHours = 6
	// DefaultRuleRetryAttempts of the rule target.
	DefaultRuleRetryAttempts = 20
	// RetryAttempts of a failed asynchronous invocation of the function.
	RetryAttempts = 2
)

// Props configures the shared parts.
type Props struct {
	// Name is the destination's name in descriptions, e.g. "PagerDuty".
	Name string
	// ImportPath is the destination function's main package.
	ImportPath string
	Bus        awsevents.IEventBus
	// Secret is read by the function; Key encrypts it (nil for an existing
	// secret).
	Secret awssecretsmanager.ISecret
	Key    awskms.IKey
	// Environment configures the function (the runtime package's
	// Config.Environment); a user variable of the same name is refused.
	Environment map[string]string
	// ProducerAccounts are the accounts whose activities the function
	// delivers (eventbus.EnvProducerAccounts: account ids, or "organization"
	// for any account the bus's organization policy admits, each publishing
	// about itself); other events on the bus are never delivered as
	// activities. Default: the stack's own account.
	ProducerAccounts *[]*string
	Filter           *routing.Filter
	// Condition, when set, gates every resource of scope.
	Condition           awscdk.CfnCondition
	ReservedConcurrency *float64
	MaxEventAge         awscdk.Duration
	RuleRetryAttempts   *float64
	// Function overrides the function's defaults.
	Function *gofunction.Props
}

// Interface is what every destination construct provides: its getters
// return CDK interfaces, for grants, alarms and outputs.
type Interface interface {
	constructs.Construct
	// Function is the destination function.
	Function() awslambda.IFunction
	// Secret holds the destination's credentials.
	Secret() awssecretsmanager.ISecret
	// Key encrypts the secret; nil when an existing secret was passed in.
	Key() awskms.IKey
	// Rule routes activities from the bus to the function.
	Rule() awsevents.IRule
	// DeadLetterQueue keeps the activities the rule could not hand over.
	DeadLetterQueue() awssqs.IQueue
	// FailureQueue keeps the activities the function failed to deliver
	// after every retry.
	FailureQueue() awssqs.IQueue
}

// Construct is a destination construct: its scope and the parts New built.
type Construct struct {
	constructs.Construct
	*Parts
}

var _ Interface = (*Construct)(nil)

// Parts are what New built (and the secret and key the destination keeps
// its credentials in). A destination construct embeds it for its getters.
type Parts struct {
	function     gofunction.Function
	rule         awsevents.Rule
	dlq          awssqs.Queue
	failureQueue awssqs.Queue
	secret       awssecretsmanager.ISecret
	key          awskms.IKey
}

// Function is the destination function.
func (p *Parts) Function() awslambda.IFunction { return p.function.Function() }

// Rule routes activities from the bus to the function.
func (p *Parts) Rule() awsevents.IRule { return p.rule }

// DeadLetterQueue keeps the activities the rule could not hand over.
func (p *Parts) DeadLetterQueue() awssqs.IQueue { return p.dlq }

// FailureQueue keeps the activities the function failed to deliver.
func (p *Parts) FailureQueue() awssqs.IQueue { return p.failureQueue }

// Secret holds the destination's credentials.
func (p *Parts) Secret() awssecretsmanager.ISecret { return p.secret }

// Key encrypts the secret; nil when an existing secret was passed in.
func (p *Parts) Key() awskms.IKey { return p.key }

// New builds the function, rule and queues in scope. Call it last in the
// destination's constructor: the condition is applied to every resource
// scope holds by then.
func New(scope constructs.Construct, p Props) *Parts {
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
		ImportPath:  jsii.String(p.ImportPath),
		Timeout:     awscdk.Duration_Seconds(jsii.Number(DefaultTimeoutSeconds)),
		Description: jsii.String("Activity Aware IDS: activities from the bus to " + p.Name),
	})
	parts := &Parts{secret: p.Secret, key: p.Key}
	parts.failureQueue = failurequeue.New(scope, jsii.String("FailureQueue"),
		"the activities the function failed to deliver to "+p.Name+" after every retry")
	env := map[string]*string{}
	var conflicts []string
	if fp.Environment != nil {
		for k, v := range *fp.Environment {
			if _, ok := p.Environment[k]; ok {
				conflicts = append(conflicts, k)
			}
			env[k] = v
		}
	}
	for k, v := range p.Environment {
		env[k] = jsii.String(v)
	}
	producers := p.ProducerAccounts
	if producers == nil || len(*producers) == 0 {
		producers = &[]*string{awscdk.Aws_ACCOUNT_ID()}
	}
	if _, ok := env[eventbus.EnvProducerAccounts]; ok && fp.Environment != nil && (*fp.Environment)[eventbus.EnvProducerAccounts] != nil {
		conflicts = append(conflicts, eventbus.EnvProducerAccounts)
	}
	env[eventbus.EnvProducerAccounts] = awscdk.Fn_Join(jsii.String(","), producers)
	if len(conflicts) > 0 {
		sort.Strings(conflicts)
		msg := "destination " + p.Name + ": Function.Environment sets " + strings.Join(conflicts, ", ") + ", which the destination sets itself"
		synthcheck.Add(scope, func() []string { return []string{msg} })
	}
	fp.Environment = &env
	fp.OnFailure = awslambdadestinations.NewSqsDestination(parts.failureQueue)
	fp.RetryAttempts = jsii.Number(RetryAttempts)
	fp.MaxEventAge = p.MaxEventAge
	fp.ReservedConcurrentExecutions = p.ReservedConcurrency
	parts.function = gofunction.New(scope, jsii.String("Function"), &fp)
	fn := parts.function.Function()
	if p.Secret != nil {
		p.Secret.GrantRead(fn, nil)
	}

	parts.rule = awsevents.NewRule(scope, jsii.String("Rule"), &awsevents.RuleProps{
		EventBus:     p.Bus,
		EventPattern: p.Filter.Pattern(scope),
		Description:  jsii.String("Activities to the " + p.Name + " destination"),
	})
	parts.dlq = failurequeue.New(scope, jsii.String("DeadLetterQueue"),
		"the activities EventBridge could not hand to the "+p.Name+" function")
	parts.rule.AddTarget(awseventstargets.NewLambdaFunction(fn, &awseventstargets.LambdaFunctionProps{
		DeadLetterQueue: parts.dlq,
		MaxEventAge:     p.MaxEventAge,
		RetryAttempts:   p.RuleRetryAttempts,
	}))
	if p.Condition != nil {
		Gate(scope, p.Condition)
	}
	return parts
}

// Gate sets condition on every CloudFormation resource in scope.
func Gate(scope constructs.Construct, condition awscdk.CfnCondition) {
	for _, n := range *scope.Node().FindAll(constructs.ConstructOrder_PREORDER) {
		if *awscdk.CfnResource_IsCfnResource(n) {
			n.(awscdk.CfnResource).CfnOptions().SetCondition(condition)
		}
	}
}

// SecretProps configures a destination's secret.
type SecretProps struct {
	// Name is the destination's name in descriptions.
	Name string
	// Value is stored as the secret's string, e.g. a NoEcho parameter's.
	Value awscdk.SecretValue
	// Generate, instead of Value, generates part of the secret.
	Generate *awssecretsmanager.SecretStringGenerator
	// SecretName and KeyAlias name the secret and its key. Default: names
	// CloudFormation generates, no alias.
	SecretName, KeyAlias *string
	// NoRotation says why the secret has no rotation Lambda, for cdk-nag.
	NoRotation string
}

// NewSecret stores the secret under a new customer-managed key that rotates
// yearly. Both go with the stack: the value comes from stack parameters (or
// is generated), so a redeploy restores what is lost.
func NewSecret(scope constructs.Construct, p SecretProps) (awskms.IKey, awssecretsmanager.ISecret) {
	key := awskms.NewKey(scope, jsii.String("Key"), &awskms.KeyProps{
		Description:       jsii.String("Activity Aware IDS: encrypts the " + p.Name + " secret"),
		EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy:     awscdk.RemovalPolicy_DESTROY,
	})
	if p.KeyAlias != nil {
		key.AddAlias(p.KeyAlias)
	}
	secret := awssecretsmanager.NewSecret(scope, jsii.String("Secret"), &awssecretsmanager.SecretProps{
		SecretName:           p.SecretName,
		Description:          jsii.String("Activity Aware IDS: the " + p.Name + " destination's credentials"),
		EncryptionKey:        key,
		SecretStringValue:    p.Value,
		GenerateSecretString: p.Generate,
		RemovalPolicy:        awscdk.RemovalPolicy_DESTROY,
	})
	cdknag.NagSuppressions_AddResourceSuppressions(secret, &[]*cdknag.NagPackSuppression{{
		Id:     jsii.String("AwsSolutions-SMG4"),
		Reason: jsii.String(p.NoRotation + " The KMS key encrypting it rotates yearly."),
	}}, jsii.Bool(false))
	return key, secret
}
