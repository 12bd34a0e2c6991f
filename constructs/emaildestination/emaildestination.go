// Package emaildestination provides the e-mail destination: rules on the
// activity bus put activities into two pacing queues, from which a function
// publishes each activity as an e-mail (an ASCII subject and a plain-text
// body, package email) to an SNS topic. Pacing, dead-letter and failure
// queues, and with Props.State the notification policy and its minute sweep
// (digest mails), are every destination's, as described in package
// slackdestination. The topic is encrypted with a customer-managed KMS key and only
// accepts TLS; its subscriptions (e-mail addresses, which must confirm) are
// the user's to manage. The function may publish to that topic only.
package emaildestination

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	corrstate "github.com/activity-aware/ids/constructs/correlation"
	"github.com/activity-aware/ids/constructs/gofunction"
	"github.com/activity-aware/ids/constructs/internal/destination"
	"github.com/activity-aware/ids/constructs/routing"
	"github.com/activity-aware/ids/destinations/email"
)

// ImportPath is the main package of the destination function.
const ImportPath = "github.com/activity-aware/ids/lambdas/email-destination"

// Props configures an e-mail destination. Bus is required.
type Props struct {
	Bus awsevents.IEventBus
	// Topic is an existing topic to publish to (its encryption is its
	// owner's). Default: a new topic under a new customer-managed key.
	Topic awssns.ITopic
	// TopicName and KeyAlias name the new topic and its key. Default:
	// names CloudFormation generates, no alias.
	TopicName, KeyAlias *string
	// Filter selects the activities mailed. Default: every activity.
	Filter *routing.Filter
	// Condition, when set, gates every resource of the destination.
	Condition awscdk.CfnCondition
	// ReservedConcurrency (default none), MaxEventAge (6 hours) and
	// RuleRetryAttempts (20) as for every destination.
	ReservedConcurrency *float64
	MaxEventAge         awscdk.Duration
	RuleRetryAttempts   *float64
	// ProducerAccounts are the accounts whose activities are mailed
	// (eventbus.Trust). Default: the stack's own account.
	ProducerAccounts *[]*string
	// MaxConcurrency (default 2), BatchSize (10) and MaxReceiveCount (10)
	// of the two pacing queues' event source mappings, as for every
	// destination.
	MaxConcurrency, BatchSize, MaxReceiveCount *float64
	// State, when set, turns on the notification policy (package
	// correlation) with its state in this table under DestinationName
	// (default: the construct's id): the first activity of a group is
	// delivered, the rest of its window (NotifyWindow, default 10 minutes)
	// folded into one digest, suppressions counted, an activity id
	// delivered once. GroupBy lists the group key's dimensions (default
	// principal and detection).
	State           corrstate.State
	DestinationName *string
	NotifyWindow    awscdk.Duration
	GroupBy         *[]*string
	// Function overrides the function's defaults.
	Function *gofunction.Props
}

// Destination is the destination: its topic, the topic's key, function,
// rule and queues. Secret is nil: SNS needs no credential.
type Destination interface {
	destination.Interface
	// Topic is the topic the mail is published to; subscribe e-mail
	// addresses to it.
	Topic() awssns.ITopic
	// TopicKey encrypts the topic; nil when an existing topic was passed.
	TopicKey() awskms.IKey
}

type emailDestination struct {
	*destination.Construct
	topic awssns.ITopic
	key   awskms.IKey
}

func (d *emailDestination) Topic() awssns.ITopic  { return d.topic }
func (d *emailDestination) TopicKey() awskms.IKey { return d.key }

// New defines the destination.
func New(scope constructs.Construct, id *string, props *Props) Destination {
	if props == nil || props.Bus == nil {
		panic("emaildestination: Props.Bus is required")
	}
	p := *props
	c := constructs.NewConstruct(scope, id)
	topic := p.Topic
	var key awskms.IKey
	if topic == nil {
		key = awskms.NewKey(c, jsii.String("Key"), &awskms.KeyProps{
			Description:       jsii.String("Activity Aware IDS: encrypts the e-mail destination's SNS topic"),
			EnableKeyRotation: jsii.Bool(true),
			RemovalPolicy:     awscdk.RemovalPolicy_DESTROY,
		})
		if p.KeyAlias != nil {
			key.AddAlias(p.KeyAlias)
		}
		topic = awssns.NewTopic(c, jsii.String("Topic"), &awssns.TopicProps{
			TopicName:   p.TopicName,
			DisplayName: jsii.String("Activity Aware IDS"),
			MasterKey:   key,
			EnforceSSL:  jsii.Bool(true),
		})
	}
	cfg := email.Config{TopicARN: *topic.TopicArn()}
	parts := destination.New(c, destination.Props{
		Name:                "e-mail",
		ImportPath:          ImportPath,
		Bus:                 p.Bus,
		Environment:         cfg.Environment(),
		ProducerAccounts:    p.ProducerAccounts,
		Filter:              p.Filter,
		Condition:           p.Condition,
		ReservedConcurrency: p.ReservedConcurrency,
		MaxEventAge:         p.MaxEventAge,
		RuleRetryAttempts:   p.RuleRetryAttempts,
		MaxConcurrency:      p.MaxConcurrency,
		BatchSize:           p.BatchSize,
		MaxReceiveCount:     p.MaxReceiveCount,
		State:               p.State,
		DestinationName:     p.DestinationName,
		NotifyWindow:        p.NotifyWindow,
		GroupBy:             p.GroupBy,
		Function:            p.Function,
	})
	// sns:Publish on this topic only, and for the new topic the two key
	// actions publishing to an encrypted topic needs, named exactly
	// (Topic.GrantPublish would grant kms:GenerateDataKey*).
	fn := parts.Function()
	fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("sns:Publish"),
		Resources: &[]*string{topic.TopicArn()},
	}))
	if key != nil {
		key.Grant(fn, jsii.String("kms:GenerateDataKey"), jsii.String("kms:Decrypt"))
	}
	if p.Condition != nil {
		destination.Gate(c, p.Condition)
	}
	return &emailDestination{Construct: &destination.Construct{Construct: c, Parts: parts}, topic: topic, key: key}
}
