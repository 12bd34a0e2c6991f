// Package pagerdutydestination provides the PagerDuty destination: a rule on
// the activity bus (by default activities of high severity or more) that
// invokes a function which triggers PagerDuty incidents through the Events
// API v2. The integration's routing key lives in a Secrets Manager secret
// under a customer-managed key.
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
	// SecretCacheTTL (default 5 minutes), ReservedConcurrency (2),
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
		Function:            p.Function,
	})
	return &destination.Construct{Construct: c, Parts: parts}
}
