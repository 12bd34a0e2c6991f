package slack

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/activity-aware/ids/correlation"
	"github.com/activity-aware/ids/destinations/dispatch"
	"github.com/activity-aware/ids/eventbus"
)

// The environment of the destination function: the construct writes it
// (Config.Environment), the function's main reads it (ConfigFromEnv).
const (
	// EnvWebhookSecretARN is the secret holding the webhook URL. Required.
	EnvWebhookSecretARN = "SLACK_WEBHOOK_SECRET_ARN"
	// EnvSecretCacheTTL is how long the URL is cached (a Go duration).
	// Default DefaultSecretCacheTTL.
	EnvSecretCacheTTL = "SECRET_CACHE_TTL"
	// EnvDecodeAuthorizationMessages, "true", decodes encoded authorization
	// failure messages with sts:DecodeAuthorizationMessage. Default false.
	EnvDecodeAuthorizationMessages = "DECODE_AUTHORIZATION_MESSAGES"
	// EnvHeartbeatAccount is the account heartbeat canaries must come from.
	// Default: any.
	EnvHeartbeatAccount = dispatch.EnvHeartbeatAccount
	// EnvStateTable is the correlation state table; set, it turns on the
	// notification policy (aggregation, suppressions, one post per
	// activity id). Default: none, every activity is posted.
	EnvStateTable = correlation.EnvStateTable
	// EnvDestinationName names the destination in the state table, so
	// channels sharing a table keep their own groups. Default "slack".
	EnvDestinationName = correlation.EnvDestinationName
	// EnvNotifyWindow is the aggregation window (a Go duration). Default
	// correlation.DefaultWindow.
	EnvNotifyWindow = correlation.EnvNotifyWindow
	// EnvNotifyGroupBy is the group key's dimensions, comma-separated.
	// Default "principal,detection".
	EnvNotifyGroupBy = correlation.EnvNotifyGroupBy
	// EnvProducerAccounts lists the producers whose activities render as
	// alerts (eventbus.ParseTrust: account ids and/or "organization").
	// Default: the function's own account.
	EnvProducerAccounts = eventbus.EnvProducerAccounts
	// EnvAllowLoopbackWebhook, "true", accepts a webhook URL on a loopback
	// host (http or https), and EnvAPIURL on one: for running the function
	// against a local Slack endpoint only. The construct never sets it.
	// Default false.
	EnvAllowLoopbackWebhook = "SLACK_ALLOW_LOOPBACK_WEBHOOK"
	// EnvThreads, "false", turns the app mode's threads off (Handler.Threads):
	// a group's repeats are folded into a top-level digest as in the webhook
	// mode. Default true; meaningless in webhook mode.
	EnvThreads = "SLACK_THREADS"
	// EnvAPIURL is the Web API base the app mode calls instead of
	// DefaultAPIURL, honoured only on a loopback host with
	// EnvAllowLoopbackWebhook (WithAPIURL): for local testing. The construct
	// never sets it.
	EnvAPIURL = "SLACK_API_URL"
)

// DefaultSecretCacheTTL is how long the function reuses the webhook URL it
// read, so a rotated URL takes effect within minutes.
const DefaultSecretCacheTTL = 5 * time.Minute

// ErrConfig reports an environment the destination function cannot run with.
var ErrConfig = errors.New("slack: configuration")

// Config is what the destination function is configured with.
type Config struct {
	// WebhookSecretARN is the Secrets Manager secret holding the webhook URL.
	WebhookSecretARN string
	// SecretCacheTTL is how long the webhook URL is cached.
	SecretCacheTTL time.Duration
	// DecodeAuthorizationMessages decodes the encoded authorization message
	// of a denied call to show why it was denied.
	DecodeAuthorizationMessages bool
	// HeartbeatAccount is the account heartbeat canaries must come from;
	// empty: any (Handler.Account).
	HeartbeatAccount string
	// StateTable, when set, turns on the notification policy, with the
	// destination's name, window and group key.
	StateTable      string
	DestinationName string
	NotifyWindow    time.Duration
	NotifyGroupBy   []string
	// ProducerAccounts are the trusted producers (Handler.Trust): account
	// ids (CDK tokens in a construct) and/or "organization"; none: the
	// function's own account.
	ProducerAccounts []string
	// AllowLoopbackWebhook accepts a loopback webhook URL, for local
	// testing (WithLoopback).
	AllowLoopbackWebhook bool
	// DisableThreads turns the app mode's threads off (EnvThreads false).
	DisableThreads bool
	// APIURL is the Web API base for local testing (EnvAPIURL).
	APIURL string
}

