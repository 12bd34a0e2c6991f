// Command cloudtrail-source is the CloudTrailSource Lambda: subscribed to the
// CloudWatch Logs log group CloudTrail writes to, it standardizes every
// CloudTrail record of a batch into an activity and publishes the activities
// on the activity bus. Invoked with a heartbeat request (by the monitoring
// schedule), it publishes the canary activity instead.
//
// Environment:
//
//	EVENT_BUS_NAME        the activity bus (required)
//	DETECTIONS            comma-separated detection preset ids to evaluate
//	PUT_EVENTS_MAX_BYTES  PutEvents request and entry size limit (default 262144)
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

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/denial"
	"github.com/activity-aware/ids/detections"
	"github.com/activity-aware/ids/eventbus"
	"github.com/activity-aware/ids/metrics"
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
	busName := os.Getenv("EVENT_BUS_NAME")
	if busName == "" {
		return nil, fmt.Errorf("EVENT_BUS_NAME is not set")
	}
	maxBytes := activity.DefaultMaxEntrySize
	if v := os.Getenv("PUT_EVENTS_MAX_BYTES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("PUT_EVENTS_MAX_BYTES: want a positive number of bytes, got %q", v)
		}
		maxBytes = n
	}
	enrichers, err := enrichers(os.Getenv("DETECTIONS"))
	if err != nil {
		return nil, err
	}
	// The SDK's standard AWS_ENDPOINT_URL_EVENTBRIDGE keeps working, so the
	// function runs against local endpoints too.
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("load AWS config: %w", err)
	}
	pub, err := eventbus.NewPublisher(eventbus.NewClient(cfg), eventbus.Config{BusName: busName, MaxRequestBytes: maxBytes, Logger: logger})
	if err != nil {
		return nil, err
	}
	return &cloudtrail.Handler{
		Source:    cloudtrail.New(cloudtrail.Options{Enrichers: enrichers}),
		Publisher: pub,
		Logger:    logger,
		// EMF lines on stdout become metrics in CloudWatch Logs.
		Metrics: metrics.New(os.Stdout, os.Getenv("AWS_LAMBDA_FUNCTION_NAME"), metrics.DimSource, "cloudtrail"),
	}, nil
}

// enrichers builds what the source adds to every activity: the denial
// explanation, and the labels of the detection presets listed in ids.
func enrichers(ids string) ([]cloudtrail.Enricher, error) {
	presets, err := detections.ParseList(ids)
	if err != nil {
		return nil, fmt.Errorf("DETECTIONS: %w", err)
	}
	return []cloudtrail.Enricher{detections.NewSet(presets), denial.Enricher{}}, nil
}
