// Package teamsdestination provides the Microsoft Teams destination: a rule
// on the activity bus that invokes a function which posts each activity as an
// Adaptive Card to a Teams Workflows webhook, whose URL lives in a Secrets
// Manager secret under a customer-managed key.
package teamsdestination

import (
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/activity-aware/ids/constructs/gofunction"
	"github.com/activity-aware/ids/constructs/internal/destination"
	"github.com/activity-aware/ids/constructs/routing"
	"github.com/activity-aware/ids/destinations/secrets"
	"github.com/activity-aware/ids/destinations/teams"
)

// ImportPath is the main package of the destination function.
const ImportPath = "github.com/activity-aware/ids/lambdas/teams-destination"

// Props configures a Teams destination. Bus and exactly one of WebhookURL
// and Secret are required.
type Props struct {
	Bus awsevents.IEventBus
	// WebhookURL is the Workflows webhook URL, stored in a new secret, e.g.
	// awscdk.SecretValue_CfnParameter of a NoEcho parameter.
	WebhookURL awscdk.SecretValue
	// Secret is an existing secret holding the URL (bare or {"url": …}).
	Secret awssecretsmanager.ISecret
	// SecretName and KeyAlias name the new secret and its key.
	SecretName, KeyAlias *string
	// Filter selects the activities posted. Default: all.
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
	// ProducerAccounts are the accounts whose activities are posted
	// (account ids, or "organization" for any account the bus's
	// organization policy admits, each publishing about itself); any other
	// event on the bus is refused and counted (eventbus.Trust). Default: the
	// stack's own account.
	ProducerAccounts *[]*string
	// Function overrides the function's defaults.
	Function *gofunction.Props
}

// Destination is the destination: its function, secret (holding the webhook URL), key,
// rule and queues.
type Destination interface {
	destination.Interface
}

// New defines the destination.
func New(scope constructs.Construct, id *string, props *Props) Destination {
	if props == nil || props.Bus == nil {
		panic("teamsdestination: Props.Bus is required")
	}
	if (props.WebhookURL == nil) == (props.Secret == nil) {
		panic("teamsdestination: exactly one of Props.WebhookURL and Props.Secret is required")
	}
	p := *props
	if p.SecretCacheTTL == nil {
		p.SecretCacheTTL = awscdk.Duration_Seconds(jsii.Number(secrets.DefaultTTL.Seconds()))
	}
	c := constructs.NewConstruct(scope, id)
	secret := p.Secret
	var key awskms.IKey
	if secret == nil {
		key, secret = destination.NewSecret(c, destination.SecretProps{
			Name:       "Teams",
			SecretName: p.SecretName,
			KeyAlias:   p.KeyAlias,
			Value:      p.WebhookURL,
			NoRotation: "The secret is a Teams Workflows webhook URL, which only the workflow's owner can " +
				"reissue (then updated with a stack update or put-secret-value); no rotation Lambda can " +
				"create one.",
		})
	}
	parts := destination.New(c, destination.Props{
		Name:                "Teams",
		ImportPath:          ImportPath,
		Bus:                 p.Bus,
		Secret:              secret,
		Key:                 key,
		Environment:         secrets.Config{ARN: *secret.SecretArn(), CacheTTL: time.Duration(*p.SecretCacheTTL.ToSeconds(nil)) * time.Second}.Environment(teams.EnvSecretARN),
		ProducerAccounts:    p.ProducerAccounts,
		Filter:              p.Filter,
		Condition:           p.Condition,
		ReservedConcurrency: p.ReservedConcurrency,
		MaxEventAge:         p.MaxEventAge,
		RuleRetryAttempts:   p.RuleRetryAttempts,
		Function:            p.Function,
	})
	return &destination.Construct{Construct: c, Parts: parts}
}