// Trust is the producer set ProducerAccounts names (ConfigFromEnv checked
// it).
func (c Config) Trust() eventbus.Trust {
	t, _ := eventbus.ParseTrust(strings.Join(c.ProducerAccounts, ","))
	return t
}

// ConfigFromEnv reads and checks the configuration from getenv (os.Getenv in
// the function). A missing secret or a malformed value is an error wrapping
// ErrConfig that names the variable.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := Config{
		WebhookSecretARN: getenv(EnvWebhookSecretARN),
		SecretCacheTTL:   DefaultSecretCacheTTL,
		HeartbeatAccount: getenv(EnvHeartbeatAccount),
		APIURL:           getenv(EnvAPIURL),
	}
	if c.WebhookSecretARN == "" {
		return Config{}, fmt.Errorf("%w: %s is not set", ErrConfig, EnvWebhookSecretARN)
	}
	if v := getenv(EnvSecretCacheTTL); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return Config{}, fmt.Errorf("%w: %s: want a duration such as 5m, got %q", ErrConfig, EnvSecretCacheTTL, v)
		}
		c.SecretCacheTTL = d
	}
	for _, b := range []struct {
		name string
		to   *bool
	}{{EnvDecodeAuthorizationMessages, &c.DecodeAuthorizationMessages}, {EnvAllowLoopbackWebhook, &c.AllowLoopbackWebhook}} {
		if v := getenv(b.name); v != "" {
			parsed, err := strconv.ParseBool(v)
			if err != nil {
				return Config{}, fmt.Errorf("%w: %s: want true or false, got %q", ErrConfig, b.name, v)
			}
			*b.to = parsed
		}
	}
	if v := getenv(EnvThreads); v != "" {
		threads, err := strconv.ParseBool(v)
		if err != nil {
			return Config{}, fmt.Errorf("%w: %s: want true or false, got %q", ErrConfig, EnvThreads, v)
		}
		c.DisableThreads = !threads
	}
	if v := getenv(EnvProducerAccounts); v != "" {
		t, err := eventbus.ParseTrust(v)
		if err != nil {
			return Config{}, fmt.Errorf("%w: %s: %w", ErrConfig, EnvProducerAccounts, err)
		}
		if !t.IsZero() {
			c.ProducerAccounts = strings.Split(t.String(), ",")
		}
	}
	if c.StateTable = getenv(EnvStateTable); c.StateTable == "" {
		return c, nil
	}
	c.DestinationName, c.NotifyWindow, c.NotifyGroupBy = getenv(EnvDestinationName), correlation.DefaultWindow, correlation.DefaultGroupBy
	if c.DestinationName == "" {
		c.DestinationName = "slack"
	}
	if v := getenv(EnvNotifyWindow); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return Config{}, fmt.Errorf("%w: %s: want a duration such as 10m, got %q", ErrConfig, EnvNotifyWindow, v)
		}
		c.NotifyWindow = d
	}
	if v := getenv(EnvNotifyGroupBy); v != "" {
		dims, err := correlation.ParseGroupBy(v)
		if err != nil {
			return Config{}, fmt.Errorf("%w: %s: %w", ErrConfig, EnvNotifyGroupBy, err)
		}
		c.NotifyGroupBy = dims
	}
	return c, nil
}

// Environment returns the variables that configure the function with c:
// what ConfigFromEnv reads back. Values may be CDK tokens.
func (c Config) Environment() map[string]string {
	env := map[string]string{
		EnvWebhookSecretARN:            c.WebhookSecretARN,
		EnvSecretCacheTTL:              c.SecretCacheTTL.String(),
		EnvDecodeAuthorizationMessages: strconv.FormatBool(c.DecodeAuthorizationMessages),
	}
	if c.HeartbeatAccount != "" {
		env[EnvHeartbeatAccount] = c.HeartbeatAccount
	}
	if c.StateTable != "" {
		env[EnvStateTable] = c.StateTable
		env[EnvDestinationName] = c.DestinationName
		env[EnvNotifyWindow] = c.NotifyWindow.String()
		env[EnvNotifyGroupBy] = strings.Join(c.NotifyGroupBy, ",")
	}
	if len(c.ProducerAccounts) > 0 {
		env[EnvProducerAccounts] = strings.Join(c.ProducerAccounts, ",")
	}
	if c.AllowLoopbackWebhook {
		env[EnvAllowLoopbackWebhook] = "true"
	}
	if c.DisableThreads {
		env[EnvThreads] = "false"
	}
	if c.APIURL != "" {
		env[EnvAPIURL] = c.APIURL
	}
	return env
}
