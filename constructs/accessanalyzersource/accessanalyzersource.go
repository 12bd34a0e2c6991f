// Package accessanalyzersource provides the IAM Access Analyzer source: an
// EventBridge rule on the default bus (or the buses given) that sends the
// finding events of IAM Access Analyzer (external, unused and internal
// access) to the event-source function, which publishes one activity per
// active finding (see sources/accessanalyzer).
package accessanalyzersource

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/activity-aware/ids/constructs/gofunction"
	"github.com/activity-aware/ids/constructs/internal/eventsource"
	"github.com/activity-aware/ids/sources/accessanalyzer"
)

// Props configures the source. Bus is required.
type Props struct {
	// Bus receives the activities.
	Bus awsevents.IEventBus
	// EventBuses the rule listens on. Default: the account's default bus,
	// where IAM Access Analyzer sends its findings.
	EventBuses *[]awsevents.IEventBus
	// MaxEventAge of an event in the rule's and the function's retries.
	// Default 6 hours.
	MaxEventAge awscdk.Duration
	// Function overrides the function's defaults.
	Function *gofunction.Props
}

// Source is the IAM Access Analyzer source.
type Source = eventsource.Source

// Pattern matches IAM Access Analyzer finding events.
func Pattern() *awsevents.EventPattern {
	return &awsevents.EventPattern{
		Source:     jsii.Strings(accessanalyzer.EventSource),
		DetailType: jsii.Strings(accessanalyzer.DetailTypes...),
	}
}

// New defines the source.
func New(scope constructs.Construct, id *string, props *Props) Source {
	if props == nil || props.Bus == nil {
		panic("accessanalyzersource: Props.Bus is required")
	}
	var buses []awsevents.IEventBus
	if props.EventBuses != nil {
		buses = *props.EventBuses
	}
	return eventsource.New(scope, id, &eventsource.Props{
		Bus:         props.Bus,
		Sources:     []string{accessanalyzer.SourceName},
		Pattern:     Pattern(),
		EventBuses:  buses,
		What:        "IAM Access Analyzer findings",
		MaxEventAge: props.MaxEventAge,
		Function:    props.Function,
	})
}
