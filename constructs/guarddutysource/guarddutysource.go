// Package guarddutysource provides the GuardDuty source: an EventBridge rule
// on the default bus (or the buses given) that sends every "GuardDuty
// Finding" event to the event-source function, which publishes one activity
// per finding on the activity bus (see sources/guardduty).
package guarddutysource

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/activity-aware/ids/constructs/gofunction"
	"github.com/activity-aware/ids/constructs/internal/eventsource"
	"github.com/activity-aware/ids/sources/guardduty"
)

// Props configures the source. Bus is required.
type Props struct {
	// Bus receives the activities.
	Bus awsevents.IEventBus
	// EventBuses the rule listens on. Default: the account's default bus,
	// where GuardDuty sends its findings.
	EventBuses *[]awsevents.IEventBus
	// MaxEventAge of a finding in the rule's and the function's retries.
	// Default 6 hours.
	MaxEventAge awscdk.Duration
	// Function overrides the function's defaults.
	Function *gofunction.Props
}

// Source is the GuardDuty source.
type Source = eventsource.Source

// Pattern matches GuardDuty findings.
func Pattern() *awsevents.EventPattern {
	return &awsevents.EventPattern{
		Source:     jsii.Strings(guardduty.EventSource),
		DetailType: jsii.Strings(guardduty.DetailType),
	}
}

// New defines the source.
func New(scope constructs.Construct, id *string, props *Props) Source {
	if props == nil || props.Bus == nil {
		panic("guarddutysource: Props.Bus is required")
	}
	var buses []awsevents.IEventBus
	if props.EventBuses != nil {
		buses = *props.EventBuses
	}
	return eventsource.New(scope, id, &eventsource.Props{
		Bus:         props.Bus,
		Sources:     []string{guardduty.SourceName},
		Pattern:     Pattern(),
		EventBuses:  buses,
		What:        "GuardDuty findings",
		MaxEventAge: props.MaxEventAge,
		Function:    props.Function,
	})
}
