// Command event-source is the function of the sources that read AWS service
// events from EventBridge (GuardDuty, Security Hub and IAM Access Analyzer findings): an EventBridge rule on the
// default bus invokes it with one event, which it standardizes into
// activities and publishes on the activity bus.
//
// Environment: see awsevents.ConfigFromEnv (EVENT_BUS_NAME, EVENT_SOURCES,
// PUT_EVENTS_MAX_BYTES, SECURITYHUB_SKIP_PRODUCTS).
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/activity-aware/ids/eventbus"
	"github.com/activity-aware/ids/monitoring/metrics"
	"github.com/activity-aware/ids/sources/awsevents"
	"github.com/activity-aware/ids/sources/eventsources"
)

func main() {
	logger := lambdacontext.NewLogger()
	handler, err := setup(context.Background(), logger)
	if err != nil {
		logger.Error("event-source: init failed", "error", err.Error())
		os.Exit(1)
	}
	lambda.Start(handler)
}

// setup reads the environment once and builds the clients and the handler.
func setup(ctx context.Context, logger *slog.Logger) (*awsevents.Handler, error) {
	cfg, err := awsevents.ConfigFromEnv(os.Getenv)
	if err != nil {
		return nil, err
	}
	router, err := eventsources.Router(cfg, os.Getenv)
	if err != nil {
		return nil, err
	}
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("load AWS config: %w", err)
	}
	pub, err := eventbus.NewPublisher(eventbus.NewClient(awsCfg), eventbus.Config{BusName: cfg.EventBusName, MaxRequestBytes: cfg.PutEventsMaxBytes, Logger: logger})
	if err != nil {
		return nil, err
	}
	return &awsevents.Handler{
		Router:    router,
		Publisher: pub,
		Logger:    logger,
		Metrics:   metrics.New(os.Stdout, os.Getenv("AWS_LAMBDA_FUNCTION_NAME"), metrics.DimSource, strings.Join(cfg.Sources, "+")),
	}, nil
}
