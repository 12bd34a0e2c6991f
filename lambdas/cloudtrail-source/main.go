// Command cloudtrail-source is the CloudTrailSource Lambda: subscribed to the
// CloudWatch Logs log group CloudTrail writes to, it standardizes every
// CloudTrail record of a batch into an activity and publishes the activities
// on the activity bus. Invoked with a heartbeat request (by the monitoring
// schedule), it publishes the canary activity instead. Invoked by the event
// source mapping of a logs destination's Kinesis stream (-c kinesisLogs=true),
// it reads each record's gzipped batch the same way and answers with the
// batch item failures.
//
// Its environment is cloudtrail.ConfigFromEnv's (EVENT_BUS_NAME, DETECTIONS,
// DETECTION_EXCLUSIONS, DETECTIONS_ONLY, PUT_EVENTS_MAX_BYTES); the
// cloudtrailsource construct sets it.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/correlation"
	"github.com/activity-aware/ids/eventbus"
	"github.com/activity-aware/ids/monitoring/metrics"
	"github.com/activity-aware/ids/sources/cloudtrail"
)

func main() {
	// Size the collector for the function's memory (see cloudtrail.TuneGC);
	// GOGC or GOMEMLIMIT in the environment override it.
	memoryMB, _ := strconv.Atoi(os.Getenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"))
	cloudtrail.TuneGC(memoryMB)
	logger := lambdacontext.NewLogger()
	handler, err := setup(context.Background(), logger)
	if err != nil {
		logger.Error("cloudtrail-source: init failed", "error", err.Error())
		os.Exit(1)
	}
	// The Handler is a lambda.Handler: it reads the raw payload itself,
	// without encoding/json's passes over a megabyte of base64.
	lambda.Start(handler)
}

// setup reads the environment once and builds the clients and the handler.
func setup(ctx context.Context, logger *slog.Logger) (*cloudtrail.Handler, error) {
	cfg, err := cloudtrail.ConfigFromEnv(os.Getenv)
	if err != nil {
		return nil, err
	}
	corrCfg, err := correlation.DetectorConfigFromEnv(os.Getenv)
	if err != nil {
		return nil, err
	}
	presets, err := cfg.Presets()
	if err != nil {
		return nil, err
	}
	// What the source adds to every activity: the labels of the configured
	// detection presets, and the denial explanation.
	src, err := cfg.NewSource()
	if err != nil {
		return nil, err
	}
	var keep func(*activity.Activity) bool
	if cfg.DetectionsOnly {
		keep = cloudtrail.KeepLabelled
	}
	// The SDK's standard AWS_ENDPOINT_URL_EVENTBRIDGE keeps working, so the
	// function runs against local endpoints too.
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("load AWS config: %w", err)
	}
	pub, err := eventbus.NewPublisher(eventbus.NewClient(awsCfg), eventbus.Config{
		BusName: cfg.EventBusName, MaxRequestBytes: cfg.PutEventsMaxBytes, Logger: logger,
	})
	if err != nil {
		return nil, err
	}
	var failures cloudtrail.FailureQueue
	if cfg.FailureQueueURL != "" {
		failures = &cloudtrail.SQSFailureQueue{Client: sqs.NewFromConfig(awsCfg), URL: cfg.FailureQueueURL}
	}
	var publisher cloudtrail.Publisher = pub
	if corrCfg.StateTable != "" {
		// Bursts of denials and threshold presets become derived
		// activities, published with the batch that completes them
		// (AWS_ENDPOINT_URL_DYNAMODB reaches a local table).
		publisher = &correlation.Publisher{Next: pub, Detector: &correlation.Detector{
			Store: correlation.NewDynamoDBStore(dynamodb.NewFromConfig(awsCfg), corrCfg.StateTable),
			Rules: append([]correlation.Rule{correlation.DenialBurst(corrCfg.BurstCount, corrCfg.BurstWindow)}, correlation.ThresholdRules(presets)...),
		}}
	}
	return &cloudtrail.Handler{
		Source:    src,
		Publisher: publisher,
		Logger:    logger,
		Keep:      keep,
		Failures:  failures,
		// EMF lines on stdout become metrics in CloudWatch Logs.
		Metrics: metrics.New(os.Stdout, os.Getenv("AWS_LAMBDA_FUNCTION_NAME"), metrics.DimSource, "cloudtrail"),
	}, nil
}
