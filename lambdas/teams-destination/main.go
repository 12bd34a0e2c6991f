// Command teams-destination is the Microsoft Teams destination Lambda: an
// EventBridge rule delivers each activity to it, and it posts an Adaptive
// Card to the Workflows webhook whose URL is kept in Secrets Manager.
//
// Environment (packages teams and dispatch read it):
//
//	TEAMS_WEBHOOK_SECRET_ARN  the secret holding the webhook URL (required)
//	SECRET_CACHE_TTL          how long the URL is cached (Go duration, default 5m)
//	PRODUCER_ACCOUNTS         trusted producers: account ids and/or "organization"
//	HEARTBEAT_ACCOUNT         the account heartbeat canaries must come from
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
