// Command email-destination is the e-mail destination Lambda: an
// EventBridge rule delivers each activity that passes its filter to it, and
// it publishes the mail (subject and plain text) to an SNS topic whose
// e-mail subscriptions the user manages.
//
// Environment (packages email and dispatch read it):
//
//	EMAIL_TOPIC_ARN    the SNS topic (required)
//	PRODUCER_ACCOUNTS  trusted producers: account ids and/or "organization"
//	HEARTBEAT_ACCOUNT  the account heartbeat canaries must come from
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
