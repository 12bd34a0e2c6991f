// Package memberforwarding provides what a member account of an AWS
// Organization runs so the central Activity Aware IDS sees its events: rules
// on the member's default bus that forward the chosen AWS service events
// (CloudTrail API calls and sign-ins with all management events, GuardDuty,
// Security Hub and IAM Access Analyzer findings) to the central activity bus,
// with one role EventBridge assumes that may only put events on that bus, and
// a dead-letter queue for events it could not forward.
//
// Deploy it with CloudFormation StackSets in every account and region of the
// organization, us-east-1 included: there the CloudTrail rule also takes the
// global services' events (IAM, STS, Organizations, sign-in), which
// EventBridge delivers in us-east-1 only, and forwards them across regions to
// the central bus. The central bus admits these events from the
// organization's accounts only (activitybus.Props.ForwardedDetailTypes).
package memberforwarding

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/activity-aware/ids/constructs/accessanalyzersource"
	"github.com/activity-aware/ids/constructs/cloudtraileventssource"
	"github.com/activity-aware/ids/constructs/guarddutysource"
	"github.com/activity-aware/ids/constructs/internal/failurequeue"
	"github.com/activity-aware/ids/constructs/securityhubsource"
	"github.com/activity-aware/ids/detections"
	"github.com/activity-aware/ids/sources/accessanalyzer"
	"github.com/activity-aware/ids/sources/cloudtrailevents"
	"github.com/activity-aware/ids/sources/guardduty"
	"github.com/activity-aware/ids/sources/securityhub"
)

// Props configures the forwarding. CentralBusArn and Sources are required.
type Props struct {
	// CentralBusArn is the central activity bus.
	CentralBusArn *string
	// Sources are the event sources forwarded, by name: "cloudtrail-events",
	// "guardduty", "securityhub", "accessanalyzer".
	Sources *[]*string
	// Detections select the CloudTrail events forwarded (the pattern the
	// central source derives from them). Default: the default detection.
	Detections *[]*string
}

// Forwarding is the member side of the organization.
type Forwarding interface {
	constructs.Construct
	// Rules forward one source's events each.
	Rules() []awsevents.IRule
	// Role is what EventBridge assumes to put events on the central bus.
	Role() awsiam.IRole
	// DeadLetterQueue keeps the events that could not be forwarded.
	DeadLetterQueue() awssqs.IQueue
}

type forwarding struct {
	constructs.Construct
	rules []awsevents.IRule
	role  awsiam.IRole
	dlq   awssqs.IQueue
}

func (f *forwarding) Rules() []awsevents.IRule       { return f.rules }
func (f *forwarding) Role() awsiam.IRole             { return f.role }
func (f *forwarding) DeadLetterQueue() awssqs.IQueue { return f.dlq }

// DetailTypes returns the detail-types forwarded for sources, for the central
// bus policy.
func DetailTypes(sources []string) []string {
	var out []string
	for _, s := range sources {
		switch s {
		case cloudtrailevents.SourceName:
			out = append(out, cloudtraileventssource.DetailTypes...)
		case guardduty.SourceName:
			out = append(out, guardduty.DetailType)
		case securityhub.SourceName:
			out = append(out, securityhub.DetailType)
		case accessanalyzer.SourceName:
			out = append(out, accessanalyzer.DetailTypes...)
		}
	}
	return out
}

// New defines the rules, the role and the dead-letter queue.
func New(scope constructs.Construct, id *string, props *Props) Forwarding {
	if props == nil || props.CentralBusArn == nil || props.Sources == nil || len(*props.Sources) == 0 {
		panic("memberforwarding: Props.CentralBusArn and Sources are required")
	}
	ids := []string{detections.DefaultID}
	if props.Detections != nil && len(*props.Detections) > 0 {
		ids = ids[:0]
		for _, d := range *props.Detections {
			ids = append(ids, *d)
		}
	}
	c := constructs.NewConstruct(scope, id)
	f := &forwarding{Construct: c}
	central := awsevents.EventBus_FromEventBusArn(c, jsii.String("CentralBus"), props.CentralBusArn)
	role := awsiam.NewRole(c, jsii.String("Role"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("events.amazonaws.com"), nil),
		Description: jsii.String("Activity Aware IDS: EventBridge forwards this account's security events to the central bus"),
	})
	central.GrantPutEventsTo(role, nil)
	f.role = role
	f.dlq = failurequeue.New(c, jsii.String("DeadLetterQueue"), "the events EventBridge could not forward to the central bus")

	add := func(ruleID, what string, pattern *awsevents.EventPattern, raw map[string]any, state string) {
		rule := awsevents.NewRule(c, jsii.String(ruleID), &awsevents.RuleProps{
			Description:  jsii.String("Activity Aware IDS: " + what + " to the central bus"),
			EventPattern: pattern,
		})
		cfn := rule.Node().DefaultChild().(awsevents.CfnRule)
		if raw != nil {
			cfn.AddPropertyOverride(jsii.String("EventPattern"), raw)
		}
		if state != "" {
			cfn.AddPropertyOverride(jsii.String("State"), jsii.String(state))
		}
		rule.AddTarget(awseventstargets.NewEventBus(central, &awseventstargets.EventBusProps{Role: role, DeadLetterQueue: f.dlq}))
		f.rules = append(f.rules, rule)
	}
	for _, s := range *props.Sources {
		switch *s {
		case cloudtrailevents.SourceName:
			raw, _, _, err := cloudtraileventssource.Pattern(ids)
			if err != nil {
				panic(err.Error())
			}
			add("CloudTrailEvents", "CloudTrail events", &awsevents.EventPattern{
				Source:     awsevents.Match_Prefix(jsii.String("aws.")),
				DetailType: jsii.Strings(cloudtraileventssource.DetailTypes...),
			}, raw, cloudtraileventssource.StateAllManagementEvents)
		case guardduty.SourceName:
			add("GuardDuty", "GuardDuty findings", guarddutysource.Pattern(), nil, "")
		case securityhub.SourceName:
			add("SecurityHub", "Security Hub findings", securityhubsource.Pattern(), nil, "")
		case accessanalyzer.SourceName:
			add("AccessAnalyzer", "IAM Access Analyzer findings", accessanalyzersource.Pattern(), nil, "")
		default:
			panic(fmt.Sprintf("memberforwarding: source %q cannot be forwarded (cloudtrail-events, guardduty, securityhub or accessanalyzer)", *s))
		}
	}
	return f
}
