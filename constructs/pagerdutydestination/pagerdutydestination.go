// Package pagerdutydestination provides the PagerDuty destination: rules on
// the activity bus (by default activities of high severity or more) put
// activities into two pacing queues, from which a function triggers
// PagerDuty incidents through the Events API v2. The integration's routing
// key lives in a Secrets Manager secret under a customer-managed key.
// Pacing, dead-letter and failure queues, and with Props.State the
// notification policy, are every destination's, as described in package
// slackdestination; the group's key is the events' dedup_key, so a burst is
// one incident (package pagerduty).
package pagerdutydestination

import (
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/activity-aware/ids/activity"
	corrstate "github.com/activity-aware/ids/constructs/correlation"
	"github.com/activity-aware/ids/constructs/gofunction"
	"github.com/activity-aware/ids/constructs/internal/destination"
	"github.com/activity-aware/ids/constructs/routing"
	"github.com/activity-aware/ids/destinations/pagerduty"
	"github.com/activity-aware/ids/destinations/secrets"
)

// ImportPath is the main package of the destination function.
const ImportPath = "github.com/activity-aware/ids/lambdas/pagerduty-destination"

// DefaultMinSeverity is the least severity that pages when the filter sets
// none.
const DefaultMinSeverity = activity.High

// Props configures a PagerDuty destination. Bus and exactly one of
// RoutingKey and Secret are required.
type Props struct {
	Bus awsevents.IEventBus
	// RoutingKey is the Events API v2 integration key, stored in a new
	// secret, e.g. awscdk.SecretValue_CfnParameter of a NoEcho parameter.
	RoutingKey awscdk.SecretValue
	// Secret is an existing secret holding the key (bare or {"routingKey":
	// …}).
	Secret awssecretsmanager.ISecret
	// SecretName and KeyAlias name the new secret and its key.
	SecretName, KeyAlias *string
	// EventsURL is the Events API endpoint. Default: PagerDuty's US service
	// region; https://events.eu.pagerduty.com/v2/enqueue for the EU one.
	EventsURL *string
	// Filter selects the activities that page. Default: severity high or
	// more (a filter without MinSeverity gets that default too).
	Filter *routing.Filter
	// Condition, when set, gates every resource of the destination.
	Condition awscdk.CfnCondition
	// SecretCacheTTL (default 5 minutes), ReservedConcurrency (none),
	// MaxEventAge (6 hours) and RuleRetryAttempts (20) as for every
	// destination.
	SecretCacheTTL      awscdk.Duration
	ReservedConcurrency *float64
	MaxEventAge         awscdk.Duration
	RuleRetryAttempts   *float64
	// ProducerAccounts are the accounts whose activities may page (account
	// ids, or "organization" for any account the bus's organization policy
	// admits, each publishing about itself); any other event on the bus is
	// refused and counted (eventbus.Trust). Default: the stack's own account.
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

// Destination is the destination: its function, secret (holding the routing key), key,
// rule and queues.
type Destination interface {
	destination.Interface
}

// New defines the destination.
func New(scope constructs.Construct, id *string, props *Props) Destination {
	if props == nil || props.Bus == nil {
		panic("pagerdutydestination: Props.Bus is required")
	}
	if (props.RoutingKey == nil) == (props.Secret == nil) {
		panic("pagerdutydestination: exactly one of Props.RoutingKey and Props.Secret is required")
	}
	p := *props
	if p.SecretCacheTTL == nil {
		p.SecretCacheTTL = awscdk.Duration_Seconds(jsii.Number(secrets.DefaultTTL.Seconds()))
	}
	filter := routing.Filter{}
	if p.Filter != nil {
		filter = *p.Filter
	}
	if filter.MinSeverity == nil {
		filter.MinSeverity = jsii.String(string(DefaultMinSeverity))
	}
	c := constructs.NewConstruct(scope, id)
	secret := p.Secret
	var key awskms.IKey
	if secret == nil {
		key, secret = destination.NewSecret(c, destination.SecretProps{
			Name:       "PagerDuty",
			SecretName: p.SecretName,
			KeyAlias:   p.KeyAlias,
			Value:      p.RoutingKey,
			NoRotation: "The secret is a PagerDuty Events API v2 integration key, which only a PagerDuty " +
				"admin can reissue (then updated with a stack update or put-secret-value); no rotation " +
				"Lambda can create one.",
		})
	}
	cfg := pagerduty.Config{
		Secret: secrets.Config{ARN: *secret.SecretArn(), CacheTTL: time.Duration(*p.SecretCacheTTL.ToSeconds(nil)) * time.Second},
	}
	if p.EventsURL != nil {
		cfg.EventsURL = *p.EventsURL
	}
	parts := destination.New(c, destination.Props{
		Name:                "PagerDuty",
		ImportPath:          ImportPath,
		Bus:                 p.Bus,
		Secret:              secret,
		Key:                 key,
		Environment:         cfg.Environment(),
		ProducerAccounts:    p.ProducerAccounts,
		Filter:              &filter,
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
	return &destination.Construct{Construct: c, Parts: parts}
}
