// Command pagerduty-destination is the PagerDuty destination Lambda: its
// pacing queues deliver batches of activities at or above its severity to
// it (or an EventBridge rule one event), it applies the notification policy
// and triggers PagerDuty incidents through the Events API v2 with the
// routing key kept in Secrets Manager, the group's key as dedup_key; a
// schedule invokes it every minute to send the digests of ended windows.
//
// Environment (packages pagerduty and dispatch read it):
//
//	PAGERDUTY_SECRET_ARN  the secret holding the routing key (required)
//	PAGERDUTY_EVENTS_URL  the Events API endpoint (default the US region's)
//	SECRET_CACHE_TTL      how long the key is cached (Go duration, default 5m)
//	PRODUCER_ACCOUNTS     trusted producers: account ids and/or "organization"
//	HEARTBEAT_ACCOUNT     the account heartbeat canaries must come from
//	STATE_TABLE, DESTINATION_NAME, NOTIFY_WINDOW, NOTIFY_GROUP_BY
//	                      the notification policy (correlation.NotifierConfigFromEnv)
package main

import (
	"net/http"
	"time"

	"github.com/activity-aware/ids/correlation"
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
		// The policy's group is the dedup_key, so a burst is one incident.
		nc, err := correlation.NotifierConfigFromEnv(getenv, "pagerduty")
		if err != nil {
			return nil, err
		}
		d := &pagerduty.Destination{Secret: secret, Client: pagerduty.NewClient(&http.Client{Timeout: requestTimeout}, cfg.EventsURL, nil)}
		if nc.StateTable != "" {
			d.GroupBy = nc.Policy.GroupBy
		}
		return d, nil
	})
}
