// Package accessanalyzersource provides the IAM Access Analyzer source: an
// EventBridge rule on the default bus (or the buses given) that sends the
// finding events of IAM Access Analyzer (external, unused and internal
// access) to the event-source function, which publishes one activity per
// active finding (see sources/accessanalyzer).
package accessanalyzersource

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/activity-aware/ids/constructs/internal/eventsource"
	"github.com/activity-aware/ids/sources/accessanalyzer"
)

// Props configures the source. Bus is required; EventBuses default to the
// account's default bus, where IAM Access Analyzer sends its findings.
type Props = eventsource.SourceProps

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
	return eventsource.NewSource(scope, id, props, accessanalyzer.SourceName, "IAM Access Analyzer findings", Pattern(), nil)
}
