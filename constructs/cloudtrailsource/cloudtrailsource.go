// Package cloudtrailsource provides the CloudTrail source: the Lambda function
// that a CloudWatch Logs subscription filter on CloudTrail's log group invokes
// with batches of denied calls, and which publishes each as an activity on the
// activity bus.
package cloudtrailsource

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskinesis"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdadestinations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogsdestinations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	corrstate "github.com/activity-aware/ids/constructs/correlation"
	"github.com/activity-aware/ids/constructs/gofunction"
	"github.com/activity-aware/ids/constructs/internal/failurequeue"
	"github.com/activity-aware/ids/constructs/internal/synthcheck"
	"github.com/activity-aware/ids/correlation"
	"github.com/activity-aware/ids/detections"
	"github.com/activity-aware/ids/detections/filterpattern"
	"github.com/activity-aware/ids/sources/cloudtrail"
)

// Defaults.
const (
	// ImportPath is the main package of the source function.
	ImportPath = "github.com/activity-aware/ids/lambdas/cloudtrail-source"
	// DefaultFilterPattern selects the denied calls: the original system's
	// pattern, unchanged, which is the pattern of DefaultDetection.
	DefaultFilterPattern = `{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }`
	// DefaultDetection is the detection preset the source evaluates when
	// Props.Detections is empty.
	DefaultDetection = detections.DefaultID
	// DefaultPutEventsMaxBytes is EventBridge's PutEvents request size limit.
	DefaultPutEventsMaxBytes = 262144
	// DefaultTimeoutSeconds bounds one batch: decoding up to 1 MB of records
	// and publishing them with retries.
	DefaultTimeoutSeconds = 60
	// DefaultMaxEventAgeHours keeps a batch retrying for as long as Lambda allows.
	DefaultMaxEventAgeHours = 6
	// RetryAttempts of a failed asynchronous invocation before the batch goes
	// to the failure queue.
	RetryAttempts = 2
)

// Props configures the source. Bus is required.
type Props struct {
	// Bus receives the activities.
	Bus awsevents.IEventBus
	// LogGroup is the CloudWatch Logs log group CloudTrail delivers to; by
	// name, awslogs.LogGroup_FromLogGroupName (a token such as a
	// CfnParameter's value works). Nil: no subscription.
	LogGroup awslogs.ILogGroup
	// FilterPattern selects the records sent to the function. A literal
	// pattern is checked at synthesis with the filter-pattern engine. Default:
	// the pattern derived from Detections (FilterPatternFor), which for the
	// default detections is DefaultFilterPattern.
	FilterPattern *string
	// Detections are the detection preset ids or packs ("cis", "threats",
	// "self-protection", "all") the source evaluates. Default
	// [DefaultDetection].
	Detections *[]*string
	// DetectionExclusions tune presets: preset id → principal ARNs (with *
	// wildcards, e.g. "arn:aws:sts::*:assumed-role/deploy-pipeline/*")
	// whose records that preset does not label. Every id must be enabled.
	DetectionExclusions *map[string]*[]*string
	// Naming tells the self-protection presets how this deployment names
	// its resources (values may be tokens, e.g. the stack name and a
	// parameter's log group). Default detections.DefaultNaming.
	Naming *detections.Naming
	// PutEventsMaxBytes bounds one PutEvents request. Default 262144.
	PutEventsMaxBytes *float64
	// MaxEventAge of a batch waiting for a retry. Default 6 hours.
	MaxEventAge awscdk.Duration
	// State, when set, lets the source derive activities from what it
	// publishes: bursts of denials by one principal, and the detections
	// with a threshold (package correlation), counted in this table.
	State corrstate.State
	// BurstCount denied calls by one principal within BurstWindow make a
	// denial burst. Defaults 20 and 10 minutes; either may be a
	// CloudFormation parameter.
	BurstCount  *float64
	BurstWindow awscdk.Duration
	// Function overrides the function's defaults (memory, timeout, log
	// retention, module dir, import path). Its Environment is merged with
	// the source's own (a variable the source sets is a synthesis error);
	// OnFailure, RetryAttempts and MaxEventAge are set by this construct.
	Function *gofunction.Props
	// Kinesis, when set, adds the organization's logs path: a logs
	// destination and its encrypted stream, read by the function through an
	// event source mapping. Nil: none.
	Kinesis *KinesisProps
}

