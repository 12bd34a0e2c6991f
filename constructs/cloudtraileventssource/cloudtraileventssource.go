// Package cloudtraileventssource provides the CloudTrail source fed by
// EventBridge instead of a CloudWatch Logs log group: a rule on the default
// bus (or the buses given) in the state
// ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS, so that read-only management
// events (the denied List*, Get*, Describe* of a prober) reach it too, sends
// "AWS API Call via CloudTrail" and console sign-in events to the
// event-source function, which standardizes each record exactly as the
// log-group source does (see sources/cloudtrailevents).
//
// # Filter
//
// The rule's pattern is derived from the detection presets
// (detections.Preset.EventBridgePattern), so EventBridge invokes the function
// only for what a detection matches. A preset EventBridge cannot express (a
// regular expression, an array index, two tests of one member; see
// docs/DETECTIONS.md) widens the rule to every CloudTrail event, and the
// function then publishes only what a detection labels (DETECTIONS_ONLY).
//
// # Global services
//
// IAM, STS (global endpoint), Organizations and console sign-in events are
// delivered only to us-east-1's default bus. In any other region, add
// NewGlobalForwarder in a us-east-1 stack: a rule there forwards those
// events to this region's default bus, where this source's rule takes them.
package cloudtraileventssource

import (
	"encoding/json"
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/activity-aware/ids/constructs/gofunction"
	"github.com/activity-aware/ids/constructs/internal/eventsource"
	"github.com/activity-aware/ids/constructs/internal/failurequeue"
	"github.com/activity-aware/ids/detections"
	"github.com/activity-aware/ids/sources/cloudtrail"
	"github.com/activity-aware/ids/sources/cloudtrailevents"
)

// StateAllManagementEvents is the rule state that delivers read-only
// management events too.
const StateAllManagementEvents = "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"

// MaxPatternLength keeps the derived pattern within EventBridge's event
// pattern size limit; a longer one widens the rule instead.
const MaxPatternLength = 2048

// DetailTypes are the CloudTrail events the rule takes: API calls and console
// sign-ins (both spellings).
var DetailTypes = []string{cloudtrailevents.APICall, cloudtrailevents.ConsoleSignIn, cloudtrailevents.ConsoleSignin}

// Props configures the source. Bus is required.
type Props struct {
	// Bus receives the activities.
	Bus awsevents.IEventBus
	// Detections are the detection preset ids or packs evaluated (and the
	// rule's filter). Default [cloudtrail's default detection].
	Detections *[]*string
	// EventBuses the rule listens on. Default: the account's default bus.
	EventBuses *[]awsevents.IEventBus
	// MaxEventAge of an event in the rule's and the function's retries.
	// Default 6 hours.
	MaxEventAge awscdk.Duration
	// Function overrides the function's defaults.
	Function *gofunction.Props
}

// Source is the CloudTrail-events source.
type Source = eventsource.Source

// Pattern returns the rule's event pattern for the presets ids, and whether
// it is narrowed to them; when it is not (a preset EventBridge cannot
// express, or a pattern too long), untranslatable names why.
func Pattern(ids []string) (pattern map[string]any, narrow bool, untranslatable []string, err error) {
	presets, err := detections.Lookup(ids...)
	if err != nil {
		return nil, false, nil, fmt.Errorf("cloudtraileventssource: Detections: %w", err)
	}
	pattern = map[string]any{
		"source":      []any{map[string]any{"prefix": "aws."}},
		"detail-type": DetailTypes,
	}
	var alts []any
	for _, p := range presets {
		text, err := p.EventBridgePattern()
		if err != nil {
			untranslatable = append(untranslatable, p.ID)
			continue
		}
		var v map[string]any
		if err := json.Unmarshal([]byte(text), &v); err != nil {
			return nil, false, nil, fmt.Errorf("cloudtraileventssource: preset %s: %w", p.ID, err)
		}
		if or, ok := v["$or"].([]any); ok {
			alts = append(alts, or...)
		} else {
			alts = append(alts, v)
		}
	}
	if len(untranslatable) > 0 || len(alts) == 0 {
		return pattern, false, untranslatable, nil
	}
	narrowed := map[string]any{"source": pattern["source"], "detail-type": pattern["detail-type"]}
	if len(alts) == 1 {
		for k, v := range alts[0].(map[string]any) {
			narrowed[k] = v
		}
	} else {
		narrowed["$or"] = alts
	}
	if b, _ := json.Marshal(narrowed); len(b) > MaxPatternLength {
		return pattern, false, []string{fmt.Sprintf("(the combined pattern has %d characters)", len(b))}, nil
	}
	return narrowed, true, nil, nil
}

// New defines the source.
func New(scope constructs.Construct, id *string, props *Props) Source {
	if props == nil || props.Bus == nil {
		panic("cloudtraileventssource: Props.Bus is required")
	}
	ids := []string{detections.DefaultID}
	if props.Detections != nil && len(*props.Detections) > 0 {
		ids = ids[:0]
		for _, d := range *props.Detections {
			ids = append(ids, *d)
		}
	}
	pattern, narrow, _, err := Pattern(ids)
	if err != nil {
		panic(err.Error())
	}
	env := cloudtrail.Config{EventBusName: *props.Bus.EventBusName(), Detections: ids, DetectionsOnly: !narrow}.Environment()
	// The L2 pattern is what synthesis checks; RawPattern is what deploys.
	l2 := &awsevents.EventPattern{
		Source:     awsevents.Match_Prefix(jsii.String("aws.")),
		DetailType: jsii.Strings(DetailTypes...),
	}
	return eventsource.NewSource(scope, id, &eventsource.SourceProps{
		Bus:         props.Bus,
		EventBuses:  props.EventBuses,
		MaxEventAge: props.MaxEventAge,
		Function:    props.Function,
	}, cloudtrailevents.SourceName, "CloudTrail events", l2, func(p *eventsource.Props) {
		p.RawPattern, p.State, p.Environment = pattern, StateAllManagementEvents, env
	})
}

// GlobalServices are the EventBridge sources of the services whose CloudTrail
// events EventBridge delivers only in us-east-1.
var GlobalServices = []string{"aws.iam", "aws.sts", "aws.organizations", "aws.signin"}

// NewGlobalForwarder defines, in scope (a stack in us-east-1), a rule that
// forwards the global services' CloudTrail events (all management events)
// to the default bus of region in the same account, where the source's rule
// takes them.
func NewGlobalForwarder(scope constructs.Construct, id *string, region string) awsevents.Rule {
	stack := awscdk.Stack_Of(scope)
	target := awsevents.EventBus_FromEventBusArn(scope, jsii.String(*id+"Target"), jsii.String(
		fmt.Sprintf("arn:%s:events:%s:%s:event-bus/default", *stack.Partition(), region, *stack.Account())))
	rule := awsevents.NewRule(scope, id, &awsevents.RuleProps{
		Description: jsii.String("Activity Aware IDS: global services' CloudTrail events to " + region),
		EventPattern: &awsevents.EventPattern{
			Source:     jsii.Strings(GlobalServices...),
			DetailType: jsii.Strings(DetailTypes...),
		},
	})
	rule.Node().DefaultChild().(awsevents.CfnRule).AddPropertyOverride(jsii.String("State"), jsii.String(StateAllManagementEvents))
	dlq := failurequeue.New(scope, jsii.String(*id+"DeadLetterQueue"),
		"the global services' CloudTrail events EventBridge could not forward")
	rule.AddTarget(awseventstargets.NewEventBus(target, &awseventstargets.EventBusProps{DeadLetterQueue: dlq}))
	return rule
}
