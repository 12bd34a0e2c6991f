// Package guarddutysource provides the GuardDuty source: an EventBridge rule
// on the default bus (or the buses given) that sends every "GuardDuty
// Finding" event to the event-source function, which publishes one activity
// per finding on the activity bus (see sources/guardduty).
package guarddutysource

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/activity-aware/ids/constructs/internal/eventsource"
	"github.com/activity-aware/ids/sources/guardduty"
)

// Props configures the source. Bus is required; EventBuses default to the
// account's default bus, where GuardDuty sends its findings.
type Props = eventsource.SourceProps

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
	return eventsource.NewSource(scope, id, props, guardduty.SourceName, "GuardDuty findings", Pattern(), nil)
}