// Source is the CloudTrail source.
type Source interface {
	constructs.Construct
	// Function is the source Lambda function.
	Function() awslambda.IFunction
	// LogGroup is the function's own log group.
	LogGroup() awslogs.ILogGroup
	// FailureQueue keeps the batches that failed every retry.
	FailureQueue() awssqs.IQueue
	// SubscriptionFilter on the CloudTrail log group; nil without LogGroup.
	// A stack may gate it (and Permission) with a CloudFormation condition
	// through their default child's CfnOptions.
	SubscriptionFilter() awslogs.SubscriptionFilter
	// Permission lets CloudWatch Logs invoke the function; nil without
	// LogGroup.
	Permission() awslambda.CfnPermission
	// Stream is the Kinesis data stream of the logs destination; nil
	// without Props.Kinesis.
	Stream() awskinesis.IStream
	// LogsDestination is what member accounts' subscription filters name;
	// nil without Props.Kinesis.
	LogsDestination() awslogs.CfnDestination
	// StreamFailureQueue keeps the positions of the stream's batches that
	// failed every retry; nil without Props.Kinesis.
	StreamFailureQueue() awssqs.IQueue
}

type source struct {
	constructs.Construct
	fn         gofunction.Function
	queue      awssqs.IQueue
	filter     awslogs.SubscriptionFilter
	permission awslambda.CfnPermission
	kinesis    *kinesisLogs
}

func (s *source) Function() awslambda.IFunction                  { return s.fn.Function() }
func (s *source) LogGroup() awslogs.ILogGroup                    { return s.fn.LogGroup() }
func (s *source) FailureQueue() awssqs.IQueue                    { return s.queue }
func (s *source) SubscriptionFilter() awslogs.SubscriptionFilter { return s.filter }
func (s *source) Permission() awslambda.CfnPermission            { return s.permission }

func (s *source) Stream() awskinesis.IStream {
	if s.kinesis == nil {
		return nil
	}
	return s.kinesis.stream
}

func (s *source) LogsDestination() awslogs.CfnDestination {
	if s.kinesis == nil {
		return nil
	}
	return s.kinesis.destination
}

func (s *source) StreamFailureQueue() awssqs.IQueue {
	if s.kinesis == nil {
		return nil
	}
	return s.kinesis.queue
}

