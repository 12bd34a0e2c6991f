package dispatch

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/activity-aware/ids/correlation"
	"github.com/activity-aware/ids/destinations/secrets"
	"github.com/activity-aware/ids/eventbus"
	"github.com/activity-aware/ids/monitoring/metrics"
)

// Secret yields the current value of a destination's secret, cached for a
// bounded time so a rotated secret is picked up (secrets.(*Cache)
// implements it).
type Secret interface {
	Value(ctx context.Context) (string, error)
}

var _ Secret = (*secrets.Cache)(nil)

// EnvHeartbeatAccount is the account the heartbeat canary must come from.
const EnvHeartbeatAccount = "HEARTBEAT_ACCOUNT"

// Run is a destination function's main: it reads the environment once (the
// secret named by secretVar and its cache TTL, PRODUCER_ACCOUNTS,
// HEARTBEAT_ACCOUNT, and the notification policy's STATE_TABLE,
// DESTINATION_NAME, NOTIFY_WINDOW, NOTIFY_GROUP_BY), builds the secret cache
// and the state table's client (the SDK's AWS_ENDPOINT_URL_SECRETS_MANAGER
// and AWS_ENDPOINT_URL_DYNAMODB keep working, so the function runs against
// local endpoints too), lets build make the destination's Deliverer, and
// starts the Lambda handler (Invoke: pacing queue batches, the sweep, or a
// rule's event) with metrics under name. A bad environment ends the process
// at init with the reason logged.
func Run(name, secretVar string, build func(secret Secret, getenv func(string) string) (Deliverer, error)) {
	logger := lambdacontext.NewLogger()
	h, err := setup(name, secretVar, build)
	if err != nil {
		logger.Error(name+"-destination: init failed", "error", err.Error())
		os.Exit(1)
	}
	h.Logger = logger
	// The Handler is a lambda.Handler (Invoke): it takes the pacing
	// queues' batches, the scheduled sweep and direct rule invocations.
	lambda.Start(h)
}

// RunAWS is Run for a destination without a secret (e-mail through SNS):
// build gets the SDK configuration to make its AWS client from.
func RunAWS(name string, build func(cfg aws.Config, getenv func(string) string) (Deliverer, error)) {
	logger := lambdacontext.NewLogger()
	h, err := setupAWS(name, build)
	if err != nil {
		logger.Error(name+"-destination: init failed", "error", err.Error())
		os.Exit(1)
	}
	h.Logger = logger
	// The Handler is a lambda.Handler (Invoke): it takes the pacing
	// queues' batches, the scheduled sweep and direct rule invocations.
	lambda.Start(h)
}

func setup(name, secretVar string, build func(Secret, func(string) string) (Deliverer, error)) (*Handler, error) {
	cfg, err := secrets.ConfigFromEnv(os.Getenv, secretVar)
	if err != nil {
		return nil, err
	}
	return setupAWS(name, func(awsCfg aws.Config, getenv func(string) string) (Deliverer, error) {
		return build(secrets.NewCache(secretsmanager.NewFromConfig(awsCfg), cfg.ARN, cfg.CacheTTL), getenv)
	})
}

func setupAWS(name string, build func(aws.Config, func(string) string) (Deliverer, error)) (*Handler, error) {
	trust, err := eventbus.ParseTrust(os.Getenv(eventbus.EnvProducerAccounts))
	if err != nil {
		return nil, err
	}
	awsCfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		return nil, fmt.Errorf("load AWS config: %w", err)
	}
	d, err := build(awsCfg, os.Getenv)
	if err != nil {
		return nil, err
	}
	nc, err := correlation.NotifierConfigFromEnv(os.Getenv, name)
	if err != nil {
		return nil, err
	}
	var notifier Notifier
	if nc.StateTable != "" {
		if _, ok := d.(DigestDeliverer); !ok {
			return nil, fmt.Errorf("%s: %s is set, but the destination delivers no digests", name, correlation.EnvStateTable)
		}
		notifier = &correlation.Notifier{
			Store:  correlation.NewDynamoDBStore(dynamodb.NewFromConfig(awsCfg), nc.StateTable),
			Policy: nc.Policy,
		}
	}
	return &Handler{
		Notifier:  notifier,
		Name:      name,
		Trust:     trust,
		Deliverer: d,
		// EMF lines on stdout become metrics in CloudWatch Logs.
		Metrics: metrics.New(os.Stdout, os.Getenv("AWS_LAMBDA_FUNCTION_NAME"), metrics.DimDestination, name),
		Account: os.Getenv(EnvHeartbeatAccount),
	}, nil
}
