// Package eventsource provides what every source fed by EventBridge rules
// shares: the event-source function (lambdas/event-source) configured for
// the sources it reads, a rule per event bus matching their events, a
// dead-letter queue for events the rule could not hand over and a failure
// queue for invocations that failed every retry.
package eventsource

import (
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdadestinations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/activity-aware/ids/constructs/gofunction"
	"github.com/activity-aware/ids/constructs/internal/failurequeue"
	"github.com/activity-aware/ids/constructs/internal/synthcheck"
	srcevents "github.com/activity-aware/ids/sources/awsevents"
)

// Defaults.
const (
	// ImportPath is the main package of the event-source function.
	ImportPath = "github.com/activity-aware/ids/lambdas/event-source"
	// DefaultTimeoutSeconds bounds one event: a few findings and their
	// publish with retries.
	DefaultTimeoutSeconds = 30
	// DefaultMaxEventAgeHours keeps an event retrying as long as EventBridge
	// and Lambda allow.
	DefaultMaxEventAgeHours = 6
	// DefaultRuleRetryAttempts of the rule target before the event goes to
	// the dead-letter queue.
	DefaultRuleRetryAttempts = 20
	// RetryAttempts of a failed asynchronous invocation before the event
	// goes to the failure queue.
	RetryAttempts = 2
	// DefaultPutEventsMaxBytes is EventBridge's PutEvents request size limit.
	DefaultPutEventsMaxBytes = 262144
)

// Props configures an event source. Bus, Sources and Pattern are required.
type Props struct {
	// Bus receives the activities.
	Bus awsevents.IEventBus
	// Sources are the awsevents source names the function reads.
	Sources []string
	// Pattern selects the events on each of EventBuses.
	Pattern *awsevents.EventPattern
	// EventBuses the rules listen on. Default: the account's default bus.
	EventBuses []awsevents.IEventBus
	// SkipProducts are the Security Hub products whose findings the function
	// skips.
	SkipProducts []string
	// Environment adds variables the sources read (the CloudTrail source's
	// detections), merged with the function's own.
	Environment map[string]string
	// RawPattern, when set, replaces the rules' pattern in the template: a
	// pattern the L2 EventPattern cannot express ("$or").
	RawPattern map[string]any
	// State, when set, is the rules' state, e.g.
	// "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS".
	State string
	// What the source reads, for descriptions, e.g. "GuardDuty findings".
	What string
	// MaxEventAge of an event in the rule's and the function's retries.
	MaxEventAge awscdk.Duration
	// RuleRetryAttempts of the rule targets. Default 20.
	RuleRetryAttempts *float64
	// Function overrides the function's defaults.
	Function *gofunction.Props
}

// Source is a source fed by EventBridge rules.
type Source interface {
	constructs.Construct
	// Function is the source's Lambda function.
	Function() awslambda.IFunction
	// Rules route the events from each event bus to the function.
	Rules() []awsevents.IRule
	// DeadLetterQueue keeps the events a rule could not hand to the function.
	DeadLetterQueue() awssqs.IQueue
	// FailureQueue keeps the events the function failed to publish after
	// every retry.
	FailureQueue() awssqs.IQueue
}

type source struct {
	constructs.Construct
	fn    gofunction.Function
	rules []awsevents.IRule
	dlq   awssqs.IQueue
	fq    awssqs.IQueue
}

func (s *source) Function() awslambda.IFunction  { return s.fn.Function() }
func (s *source) Rules() []awsevents.IRule       { return s.rules }
func (s *source) DeadLetterQueue() awssqs.IQueue { return s.dlq }
func (s *source) FailureQueue() awssqs.IQueue    { return s.fq }

