// Command pagerduty-destination is the PagerDuty destination Lambda: an
// EventBridge rule delivers each activity at or above its severity to it,
// and it triggers a PagerDuty incident through the Events API v2 with the
// routing key kept in Secrets Manager.
//
// Environment (package pagerduty reads it):
//
//	PAGERDUTY_SECRET_ARN  the secret holding the routing key (required)
//	PAGERDUTY_EVENTS_URL  the Events API endpoint (default the US region's)
//	SECRET_CACHE_TTL      how long the key is cached (Go duration, default 5m)
//	HEARTBEAT_ACCOUNT     the account heartbeat canaries must come from
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
	"github.com/activity-aware/ids/destinations/pagerduty"
	"github.com/activity-aware/ids/destinations/secrets"
	"github.com/activity-aware/ids/eventbus"
	"github.com/activity-aware/ids/metrics"
)

// requestTimeout bounds one request; the handler retries within the
// invocation's deadline.
const requestTimeout = 10 * time.Second

func main() {
	logger := lambdacontext.NewLogger()
	cfg, err := pagerduty.ConfigFromEnv(os.Getenv)
	if err != nil {
		logger.Error("pagerduty-destination: init failed", "error", err.Error())
		os.Exit(1)
	}
	awsCfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		logger.Error("pagerduty-destination: init failed", "error", fmt.Errorf("load AWS config: %w", err).Error())
		os.Exit(1)
	}
	trust, err := eventbus.ParseTrust(os.Getenv(eventbus.EnvProducerAccounts))
	if err != nil {
		logger.Error("pagerduty-destination: init failed", "error", err.Error())
		os.Exit(1)
	}
	h := &dispatch.Handler{
		Name:  "pagerduty",
		Trust: trust,
		Deliverer: &pagerduty.Destination{
			Secret: secrets.NewCache(secretsmanager.NewFromConfig(awsCfg), cfg.Secret.ARN, cfg.Secret.CacheTTL),
			Client: pagerduty.NewClient(&http.Client{Timeout: requestTimeout}, cfg.EventsURL, nil),
		},
		Logger:  logger,
		Metrics: metrics.New(os.Stdout, os.Getenv("AWS_LAMBDA_FUNCTION_NAME"), metrics.DimDestination, "pagerduty"),
		Account: os.Getenv("HEARTBEAT_ACCOUNT"),
	}
	lambda.Start(h.Handle)
}
