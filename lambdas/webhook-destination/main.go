// Command webhook-destination is the signed webhook destination Lambda: its
// pacing queues deliver batches of activities to it (or an EventBridge rule
// one event), it applies the notification policy and posts each activity,
// signed with the Standard Webhooks scheme, to the URL kept in Secrets
// Manager with the signing secret; a schedule invokes it every minute to
// post the signed digests of ended windows.
//
// Environment (packages webhook and dispatch read it):
//
//	WEBHOOK_SECRET_ARN  the secret {"url": …, "signingSecret": …} (required)
//	SECRET_CACHE_TTL    how long its value is cached (Go duration, default 5m)
//	PRODUCER_ACCOUNTS   trusted producers: account ids and/or "organization"
//	HEARTBEAT_ACCOUNT   the account heartbeat canaries must come from
//	STATE_TABLE, DESTINATION_NAME, NOTIFY_WINDOW, NOTIFY_GROUP_BY
//	                    the notification policy (correlation.NotifierConfigFromEnv)
package main

import (
	"net/http"
	"time"

	"github.com/activity-aware/ids/destinations/dispatch"
	"github.com/activity-aware/ids/destinations/webhook"
)

// requestTimeout bounds one request, within the scheme's advice of 15 to 30
// seconds; the handler retries within the invocation's deadline.
const requestTimeout = 15 * time.Second

func main() {
	dispatch.Run("webhook", webhook.EnvSecretARN, func(secret dispatch.Secret, _ func(string) string) (dispatch.Deliverer, error) {
		return &webhook.Destination{Secret: secret, Client: webhook.NewClient(&http.Client{Timeout: requestTimeout}, nil)}, nil
	})
}
