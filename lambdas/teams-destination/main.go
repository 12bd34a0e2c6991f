// Command teams-destination is the Microsoft Teams destination Lambda: an
// EventBridge rule delivers each activity to it, and it posts an Adaptive
// Card to the Workflows webhook whose URL is kept in Secrets Manager.
//
// Environment (package teams reads it):
//
//	TEAMS_WEBHOOK_SECRET_ARN  the secret holding the webhook URL (required)
//	SECRET_CACHE_TTL          how long the URL is cached (Go duration, default 5m)
//	HEARTBEAT_ACCOUNT         the account heartbeat canaries must come from
//	PRODUCER_ACCOUNTS         trusted producers: account ids and/or "organization"
package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/activity-aware/ids/destinations/dispatch"
	"github.com/activity-aware/ids/destinations/secrets"
	"github.com/activity-aware/ids/destinations/teams"
	"github.com/activity-aware/ids/eventbus"
	"github.com/activity-aware/ids/metrics"
)

// requestTimeout bounds one request; the handler retries within the
// invocation's deadline.
const requestTimeout = 10 * time.Second

func main() {
	logger := lambdacontext.NewLogger()
	cfg, err := teams.ConfigFromEnv(os.Getenv)
	if err != nil {
		logger.Error("teams-destination: init failed", "error", err.Error())
		os.Exit(1)
	}
	awsCfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		logger.Error("teams-destination: init failed", "error", fmt.Errorf("load AWS config: %w", err).Error())
		os.Exit(1)
	}
	trust, err := eventbus.ParseTrust(os.Getenv(eventbus.EnvProducerAccounts))
	if err != nil {
		logger.Error("teams-destination: init failed", "error", err.Error())
		os.Exit(1)
	}
	h := &dispatch.Handler{
		Name:  "teams",
		Trust: trust,
		Deliverer: &teams.Destination{
			Secret: secrets.NewCache(secretsmanager.NewFromConfig(awsCfg), cfg.ARN, cfg.CacheTTL),
			Client: teams.NewClient(&http.Client{Timeout: requestTimeout}, nil),
		},
		Logger:  logger,
		Metrics: metrics.New(os.Stdout, os.Getenv("AWS_LAMBDA_FUNCTION_NAME"), metrics.DimDestination, "teams"),
		Account: os.Getenv("HEARTBEAT_ACCOUNT"),
	}
	lambda.Start(h.Handle)
}