// New defines the source function, its failure queue and, given a log group,
// the subscription filter and invoke permission.
func New(scope constructs.Construct, id *string, props *Props) Source {
	if props == nil || props.Bus == nil {
		panic("cloudtrailsource: Props.Bus is required")
	}
	p := *props
	if p.Detections == nil || len(*p.Detections) == 0 {
		p.Detections = jsii.Strings(DefaultDetection)
	}
	var problems []string
	ids := make([]string, 0, len(*p.Detections))
	for _, d := range *p.Detections {
		ids = append(ids, *d)
	}
	ex := detections.Exclusions{}
	if p.DetectionExclusions != nil {
		for id, arns := range *p.DetectionExclusions {
			if arns != nil {
				for _, a := range *arns {
					ex[id] = append(ex[id], *a)
				}
			}
		}
	}
	broad := false
	if presets, err := detections.Lookup(ids...); err != nil {
		problems = append(problems, fmt.Sprintf("cloudtrailsource: Detections: %v", err))
	} else {
		if _, err := detections.Tune(presets, ex); err != nil {
			problems = append(problems, fmt.Sprintf("cloudtrailsource: DetectionExclusions: %v", err))
		}
		_, broad, _ = detections.SubscriptionPattern(presets)
	}
	switch {
	case p.FilterPattern == nil:
		pattern, err := FilterPatternFor(ids)
		if err != nil {
			problems = append(problems, err.Error())
			pattern = DefaultFilterPattern
		}
		p.FilterPattern = jsii.String(pattern)
	case !*awscdk.Token_IsUnresolved(p.FilterPattern):
		if _, err := filterpattern.Parse(*p.FilterPattern); err != nil {
			problems = append(problems, fmt.Sprintf("cloudtrailsource: FilterPattern %q: %v", *p.FilterPattern, err))
		}
	}
	if p.PutEventsMaxBytes == nil {
		p.PutEventsMaxBytes = jsii.Number(DefaultPutEventsMaxBytes)
	}
	if p.MaxEventAge == nil {
		p.MaxEventAge = awscdk.Duration_Hours(jsii.Number(DefaultMaxEventAgeHours))
	}
	fp := gofunction.WithDefaults(p.Function, gofunction.Props{
		ImportPath:  jsii.String(ImportPath),
		Timeout:     awscdk.Duration_Seconds(jsii.Number(DefaultTimeoutSeconds)),
		Description: jsii.String("Activity Aware IDS: CloudTrail records from CloudWatch Logs to activities on the bus"),
	})

	c := constructs.NewConstruct(scope, id)
	queue := failurequeue.New(c, jsii.String("FailureQueue"),
		"the CloudTrail batches the source could not publish after every retry")
	var naming detections.Naming
	if p.Naming != nil {
		naming = *p.Naming
	}
	env := cloudtrail.Config{
		Naming:            naming,
		EventBusName:      *p.Bus.EventBusName(),
		Detections:        ids,
		Exclusions:        ex,
		DetectionsOnly:    broad || len(ex) > 0,
		PutEventsMaxBytes: int(*p.PutEventsMaxBytes),
		// A partly published batch parks its undelivered log events here
		// and succeeds, so Lambda does not send the accepted ones again.
		FailureQueueURL: *queue.QueueUrl(),
	}.Environment()
	if p.State != nil {
		if p.BurstCount == nil {
			p.BurstCount = jsii.Number(correlation.DefaultBurstCount)
		}
		if p.BurstWindow == nil {
			p.BurstWindow = awscdk.Duration_Seconds(jsii.Number(correlation.DefaultBurstWindow.Seconds()))
		}
		env[correlation.EnvStateTable] = *p.State.Table().TableName()
		env[correlation.EnvBurstCount] = corrstate.NumberEnv(p.BurstCount)
		env[correlation.EnvBurstWindow] = corrstate.DurationEnv(p.BurstWindow)
	}
	var conflicts []string
	fp.Environment, conflicts = gofunction.MergeEnvironment(fp.Environment, env)
	if len(conflicts) > 0 {
		problems = append(problems, "cloudtrailsource: Function.Environment sets "+strings.Join(conflicts, ", ")+
			", which the source sets itself")
	}
	if len(problems) > 0 {
		synthcheck.Add(c, func() []string { return problems })
	}
	fp.OnFailure = awslambdadestinations.NewSqsDestination(queue)
	fp.RetryAttempts = jsii.Number(RetryAttempts)
	fp.MaxEventAge = p.MaxEventAge
	fn := gofunction.New(c, jsii.String("Function"), &fp)
	p.Bus.GrantPutEventsTo(fn.Function(), nil)
	queue.GrantSendMessages(fn.Function())
	if p.State != nil {
		p.State.GrantSource(fn.Function())
	}

	s := &source{Construct: c, fn: fn, queue: queue}
	if p.LogGroup != nil {
		s.subscribe(&p)
	}
	if p.Kinesis != nil {
		s.kinesis = addKinesis(c, fn.Function(), p.Kinesis)
	}
	return s
}

