package slack

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestConfigFromEnv(t *testing.T) {
	const arn = "arn:aws:secretsmanager:us-east-1:111122223333:secret:slack-AbCdEf"
	tests := []struct {
		name    string
		env     map[string]string
		want    Config
		wantErr string // the variable the error names
	}{
		{
			name: "required only",
			env:  map[string]string{EnvWebhookSecretARN: arn},
			want: Config{WebhookSecretARN: arn, SecretCacheTTL: DefaultSecretCacheTTL},
		},
		{
			name: "everything",
			env:  map[string]string{EnvWebhookSecretARN: arn, EnvSecretCacheTTL: "1m", EnvDecodeAuthorizationMessages: "true", EnvHeartbeatAccount: "111122223333"},
			want: Config{WebhookSecretARN: arn, SecretCacheTTL: time.Minute, DecodeAuthorizationMessages: true, HeartbeatAccount: "111122223333"},
		},
		{
			name: "notification policy",
			env:  map[string]string{EnvWebhookSecretARN: arn, EnvStateTable: "state", EnvNotifyWindow: "5m", EnvNotifyGroupBy: "principal, outcome"},
			want: Config{WebhookSecretARN: arn, SecretCacheTTL: DefaultSecretCacheTTL, StateTable: "state", DestinationName: "slack",
				NotifyWindow: 5 * time.Minute, NotifyGroupBy: []string{"principal", "outcome"}},
		},
		{name: "window not a duration", env: map[string]string{EnvWebhookSecretARN: arn, EnvStateTable: "s", EnvNotifyWindow: "10"}, wantErr: EnvNotifyWindow},
		{name: "unknown group dimension", env: map[string]string{EnvWebhookSecretARN: arn, EnvStateTable: "s", EnvNotifyGroupBy: "colour"}, wantErr: EnvNotifyGroupBy},
		{name: "no secret", env: map[string]string{EnvSecretCacheTTL: "1m"}, wantErr: EnvWebhookSecretARN},
		{name: "ttl without unit", env: map[string]string{EnvWebhookSecretARN: arn, EnvSecretCacheTTL: "300"}, wantErr: EnvSecretCacheTTL},
		{name: "negative ttl", env: map[string]string{EnvWebhookSecretARN: arn, EnvSecretCacheTTL: "-1m"}, wantErr: EnvSecretCacheTTL},
		{name: "decode not a bool", env: map[string]string{EnvWebhookSecretARN: arn, EnvDecodeAuthorizationMessages: "sometimes"}, wantErr: EnvDecodeAuthorizationMessages},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ConfigFromEnv(func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want ErrConfig naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("ConfigFromEnv = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

// TestConfigEnvironmentRoundTrip checks the contract between the construct
// (which writes Environment) and the function (which reads ConfigFromEnv):
// every variable written is read back into the same configuration.
func TestConfigEnvironmentRoundTrip(t *testing.T) {
	for _, c := range []Config{
		{WebhookSecretARN: "arn:aws:secretsmanager:us-east-1:111122223333:secret:a-AbCdEf", SecretCacheTTL: 5 * time.Minute},
		{WebhookSecretARN: "arn:aws:secretsmanager:us-east-1:111122223333:secret:a-AbCdEf", SecretCacheTTL: 90 * time.Second, DecodeAuthorizationMessages: true, HeartbeatAccount: "111122223333"},
		{WebhookSecretARN: "arn:aws:secretsmanager:us-east-1:111122223333:secret:a-AbCdEf", SecretCacheTTL: time.Minute, StateTable: "t",
			DestinationName: "critical", NotifyWindow: 15 * time.Minute, NotifyGroupBy: []string{"principal", "source-ip"}},
	} {
		env := c.Environment()
		read := map[string]bool{}
		got, err := ConfigFromEnv(func(k string) string { read[k] = true; return env[k] })
		if err != nil || !reflect.DeepEqual(got, c) {
			t.Errorf("ConfigFromEnv(%v) = %+v, %v; want %+v", env, got, err, c)
		}
		for k := range env {
			if !read[k] {
				t.Errorf("Environment writes %s, which ConfigFromEnv never reads", k)
			}
		}
	}
}
