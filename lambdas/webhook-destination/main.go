// Command webhook-destination is the WebhookDestination Lambda: an
// EventBridge rule delivers each activity to it, and it posts the activity,
// signed with the Standard Webhooks scheme, to the URL kept in Secrets
// Manager with the signing secret.
//
// Environment (package webhook reads it):
//
//	WEBHOOK_SECRET_ARN  the secret {"url": …, "signingSecret": …} (required)
//	SECRET_CACHE_TTL    how long its value is cached (Go duration, default 5m)
//	PRODUCER_ACCOUNTS   trusted producers: account ids and/or "organization"
//	                    (default: the function's own account)
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
	"github.com/activity-aware/ids/destinations/webhook"
	"github.com/activity-aware/ids/eventbus"
	"github.com/activity-aware/ids/metrics"
)

// EnvHeartbeatAccount is the account the heartbeat canary must come from.
const EnvHeartbeatAccount = "HEARTBEAT_ACCOUNT"

// requestTimeout bounds one request, within the scheme's advice of 15 to 30
// seconds; the handler retries within the invocation's deadline.
const requestTimeout = 15 * time.Second

func main() {
	logger := lambdacontext.NewLogger()
	cfg, err := webhook.ConfigFromEnv(os.Getenv)
	if err != nil {
		logger.Error("webhook-destination: init failed", "error", err.Error())
		os.Exit(1)
	}
	// The SDK's AWS_ENDPOINT_URL_SECRETS_MANAGER keeps working, so the
	// function runs against a local endpoint too.
	awsCfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		logger.Error("webhook-destination: init failed", "error", fmt.Errorf("load AWS config: %w", err).Error())
		os.Exit(1)
	}
	trust, err := eventbus.ParseTrust(os.Getenv(eventbus.EnvProducerAccounts))
	if err != nil {
		logger.Error("webhook-destination: init failed", "error", err.Error())
		os.Exit(1)
	}
	h := &dispatch.Handler{
		Name:  "webhook",
		Trust: trust,
		Deliverer: &webhook.Destination{
			Secret: secrets.NewCache(secretsmanager.NewFromConfig(awsCfg), cfg.ARN, cfg.CacheTTL),
			Client: webhook.NewClient(&http.Client{Timeout: requestTimeout}, nil),
		},
		Logger: logger,
		// EMF lines on stdout become metrics in CloudWatch Logs.
		Metrics: metrics.New(os.Stdout, os.Getenv("AWS_LAMBDA_FUNCTION_NAME"), metrics.DimDestination, "webhook"),
		Account: os.Getenv(EnvHeartbeatAccount),
	}
	lambda.Start(h.Handle)
}
