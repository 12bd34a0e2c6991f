// Package destination builds what every destination construct shares: the
// function (compiled from the destination's main package), its secret's
// read grant, the two rules on the activity bus narrowed by a routing
// filter, the pacing queues they fill and the event source mappings that
// drain them (Pace), the rules' dead-letter queue and the failure queue,
// the notification policy's environment, grant and minute sweep when a
// correlation state is given, optionally all gated by one CloudFormation
// condition (a stack parameter left empty: not deployed); and the
// customer-managed key and secret a destination keeps its credentials in.
//
// The correlation state is one table per stack, shared: each destination
// keeps its claims, windows and due index entries under its own name
// (DestinationName, the partition prefix package correlation writes), and
// its function is granted the table and the due index by name, nothing
// else.
package destination

import (
	"maps"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdadestinations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	corrstate "github.com/activity-aware/ids/constructs/correlation"
	"github.com/activity-aware/ids/constructs/gofunction"
	"github.com/activity-aware/ids/constructs/internal/failurequeue"
	"github.com/activity-aware/ids/constructs/internal/synthcheck"
	"github.com/activity-aware/ids/constructs/routing"
	"github.com/activity-aware/ids/correlation"
	"github.com/activity-aware/ids/destinations/dispatch"
	"github.com/activity-aware/ids/eventbus"
)

// Defaults every destination starts from.
const (
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
	// Detail is the raw escape hatch (set at most one of Detail and
	// Filter.Detail).
	Detail *map[string]any
	// Condition, when set, gates every resource of scope.
	Condition awscdk.CfnCondition
	// ReservedConcurrency of the function. Default none: pacing comes from
	// the queues' MaxConcurrency, and a new account's concurrency quota
	// refuses reservations.
	ReservedConcurrency *float64
	MaxEventAge         awscdk.Duration
	RuleRetryAttempts   *float64
	// MaxConcurrency (default 2), BatchSize (10) and MaxReceiveCount (10)
	// of the pacing queues.
	MaxConcurrency, BatchSize, MaxReceiveCount *float64
	// State, when set, turns on the notification policy with its state in
	// this table, under DestinationName (default: scope's id), with the
	// window NotifyWindow (default correlation.DefaultWindow) and group key
	// GroupBy (default correlation.DefaultGroupBy); either may be a
	// CloudFormation parameter's token.
	State           corrstate.State
	DestinationName *string
	NotifyWindow    awscdk.Duration
	GroupBy         *[]*string
	// ProblemPrefix starts each synthesis error. Default "destination " +
	// Name + ": ".
	ProblemPrefix string
	// Description of the function. Default: "Activity Aware IDS:
	// activities from the bus to " + Name.
	Description string
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
	// LogGroup is the function's own log group.
	LogGroup() awslogs.ILogGroup
	// Rule routes activities below high from the bus to Queue.
	Rule() awsevents.IRule
	// PriorityRule routes critical and high activities to PriorityQueue.
	PriorityRule() awsevents.IRule
	// Queue and PriorityQueue pace delivery to the function.
	Queue() awssqs.IQueue
	PriorityQueue() awssqs.IQueue
	// DeadLetterQueue keeps the activities the rules could not put into
	// the queues.
	DeadLetterQueue() awssqs.IQueue
	// FailureQueue keeps the activities the function failed to deliver
	// after every retry (the queues' dead-letter queue), and the sweeps
	// that failed every retry.
	FailureQueue() awssqs.IQueue
	// Sweep runs the function every minute to deliver the digests of ended
	// windows; nil without a correlation state.
	Sweep() awsevents.IRule
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
	paced        *Paced
	failureQueue awssqs.Queue
	secret       awssecretsmanager.ISecret
	key          awskms.IKey
}

// Function is the destination function.
func (p *Parts) Function() awslambda.IFunction { return p.function.Function() }

// LogGroup is the function's own log group.
func (p *Parts) LogGroup() awslogs.ILogGroup { return p.function.LogGroup() }

// Rule routes activities below high from the bus to Queue.
func (p *Parts) Rule() awsevents.IRule { return p.paced.Rule }

// PriorityRule routes critical and high activities to PriorityQueue.
func (p *Parts) PriorityRule() awsevents.IRule { return p.paced.PriorityRule }

// Queue paces activities below high.
func (p *Parts) Queue() awssqs.IQueue { return p.paced.Queue }

// PriorityQueue paces critical and high activities.
func (p *Parts) PriorityQueue() awssqs.IQueue { return p.paced.Priority }

// DeadLetterQueue keeps the activities the rules could not put into the
// queues.
func (p *Parts) DeadLetterQueue() awssqs.IQueue { return p.paced.DeadLetterQueue }

// Sweep runs the function every minute; nil without a correlation state.
func (p *Parts) Sweep() awsevents.IRule {
	if p.paced.Sweep == nil {
		return nil
	}
	return p.paced.Sweep
}

// FailureQueue keeps the activities the function failed to deliver.
func (p *Parts) FailureQueue() awssqs.IQueue { return p.failureQueue }

// Secret holds the destination's credentials.
func (p *Parts) Secret() awssecretsmanager.ISecret { return p.secret }

// Key encrypts the secret; nil when an existing secret was passed in.
func (p *Parts) Key() awskms.IKey { return p.key }

