// Command email-destination is the e-mail destination Lambda: its pacing
// queues deliver batches of the activities that pass its filter to it (or
// an EventBridge rule one event), it applies the notification policy and
// publishes mails (subject and plain text) to an SNS topic whose e-mail
// subscriptions the user manages; a schedule invokes it every minute to
// mail the digests of ended windows.
//
// Environment (packages email and dispatch read it):
//
//	EMAIL_TOPIC_ARN    the SNS topic (required)
//	PRODUCER_ACCOUNTS  trusted producers: account ids and/or "organization"
//	HEARTBEAT_ACCOUNT  the account heartbeat canaries must come from
//	STATE_TABLE, DESTINATION_NAME, NOTIFY_WINDOW, NOTIFY_GROUP_BY
//	                      the notification policy (correlation.NotifierConfigFromEnv)
package main

import (
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/activity-aware/ids/destinations/dispatch"
	"github.com/activity-aware/ids/destinations/email"
)

// requestTimeout bounds one request; the SDK's retryer retries within the
// invocation's deadline.
const requestTimeout = 10 * time.Second

func main() {
	dispatch.RunAWS("email", func(cfg aws.Config, getenv func(string) string) (dispatch.Deliverer, error) {
		c, err := email.ConfigFromEnv(getenv)
		if err != nil {
			return nil, err
		}
		client := sns.NewFromConfig(cfg, func(o *sns.Options) { o.HTTPClient = &http.Client{Timeout: requestTimeout} })
		return &email.Destination{SNS: client, TopicARN: c.TopicARN}, nil
	})
}
