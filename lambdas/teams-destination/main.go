// Command teams-destination is the Microsoft Teams destination Lambda: its
// pacing queues deliver batches of activities to it (or an EventBridge rule
// one event), it applies the notification policy and posts Adaptive Cards
// to the Workflows webhook whose URL is kept in Secrets Manager; a schedule
// invokes it every minute to post the digests of ended windows.
//
// Environment (packages teams and dispatch read it):
//
//	TEAMS_WEBHOOK_SECRET_ARN  the secret holding the webhook URL (required)
//	SECRET_CACHE_TTL          how long the URL is cached (Go duration, default 5m)
//	PRODUCER_ACCOUNTS         trusted producers: account ids and/or "organization"
//	HEARTBEAT_ACCOUNT         the account heartbeat canaries must come from
//	STATE_TABLE, DESTINATION_NAME, NOTIFY_WINDOW, NOTIFY_GROUP_BY
//	                      the notification policy (correlation.NotifierConfigFromEnv)
package main

import (
	"net/http"
	"time"

	"github.com/activity-aware/ids/destinations/dispatch"
	"github.com/activity-aware/ids/destinations/teams"
)

// requestTimeout bounds one request; the handler retries within the
// invocation's deadline.
const requestTimeout = 10 * time.Second

func main() {
	dispatch.Run("teams", teams.EnvSecretARN, func(secret dispatch.Secret, _ func(string) string) (dispatch.Deliverer, error) {
		return &teams.Destination{Secret: secret, Client: teams.NewClient(&http.Client{Timeout: requestTimeout}, nil)}, nil
	})
}