// New builds the function, rules and queues in scope. Call it last in the
// destination's constructor: the condition is applied to every resource
// scope holds by then.
func New(scope constructs.Construct, p Props) *Parts {
	if p.MaxEventAge == nil {
		p.MaxEventAge = awscdk.Duration_Hours(jsii.Number(DefaultMaxEventAgeHours))
	}
	if p.RuleRetryAttempts == nil {
		p.RuleRetryAttempts = jsii.Number(DefaultRuleRetryAttempts)
	}
	if p.MaxConcurrency == nil {
		p.MaxConcurrency = jsii.Number(DefaultMaxConcurrency)
	}
	if p.BatchSize == nil {
		p.BatchSize = jsii.Number(DefaultBatchSize)
	}
	if p.MaxReceiveCount == nil {
		p.MaxReceiveCount = jsii.Number(DefaultMaxReceiveCount)
	}
	if p.DestinationName == nil {
		p.DestinationName = scope.Node().Id()
	}
	if p.NotifyWindow == nil {
		p.NotifyWindow = awscdk.Duration_Seconds(jsii.Number(correlation.DefaultWindow.Seconds()))
	}
	groupBy := correlation.DefaultGroupBy
	if p.GroupBy != nil {
		groupBy = nil
		for _, g := range *p.GroupBy {
			groupBy = append(groupBy, *g)
		}
	}
	if p.Description == "" {
		p.Description = "Activity Aware IDS: activities from the bus to " + p.Name
	}
	fp := gofunction.WithDefaults(p.Function, gofunction.Props{
		ImportPath:  jsii.String(p.ImportPath),
		Timeout:     awscdk.Duration_Seconds(jsii.Number(DefaultTimeoutSeconds)),
		Description: jsii.String(p.Description),
	})
	parts := &Parts{secret: p.Secret, key: p.Key}
	parts.failureQueue = failurequeue.New(scope, jsii.String("FailureQueue"),
		"the activities the function failed to deliver to "+p.Name+" after every retry")

	var problems []string
	env := maps.Clone(p.Environment)
	if env == nil {
		env = map[string]string{}
	}
	producers := p.ProducerAccounts
	if producers == nil || len(*producers) == 0 {
		producers = &[]*string{awscdk.Aws_ACCOUNT_ID()}
	}
	env[eventbus.EnvProducerAccounts] = *awscdk.Fn_Join(jsii.String(","), producers)
	// Only the stack's own account's canary is absorbed.
	env[dispatch.EnvHeartbeatAccount] = *awscdk.Aws_ACCOUNT_ID()
	if p.State != nil {
		if joined := strings.Join(groupBy, ","); *awscdk.Token_IsUnresolved(joined) {
			// A parameter: the function checks it when it starts.
		} else if _, err := correlation.ParseGroupBy(joined); err != nil {
			problems = append(problems, "GroupBy: "+err.Error())
		}
		env[correlation.EnvStateTable] = *p.State.Table().TableName()
		env[correlation.EnvDestinationName] = *p.DestinationName
		// Either may be a CloudFormation parameter's token.
		env[correlation.EnvNotifyWindow] = corrstate.DurationEnv(p.NotifyWindow)
		env[correlation.EnvNotifyGroupBy] = strings.Join(groupBy, ",")
	}
	var conflicts []string
	fp.Environment, conflicts = gofunction.MergeEnvironment(fp.Environment, env)
	if len(conflicts) > 0 {
		problems = append(problems, "Function.Environment sets "+strings.Join(conflicts, ", ")+", which the destination sets itself")
	}
	// Asynchronous invocations are the minute sweep's (and a redriven
	// event's): one that fails every retry is kept in the watched failure
	// queue, so a sweep that keeps failing raises the queue's alarm; the
	// digests it owed stay due and the next sweep tries them again.
	fp.OnFailure = awslambdadestinations.NewSqsDestination(parts.failureQueue)
	fp.RetryAttempts = jsii.Number(RetryAttempts)
	fp.MaxEventAge = p.MaxEventAge
	fp.ReservedConcurrentExecutions = p.ReservedConcurrency
	parts.function = gofunction.New(scope, jsii.String("Function"), &fp)
	fn := parts.function.Function()
	if p.Secret != nil {
		p.Secret.GrantRead(fn, nil)
	}
	parts.paced = Pace(scope, PacingProps{
		Name:              p.Name,
		Bus:               p.Bus,
		Function:          fn,
		Timeout:           fp.Timeout,
		FailureQueue:      parts.failureQueue,
		Filter:            p.Filter,
		Detail:            p.Detail,
		MaxConcurrency:    p.MaxConcurrency,
		BatchSize:         p.BatchSize,
		MaxReceiveCount:   p.MaxReceiveCount,
		MaxEventAge:       p.MaxEventAge,
		RuleRetryAttempts: p.RuleRetryAttempts,
		State:             p.State,
	})
	problems = append(problems, parts.paced.Problems...)
	if len(problems) > 0 {
		prefix := p.ProblemPrefix
		if prefix == "" {
			prefix = "destination " + p.Name + ": "
		}
		for i := range problems {
			problems[i] = prefix + problems[i]
		}
		synthcheck.Add(scope, func() []string { return problems })
	}
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
