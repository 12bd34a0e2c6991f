// Package activitybus provides the activity bus: the EventBridge custom bus
// on which sources publish standardized activities and from which each
// destination's rule takes them, with an archive so activities can be
// replayed.
package activitybus

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/activity-aware/ids/activity"
)

// DefaultArchiveRetentionDays is how long the archive keeps activities when
// Props.ArchiveRetention is nil.
const DefaultArchiveRetentionDays = 30

// Props configures the activity bus. All fields are optional.
//
// Constructs that take the bus (cloudtrailsource, slackdestination, and any
// other Go CDK app's) accept an awsevents.IEventBus: pass Bus.EventBus().
type Props struct {
	// EventBusName names the bus. Default: a name CDK derives from the
	// construct path, unique in the account.
	EventBusName *string
	// ArchiveRetention is how long archived activities can be replayed.
	// Default 30 days.
	ArchiveRetention awscdk.Duration
	// OrganizationID, when set (o-...), lets every account of that AWS
	// Organization publish activities on the bus, and nothing else: the
	// statement pins the source to activity.SourcePrefix and the detail type
	// to activity.DetailType. Destinations still verify who published each
	// activity (slackdestination's ProducerAccounts).
	OrganizationID *string
	// ForwardedDetailTypes, with OrganizationID, lets the organization's
	// accounts forward AWS service events of these detail-types (source
	// "aws.*", which only AWS services can emit) to the bus, for the sources
	// that read them there (constructs/memberforwarding).
	ForwardedDetailTypes *[]*string
}

// Bus is the activity bus.
type Bus interface {
	constructs.Construct
	// EventBus is the EventBridge custom bus, for anything that takes an
	// awsevents.IEventBus.
	EventBus() awsevents.IEventBus
	// Archive keeps every activity published on the bus for replay.
	Archive() awsevents.Archive
	// GrantPut lets grantee publish activities (events:PutEvents on this bus).
	GrantPut(grantee awsiam.IGrantable) awsiam.Grant
}

type bus struct {
	constructs.Construct
	eventBus awsevents.EventBus
	archive  awsevents.Archive
}

func (b *bus) EventBus() awsevents.IEventBus { return b.eventBus }
func (b *bus) Archive() awsevents.Archive    { return b.archive }

func (b *bus) GrantPut(grantee awsiam.IGrantable) awsiam.Grant {
	return b.eventBus.GrantPutEventsTo(grantee, nil)
}

// ActivityPattern matches every activity entry: Source starting with
// activity.SourcePrefix and DetailType activity.DetailType.
func ActivityPattern() *awsevents.EventPattern {
	return &awsevents.EventPattern{
		Source:     awsevents.Match_Prefix(jsii.String(activity.SourcePrefix)),
		DetailType: jsii.Strings(activity.DetailType),
	}
}

// New defines the activity bus and its archive.
func New(scope constructs.Construct, id *string, props *Props) Bus {
	var p Props
	if props != nil {
		p = *props
	}
	if p.ArchiveRetention == nil {
		p.ArchiveRetention = awscdk.Duration_Days(jsii.Number(DefaultArchiveRetentionDays))
	}

	c := constructs.NewConstruct(scope, id)
	eventBus := awsevents.NewEventBus(c, jsii.String("Bus"), &awsevents.EventBusProps{
		EventBusName: p.EventBusName,
		Description:  jsii.String("Activity Aware IDS: standardized activities from sources to destinations"),
	})
	archive := eventBus.Archive(jsii.String("Archive"), &awsevents.BaseArchiveProps{
		Description:  jsii.String("Every activity published on the bus, for replay"),
		EventPattern: ActivityPattern(),
		Retention:    p.ArchiveRetention,
	})
	if p.OrganizationID != nil {
		eventBus.AddToResourcePolicy(organizationPut("OrganizationPutActivities", eventBus, *p.OrganizationID,
			activity.DetailType, activity.SourcePrefix+"*"))
	}
	if p.OrganizationID != nil && p.ForwardedDetailTypes != nil && len(*p.ForwardedDetailTypes) > 0 {
		eventBus.AddToResourcePolicy(organizationPut("OrganizationForwardServiceEvents", eventBus, *p.OrganizationID,
			*p.ForwardedDetailTypes, "aws.*"))
	}
	return &bus{Construct: c, eventBus: eventBus, archive: archive}
}

// organizationPut lets every principal of the organization put events on the
// bus whose detail type is detailTypes (one or a list) and whose source
// matches sourcePattern, and nothing else.
func organizationPut(sid string, eventBus awsevents.EventBus, orgID string, detailTypes any, sourcePattern string) awsiam.PolicyStatement {
	return awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String(sid),
		Principals: &[]awsiam.IPrincipal{awsiam.NewAnyPrincipal()},
		Actions:    jsii.Strings("events:PutEvents"),
		Resources:  jsii.Strings(*eventBus.EventBusArn()),
		Conditions: &map[string]any{
			"StringEquals": map[string]any{"aws:PrincipalOrgID": orgID, "events:detail-type": detailTypes},
			"StringLike":   map[string]any{"events:source": sourcePattern},
		},
	})
}
