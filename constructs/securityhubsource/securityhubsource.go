// Package securityhubsource provides the Security Hub source: an EventBridge
// rule on the default bus (or the buses given) that sends every "Security
// Hub Findings - Imported" event to the event-source function, which
// publishes one activity per finding that is a new alert (see
// sources/securityhub).
package securityhubsource

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/activity-aware/ids/constructs/gofunction"
	"github.com/activity-aware/ids/constructs/internal/eventsource"
	"github.com/activity-aware/ids/sources/securityhub"
)

// Props configures the source. Bus is required.
type Props struct {
	// Bus receives the activities.
	Bus awsevents.IEventBus
	// SkipGuardDuty skips the findings Security Hub imported from GuardDuty,
	// for stacks whose GuardDuty source reports them already. Default false.
	SkipGuardDuty *bool
	// EventBuses the rule listens on. Default: the account's default bus,
	// where Security Hub sends its findings.
	EventBuses *[]awsevents.IEventBus
	// MaxEventAge of an event in the rule's and the function's retries.
	// Default 6 hours.
	MaxEventAge awscdk.Duration
	// Function overrides the function's defaults.
	Function *gofunction.Props
}

// Source is the Security Hub source.
type Source = eventsource.Source

// Pattern matches imported Security Hub findings. Workflow and record state
// are checked by the function, which reads the fields Security Hub writes
// in every version of the format; a pattern on a field an older finding
// lacks would drop that finding unseen.
func Pattern() *awsevents.EventPattern {
	return &awsevents.EventPattern{
		Source:     jsii.Strings(securityhub.EventSource),
		DetailType: jsii.Strings(securityhub.DetailType),
	}
}

// New defines the source.
func New(scope constructs.Construct, id *string, props *Props) Source {
	if props == nil {
		props = &Props{}
	}
	var skip []string
	if props.SkipGuardDuty != nil && *props.SkipGuardDuty {
		skip = []string{securityhub.ProductGuardDuty}
	}
	return eventsource.NewSource(scope, id, &eventsource.SourceProps{
		Bus:         props.Bus,
		EventBuses:  props.EventBuses,
		MaxEventAge: props.MaxEventAge,
		Function:    props.Function,
	}, securityhub.SourceName, "Security Hub findings", Pattern(), func(p *eventsource.Props) { p.SkipProducts = skip })
}
