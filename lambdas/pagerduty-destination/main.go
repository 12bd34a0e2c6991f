// Command pagerduty-destination is the PagerDuty destination Lambda: an
// EventBridge rule delivers each activity at or above its severity to it,
// and it triggers a PagerDuty incident through the Events API v2 with the
// routing key kept in Secrets Manager.
//
// Environment (packages pagerduty and dispatch read it):
//
//	PAGERDUTY_SECRET_ARN  the secret holding the routing key (required)
//	PAGERDUTY_EVENTS_URL  the Events API endpoint (default the US region's)
//	SECRET_CACHE_TTL      how long the key is cached (Go duration, default 5m)
//	PRODUCER_ACCOUNTS     trusted producers: account ids and/or "organization"
//	HEARTBEAT_ACCOUNT     the account heartbeat canaries must come from
package main

import (
	"net/http"
	"time"

	"github.com/activity-aware/ids/destinations/dispatch"
	"github.com/activity-aware/ids/destinations/pagerduty"
)

// requestTimeout bounds one request; the handler retries within the
// invocation's deadline.
const requestTimeout = 10 * time.Second

func main() {
	dispatch.Run("pagerduty", pagerduty.EnvSecretARN, func(secret dispatch.Secret, getenv func(string) string) (dispatch.Deliverer, error) {
		cfg, err := pagerduty.ConfigFromEnv(getenv)
		if err != nil {
			return nil, err
		}
		return &pagerduty.Destination{Secret: secret, Client: pagerduty.NewClient(&http.Client{Timeout: requestTimeout}, cfg.EventsURL, nil)}, nil
	})
}