// New defines the function, its rules and queues.
func New(scope constructs.Construct, id *string, props *Props) Source {
	if props == nil || props.Bus == nil || len(props.Sources) == 0 || props.Pattern == nil {
		panic("eventsource: Props.Bus, Sources and Pattern are required")
	}
	p := *props
	if p.MaxEventAge == nil {
		p.MaxEventAge = awscdk.Duration_Hours(jsii.Number(DefaultMaxEventAgeHours))
	}
	if p.RuleRetryAttempts == nil {
		p.RuleRetryAttempts = jsii.Number(DefaultRuleRetryAttempts)
	}
	fp := gofunction.WithDefaults(p.Function, gofunction.Props{
		ImportPath:  jsii.String(ImportPath),
		Timeout:     awscdk.Duration_Seconds(jsii.Number(DefaultTimeoutSeconds)),
		Description: jsii.String("Activity Aware IDS: " + p.What + " from EventBridge to activities on the bus"),
	})

	c := constructs.NewConstruct(scope, id)
	s := &source{Construct: c}
	s.fq = failurequeue.New(c, jsii.String("FailureQueue"),
		"the "+p.What+" events the source function could not publish after every retry")
	own := srcevents.Config{
		EventBusName:      *p.Bus.EventBusName(),
		Sources:           p.Sources,
		PutEventsMaxBytes: DefaultPutEventsMaxBytes,
		SkipProducts:      p.SkipProducts,
	}.Environment()
	for k, v := range p.Environment {
		own[k] = v
	}
	var conflicts []string
	fp.Environment, conflicts = gofunction.MergeEnvironment(fp.Environment, own)
	if len(conflicts) > 0 {
		synthcheck.Add(c, func() []string {
			return []string{"eventsource: Function.Environment sets " + strings.Join(conflicts, ", ") + ", which the source sets itself"}
		})
	}
	fp.OnFailure = awslambdadestinations.NewSqsDestination(s.fq)
	fp.RetryAttempts = jsii.Number(RetryAttempts)
	fp.MaxEventAge = p.MaxEventAge
	s.fn = gofunction.New(c, jsii.String("Function"), &fp)
	p.Bus.GrantPutEventsTo(s.fn.Function(), nil)

	s.dlq = failurequeue.New(c, jsii.String("DeadLetterQueue"),
		"the "+p.What+" events EventBridge could not hand to the source function")
	buses := p.EventBuses
	if len(buses) == 0 {
		buses = []awsevents.IEventBus{nil}
	}
	for i, bus := range buses {
		ruleID := "Rule"
		if i > 0 {
			ruleID += strconv.Itoa(i + 1)
		}
		rule := awsevents.NewRule(c, jsii.String(ruleID), &awsevents.RuleProps{
			EventBus:     bus,
			EventPattern: p.Pattern,
			Description:  jsii.String(p.What + " to the Activity Aware IDS source"),
		})
		cfn := rule.Node().DefaultChild().(awsevents.CfnRule)
		if p.RawPattern != nil {
			cfn.AddPropertyOverride(jsii.String("EventPattern"), p.RawPattern)
		}
		if p.State != "" {
			cfn.AddPropertyOverride(jsii.String("State"), jsii.String(p.State))
		}
		rule.AddTarget(awseventstargets.NewLambdaFunction(s.fn.Function(), &awseventstargets.LambdaFunctionProps{
			DeadLetterQueue: s.dlq,
			MaxEventAge:     p.MaxEventAge,
			RetryAttempts:   p.RuleRetryAttempts,
		}))
		s.rules = append(s.rules, rule)
	}
	return s
}

// SourceProps are the props every EventBridge-fed source construct takes;
// the construct packages name it as their Props. Bus is required.
type SourceProps struct {
	// Bus receives the activities.
	Bus awsevents.IEventBus
	// EventBuses the rule listens on. Default: the account's default bus,
	// where AWS services send their events.
	EventBuses *[]awsevents.IEventBus
	// MaxEventAge of an event in the rule's and the function's retries.
	// Default 6 hours.
	MaxEventAge awscdk.Duration
	// Function overrides the function's defaults.
	Function *gofunction.Props
}

// NewSource defines the source named name (an awsevents source name) from
// its construct's props: its rule takes pattern, What describes it.
func NewSource(scope constructs.Construct, id *string, props *SourceProps, name, what string, pattern *awsevents.EventPattern, more func(*Props)) Source {
	if props == nil || props.Bus == nil {
		panic(what + " source: Props.Bus is required")
	}
	var buses []awsevents.IEventBus
	if props.EventBuses != nil {
		buses = *props.EventBuses
	}
	p := &Props{
		Bus:         props.Bus,
		Sources:     []string{name},
		Pattern:     pattern,
		EventBuses:  buses,
		What:        what,
		MaxEventAge: props.MaxEventAge,
		Function:    props.Function,
	}
	if more != nil {
		more(p)
	}
	return New(scope, id, p)
}
