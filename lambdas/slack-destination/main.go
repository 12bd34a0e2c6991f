// Command slack-destination is the SlackDestination Lambda: an EventBridge
// rule delivers each activity to it, and it posts the activity to Slack
// through the incoming webhook whose URL is kept in Secrets Manager.
//
// Environment:
//
//	SLACK_WEBHOOK_SECRET_ARN       the secret holding the webhook URL (required)
//	SECRET_CACHE_TTL               how long the URL is cached (Go duration, default 5m)
//	DECODE_AUTHORIZATION_MESSAGES  "true" to decode EC2's encoded authorization
//	                               failure messages with sts:DecodeAuthorizationMessage
//	HEARTBEAT_ACCOUNT              the account heartbeat canaries must come from
//	                               (default: any)
package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/activity-aware/ids/denial"
	"github.com/activity-aware/ids/destinations/secrets"
	"github.com/activity-aware/ids/destinations/slack"
	"github.com/activity-aware/ids/metrics"
)

// slackTimeout bounds one webhook request; the handler retries within the
// invocation's deadline.
const slackTimeout = 10 * time.Second

func main() {
	logger := lambdacontext.NewLogger()
	handler, err := setup(context.Background(), logger)
	if err != nil {
		logger.Error("slack-destination: init failed", "error", err.Error())
		os.Exit(1)
	}
	lambda.Start(handler.Handle)
}

// setup reads the environment once and builds the clients and the handler.
func setup(ctx context.Context, logger *slog.Logger) (*slack.Handler, error) {
	secretARN := os.Getenv("SLACK_WEBHOOK_SECRET_ARN")
	if secretARN == "" {
		return nil, fmt.Errorf("SLACK_WEBHOOK_SECRET_ARN is not set")
	}
	ttl := 5 * time.Minute
	if v := os.Getenv("SECRET_CACHE_TTL"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return nil, fmt.Errorf("SECRET_CACHE_TTL: want a duration such as 5m, got %q", v)
		}
		ttl = d
	}
	decode := false
	if v := os.Getenv("DECODE_AUTHORIZATION_MESSAGES"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, fmt.Errorf("DECODE_AUTHORIZATION_MESSAGES: want true or false, got %q", v)
		}
		decode = b
	}
	// The SDK's standard AWS_ENDPOINT_URL_SECRETS_MANAGER (and _STS) keep
	// working, so the function runs against local endpoints too.
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("load AWS config: %w", err)
	}
	h := &slack.Handler{
		Secret: secrets.NewCache(secretsmanager.NewFromConfig(cfg), secretARN, ttl),
		Client: slack.NewClient(&http.Client{Timeout: slackTimeout}),
		Logger: logger,
		// EMF lines on stdout become metrics in CloudWatch Logs.
		Metrics: metrics.New(os.Stdout, os.Getenv("AWS_LAMBDA_FUNCTION_NAME"), metrics.DimDestination, "slack"),
		Account: os.Getenv("HEARTBEAT_ACCOUNT"),
	}
	if decode {
		h.Decoder = denial.NewSTSDecoder(sts.NewFromConfig(cfg))
	}
	return h, nil
}
