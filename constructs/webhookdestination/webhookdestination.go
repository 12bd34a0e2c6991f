// Package webhookdestination provides the signed-webhook destination: rules
// on the activity bus put activities into two pacing queues, from which a
// function posts each activity to an HTTPS URL, signed with the Standard
// Webhooks scheme. Pacing, dead-letter and failure queues, and with
// Props.State the notification policy and its minute sweep (signed digest
// documents, package webhook), are every destination's, as described in
// package slackdestination. The URL and a
// generated signing secret live in one Secrets Manager secret under a
// customer-managed key; the receiver reads the signing secret from it (or is
// given it) and verifies with package destinations/webhook/signature.
package webhookdestination

import (
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	corrstate "github.com/activity-aware/ids/constructs/correlation"
	"github.com/activity-aware/ids/constructs/gofunction"
	"github.com/activity-aware/ids/constructs/internal/destination"
	"github.com/activity-aware/ids/constructs/routing"
	"github.com/activity-aware/ids/destinations/secrets"
	"github.com/activity-aware/ids/destinations/webhook"
)

// ImportPath is the main package of the destination function.
const ImportPath = "github.com/activity-aware/ids/lambdas/webhook-destination"

// SigningSecretLength is the length of the generated signing secret: 48
// letters and digits, all of the base64 alphabet, so the value decodes to 36
// random bytes (the scheme asks for 24 to 64).
const SigningSecretLength = 48

// Props configures a webhook destination. Bus and exactly one of URL and
// Secret are required.
type Props struct {
	Bus awsevents.IEventBus
	// URL is the receiver's https URL, stored with a generated signing
	// secret in a new secret, e.g. a NoEcho parameter's ValueAsString.
	URL *string
	// Secret is an existing secret holding {"url": …, "signingSecret":
	// "whsec_…"}.
	Secret awssecretsmanager.ISecret
	// SecretName and KeyAlias name the new secret and its key. Default:
	// generated names, no alias.
	SecretName, KeyAlias *string
	// Filter selects the activities sent. Default: all.
	Filter *routing.Filter
	// Condition, when set, gates every resource of the destination.
	Condition awscdk.CfnCondition
	// SecretCacheTTL is how long the function reuses the secret's value.
	// Default 5 minutes.
	SecretCacheTTL awscdk.Duration
	// ProducerAccounts are the accounts whose activities the destination
	// delivers (account ids, or "organization" for any account the bus's
	// organization policy admits, each publishing about itself); any other
	// event on the bus is refused and counted (eventbus.Trust). Default: the
	// stack's own account.
	ProducerAccounts *[]*string
	// ReservedConcurrency (default none), MaxEventAge (6 hours) and
	// RuleRetryAttempts (20) as for every destination.
	ReservedConcurrency *float64
	MaxEventAge         awscdk.Duration
	RuleRetryAttempts   *float64
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

// Destination is the destination: its function, secret (holding the URL and the signing secret), key,
// rule and queues.
type Destination interface {
	destination.Interface
}

// New defines the destination.
func New(scope constructs.Construct, id *string, props *Props) Destination {
	if props == nil || props.Bus == nil {
		panic("webhookdestination: Props.Bus is required")
	}
	if (props.URL == nil) == (props.Secret == nil) {
		panic("webhookdestination: exactly one of Props.URL and Props.Secret is required")
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
			Name:       "webhook",
			SecretName: p.SecretName,
			KeyAlias:   p.KeyAlias,
			Generate: &awssecretsmanager.SecretStringGenerator{
				SecretStringTemplate:    awscdk.Fn_Join(jsii.String(""), jsii.Strings(`{"url":"`, *p.URL, `"}`)),
				GenerateStringKey:       jsii.String("signingSecret"),
				PasswordLength:          jsii.Number(SigningSecretLength),
				ExcludePunctuation:      jsii.Bool(true),
				IncludeSpace:            jsii.Bool(false),
				RequireEachIncludedType: jsii.Bool(true),
			},
			NoRotation: "The secret holds the receiver's URL (a stack parameter) and a signing secret the " +
				"receiver must be given whenever it changes; rotating it without the receiver would stop " +
				"every delivery. Rotate by generating a new value and handing it over (README).",
		})
	}
	ttl := time.Duration(*p.SecretCacheTTL.ToSeconds(nil)) * time.Second
	parts := destination.New(c, destination.Props{
		Name:                "webhook",
		ImportPath:          ImportPath,
		Bus:                 p.Bus,
		Secret:              secret,
		Key:                 key,
		Environment:         secrets.Config{ARN: *secret.SecretArn(), CacheTTL: ttl}.Environment(webhook.EnvSecretARN),
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
	return &destination.Construct{Construct: c, Parts: parts}
}
