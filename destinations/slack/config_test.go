package slack

import (
	"testing"
	"time"

	"github.com/activity-aware/ids/internal/envtest"
)

func TestConfigFromEnv(t *testing.T) {
	const arn = "arn:aws:secretsmanager:us-east-1:111122223333:secret:slack-AbCdEf"
	envtest.Cases(t, ConfigFromEnv, ErrConfig, []envtest.Case[Config]{
		{
			Name: "required only",
			Env:  map[string]string{EnvWebhookSecretARN: arn},
			Want: Config{WebhookSecretARN: arn, SecretCacheTTL: DefaultSecretCacheTTL},
		},
		{
			Name: "everything",
			Env:  map[string]string{EnvWebhookSecretARN: arn, EnvSecretCacheTTL: "1m", EnvDecodeAuthorizationMessages: "true", EnvHeartbeatAccount: "111122223333"},
			Want: Config{WebhookSecretARN: arn, SecretCacheTTL: time.Minute, DecodeAuthorizationMessages: true, HeartbeatAccount: "111122223333"},
		},
		{
			Name: "notification policy",
			Env:  map[string]string{EnvWebhookSecretARN: arn, EnvStateTable: "state", EnvNotifyWindow: "5m", EnvNotifyGroupBy: "principal, outcome"},
			Want: Config{WebhookSecretARN: arn, SecretCacheTTL: DefaultSecretCacheTTL, StateTable: "state", DestinationName: "slack",
				NotifyWindow: 5 * time.Minute, NotifyGroupBy: []string{"principal", "outcome"}},
		},
		{Name: "window not a duration", Env: map[string]string{EnvWebhookSecretARN: arn, EnvStateTable: "s", EnvNotifyWindow: "10"}, WantErr: EnvNotifyWindow},
		{Name: "unknown group dimension", Env: map[string]string{EnvWebhookSecretARN: arn, EnvStateTable: "s", EnvNotifyGroupBy: "colour"}, WantErr: EnvNotifyGroupBy},
		{Name: "no secret", Env: map[string]string{EnvSecretCacheTTL: "1m"}, WantErr: EnvWebhookSecretARN},
		{Name: "ttl without unit", Env: map[string]string{EnvWebhookSecretARN: arn, EnvSecretCacheTTL: "300"}, WantErr: EnvSecretCacheTTL},
		{Name: "negative ttl", Env: map[string]string{EnvWebhookSecretARN: arn, EnvSecretCacheTTL: "-1m"}, WantErr: EnvSecretCacheTTL},
		{Name: "decode not a bool", Env: map[string]string{EnvWebhookSecretARN: arn, EnvDecodeAuthorizationMessages: "sometimes"}, WantErr: EnvDecodeAuthorizationMessages},
		{
			Name: "no caching, producers, local testing",
			Env:  map[string]string{EnvWebhookSecretARN: arn, EnvSecretCacheTTL: "0s", EnvProducerAccounts: "111122223333, organization", EnvAllowLoopbackWebhook: "true"},
			Want: Config{WebhookSecretARN: arn, SecretCacheTTL: 0, ProducerAccounts: []string{"111122223333", "organization"}, AllowLoopbackWebhook: true},
		},
		{Name: "producer not an account", Env: map[string]string{EnvWebhookSecretARN: arn, EnvProducerAccounts: "*"}, WantErr: EnvProducerAccounts},
		{Name: "app mode for local testing", Env: map[string]string{EnvWebhookSecretARN: arn, EnvThreads: "false", EnvAPIURL: "http://127.0.0.1:1/api/", EnvAllowLoopbackWebhook: "1"},
			Want: Config{WebhookSecretARN: arn, SecretCacheTTL: DefaultSecretCacheTTL, DisableThreads: true, APIURL: "http://127.0.0.1:1/api/", AllowLoopbackWebhook: true}},
		{Name: "threads on", Env: map[string]string{EnvWebhookSecretARN: arn, EnvThreads: "true"}, Want: Config{WebhookSecretARN: arn, SecretCacheTTL: DefaultSecretCacheTTL}},
		{Name: "threads not a bool", Env: map[string]string{EnvWebhookSecretARN: arn, EnvThreads: "yes please"}, WantErr: EnvThreads},
		{Name: "loopback not a bool", Env: map[string]string{EnvWebhookSecretARN: arn, EnvAllowLoopbackWebhook: "local"}, WantErr: EnvAllowLoopbackWebhook},
	})
}

// TestConfigEnvironmentRoundTrip checks the contract between the construct
// (which writes Environment) and the function (which reads ConfigFromEnv):
// every variable written is read back into the same configuration.
func TestConfigEnvironmentRoundTrip(t *testing.T) {
	envtest.RoundTrip(t, ConfigFromEnv, Config.Environment,
		Config{WebhookSecretARN: "arn:aws:secretsmanager:us-east-1:111122223333:secret:a-AbCdEf", SecretCacheTTL: 5 * time.Minute},
		Config{WebhookSecretARN: "arn:aws:secretsmanager:us-east-1:111122223333:secret:a-AbCdEf", SecretCacheTTL: 90 * time.Second, DecodeAuthorizationMessages: true, HeartbeatAccount: "111122223333"},
		Config{WebhookSecretARN: "arn:aws:secretsmanager:us-east-1:111122223333:secret:a-AbCdEf", SecretCacheTTL: time.Minute, StateTable: "t",
			DestinationName: "critical", NotifyWindow: 15 * time.Minute, NotifyGroupBy: []string{"principal", "source-ip"}},
		Config{WebhookSecretARN: "arn:aws:secretsmanager:us-east-1:111122223333:secret:a-AbCdEf", ProducerAccounts: []string{"111122223333", "organization"}, AllowLoopbackWebhook: true},
	)
}
