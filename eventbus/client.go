package eventbus

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
)

// SDK retryer settings NewClient applies; see NewClient.
const (
	// ClientMaxAttempts is how many times the SDK sends one PutEvents request
	// that failed as a whole (throttling, 5xx, connection errors, timeouts).
	ClientMaxAttempts = 3
	// ClientMaxBackoff caps the SDK's backoff between those attempts.
	ClientMaxBackoff = 2 * time.Second
	// ClientAttemptTimeout bounds one HTTP attempt, so that a connection that
	// hangs is retried instead of eating the invocation. PutEvents answers in
	// tens of milliseconds when healthy.
	ClientAttemptTimeout = 5 * time.Second
)

// NewClient returns an EventBridge client for a Publisher, configured for a
// Lambda function with a deadline:
//
//   - the SDK's standard retryer handles request-level failures (throttling,
//     5xx, connection errors) with ClientMaxAttempts attempts and backoff
//     capped at ClientMaxBackoff instead of the SDK's 20 s, so that Publish
//     can still report within the invocation's deadline; its retry quota
//     (token bucket) is kept, so a service outage fails fast instead of
//     becoming a retry storm. AWS_MAX_ATTEMPTS and AWS_RETRY_MODE still apply
//     when set, as cfg carries them.
//   - each HTTP attempt is bounded by ClientAttemptTimeout, unless cfg brings
//     an HTTP client of its own kind or with its own timeout.
//   - PutEvents' body is encoded by putEventsProtocol, far cheaper than the
//     SDK's serializer for entries whose Detail is JSON.
//
// Entry-level partial failures are the Publisher's job. cfg's endpoint
// settings (AWS_ENDPOINT_URL_EVENTBRIDGE, BaseEndpoint) are honoured; optFns
// run last and may override anything.
func NewClient(cfg aws.Config, optFns ...func(*eventbridge.Options)) *eventbridge.Client {
	opts := []func(*eventbridge.Options){func(o *eventbridge.Options) {
		o.Protocol = putEventsProtocol{o.Protocol}
		if cfg.Retryer == nil {
			o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
				so.MaxAttempts = ClientMaxAttempts
				so.MaxBackoff = ClientMaxBackoff
			})
		}
		switch c := cfg.HTTPClient.(type) {
		case nil:
			o.HTTPClient = awshttp.NewBuildableClient().WithTimeout(ClientAttemptTimeout)
		case *awshttp.BuildableClient:
			if c.GetTimeout() == 0 {
				o.HTTPClient = c.WithTimeout(ClientAttemptTimeout)
			}
		}
	}}
	return eventbridge.NewFromConfig(cfg, append(opts, optFns...)...)
}
