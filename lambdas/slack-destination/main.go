// Command slack-destination is the SlackDestination Lambda: the destination's
// pacing queues deliver batches of activities to it (or an EventBridge rule
// invokes it with one), it applies the notification policy and posts to
// Slack as the secret in Secrets Manager says: through an incoming webhook
// (its URL), or as a Slack app's bot ({"botToken","channel"}) with the Web
// API, threading a group's repeats under its first message; a schedule
// invokes it every minute to post the digests of ended windows.
//
// Its environment is slack.ConfigFromEnv's (SLACK_WEBHOOK_SECRET_ARN,
// SECRET_CACHE_TTL, DECODE_AUTHORIZATION_MESSAGES, HEARTBEAT_ACCOUNT,
// SLACK_THREADS, …); the slackdestination construct sets it.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/activity-aware/ids/correlation"
	"github.com/activity-aware/ids/denial"
	"github.com/activity-aware/ids/destinations/secrets"
	"github.com/activity-aware/ids/destinations/slack"
	"github.com/activity-aware/ids/monitoring/metrics"
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
	// The Handler is a lambda.Handler (Invoke): it takes the pacing
	// queues' batches, the scheduled sweep and direct rule invocations.
	lambda.Start(handler)
}

// setup reads the environment once and builds the clients and the handler.
func setup(ctx context.Context, logger *slog.Logger) (*slack.Handler, error) {
	cfg, err := slack.ConfigFromEnv(os.Getenv)
	if err != nil {
		return nil, err
	}
	// The SDK's standard AWS_ENDPOINT_URL_SECRETS_MANAGER (and _STS) keep
	// working, so the function runs against local endpoints too.
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("load AWS config: %w", err)
	}
	var clientOpts []slack.Option
	if cfg.AllowLoopbackWebhook {
		clientOpts = append(clientOpts, slack.WithLoopback())
	}
	if cfg.APIURL != "" {
		// Honoured by the client only on loopback with the setting above.
		clientOpts = append(clientOpts, slack.WithAPIURL(cfg.APIURL))
	}
	h := &slack.Handler{
		Secret: secrets.NewCache(secretsmanager.NewFromConfig(awsCfg), cfg.WebhookSecretARN, cfg.SecretCacheTTL),
		Client: slack.NewClient(&http.Client{Timeout: slackTimeout}, clientOpts...),
		Trust:  cfg.Trust(),
		Logger: logger,
		// EMF lines on stdout become metrics in CloudWatch Logs.
		Metrics: metrics.New(os.Stdout, os.Getenv("AWS_LAMBDA_FUNCTION_NAME"), metrics.DimDestination, "slack"),
		Account: cfg.HeartbeatAccount,
		Threads: !cfg.DisableThreads,
	}
	if cfg.StateTable != "" {
		// The notification policy's state; AWS_ENDPOINT_URL_DYNAMODB
		// reaches a local table.
		h.Notifier = &correlation.Notifier{
			Store:  correlation.NewDynamoDBStore(dynamodb.NewFromConfig(awsCfg), cfg.StateTable),
			Policy: correlation.Policy{Destination: cfg.DestinationName, Window: cfg.NotifyWindow, GroupBy: cfg.NotifyGroupBy},
		}
	}
	if cfg.DecodeAuthorizationMessages {
		h.Decoder = denial.NewSTSDecoder(sts.NewFromConfig(awsCfg))
	}
	return h, nil
}