// FilterPatternFor returns the subscription filter pattern that selects what
// the detection presets (ids or packs) match: a single preset's pattern as it
// is, several joined by ||, or, when that exceeds CloudWatch Logs' 1,024
// characters, detections.BroadPattern, with which the function evaluates
// every preset and publishes only what they label (DETECTIONS_ONLY). It is
// an error when an id is unknown.
func FilterPatternFor(ids []string) (string, error) {
	presets, err := detections.Lookup(ids...)
	if err != nil {
		return "", fmt.Errorf("cloudtrailsource: Detections: %w", err)
	}
	pattern, _, err := detections.SubscriptionPattern(presets)
	if err != nil {
		return "", fmt.Errorf("cloudtrailsource: filter pattern for detections %s: %w", strings.Join(ids, ","), err)
	}
	return pattern, nil
}

// subscribe adds the subscription filter on p.LogGroup and the permission
// it needs.
func (s *source) subscribe(p *Props) {
	// jsii knows the embedded construct, not the struct around it.
	c := s.Construct
	stack := awscdk.Stack_Of(c)
	fn := s.fn.Function()
	logGroup := p.LogGroup

	// CloudWatch Logs calls from its regional principal; SourceArn and
	// SourceAccount keep any other log group (or account) from invoking.
	s.permission = awslambda.NewCfnPermission(c, jsii.String("LogsInvokePermission"), &awslambda.CfnPermissionProps{
		Action:        jsii.String("lambda:InvokeFunction"),
		FunctionName:  fn.FunctionArn(),
		Principal:     jsii.String(fmt.Sprintf("logs.%s.%s", *stack.Region(), *stack.UrlSuffix())),
		SourceArn:     logGroup.LogGroupArn(),
		SourceAccount: stack.Account(),
	})
	s.filter = awslogs.NewSubscriptionFilter(c, jsii.String("SubscriptionFilter"), &awslogs.SubscriptionFilterProps{
		LogGroup: logGroup,
		Destination: awslogsdestinations.NewLambdaDestination(fn, &awslogsdestinations.LambdaDestinationOptions{
			AddPermissions: jsii.Bool(false),
		}),
		FilterPattern: awslogs.FilterPattern_Literal(p.FilterPattern),
	})
	// CloudWatch Logs test-invokes the destination when the filter is created.
	s.filter.Node().AddDependency(s.permission)

	// A source subscribed to its own log group would invoke itself with its
	// own logs forever: refuse it at synthesis, or, when the name is only
	// known at deployment, with a template rule CloudFormation checks first.
	ownRef := s.fn.LogGroup().LogGroupName()
	ownName := s.fn.LogGroup().Node().DefaultChild().(awslogs.CfnLogGroup).LogGroupName()
	name := logGroup.LogGroupName()
	synthcheck.Add(c, func() []string {
		given := resolved(stack, name)
		if given == resolved(stack, ownRef) || (ownName != nil && given == resolved(stack, ownName)) {
			return []string{"cloudtrailsource: refusing to subscribe the source to its own log group " +
				given + ": it would invoke itself with its own logs"}
		}
		return nil
	})
	if ownName != nil && *awscdk.Token_IsUnresolved(name) && !*awscdk.Token_IsUnresolved(ownName) {
		awscdk.NewCfnRule(c, jsii.String("NotOwnLogGroup"), &awscdk.CfnRuleProps{
			Assertions: &[]*awscdk.CfnRuleAssertion{{
				Assert:            awscdk.Fn_ConditionNot(awscdk.Fn_ConditionEquals(name, ownName)),
				AssertDescription: jsii.String("The CloudTrail source cannot subscribe to its own log group " + *ownName),
			}},
		})
	}
}

// resolved renders v as CloudFormation would see it, so a token and the
// literal or reference it stands for compare equal.
func resolved(stack awscdk.Stack, v *string) string {
	b, err := json.Marshal(stack.Resolve(v))
	if err != nil {
		return *v
	}
	return string(b)
}
