package slack

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateWebhookURL(t *testing.T) {
	tests := []struct {
		url    string
		reason string // "" = valid
		// local is the local-testing setting (loopback hosts accepted).
		local bool
	}{
		{"https://hooks.slack.com/services/T00000000/B00000000/" + secretToken, "", false},
		{"https://hooks.slack-gov.com/services/T00000000/B00000000/" + secretToken, "", false},
		{"https://HOOKS.SLACK.COM:443/services/T0/B0/" + secretToken, "", false},
		{"http://127.0.0.1:8080/services/T0/B0/" + secretToken, "", true},
		{"http://localhost:9000/anything", "", true},
		{"http://[::1]:9000/services/x", "", true},
		// Without the local-testing setting a loopback webhook is refused,
		// so a secret pointed at 127.0.0.1 never reaches a local service
		// from the deployed function.
		{"http://127.0.0.1:8080/services/T0/B0/" + secretToken, "loopback host, accepted only with the local-testing setting", false},
		{"https://localhost/services/T0/B0/" + secretToken, "loopback host", false},
		{"http://[::1]:9000/services/x", "loopback host", false},
		{"", "empty", false},
		{" https://hooks.slack.com/services/T0/B0/" + secretToken, "white space", false},
		{"http://hooks.slack.com/services/T0/B0/" + secretToken, `scheme "http"`, false},
		{"ftp://127.0.0.1/services/x", `scheme "ftp"`, true},
		{"https://hooks.slack.com.evil.example/services/T0/B0/" + secretToken, "host is not", false},
		{"https://evil.example/services/T0/B0/" + secretToken, "host is not", false},
		{"https://hooks.slack.com/workflows/T0/" + secretToken, "not an incoming-webhook path", false},
		{"https://hooks.slack.com/services/", "not an incoming-webhook path", false},
		{"https://hooks.slack.com:8443/services/T0/B0/" + secretToken, "unexpected port", false},
		{"https://user:" + secretToken + "@hooks.slack.com/services/T0/B0/x", "user credentials", false},
		{"http://10.0.0.8/services/T0/B0/" + secretToken, `scheme "http"`, true},
		{"https://hooks.slack.com/services/%zz" + secretToken, "not a valid URL", false},
		{"/services/T0/B0/" + secretToken, "no host", false},
	}
	for _, tt := range tests {
		err := ValidateWebhookURL(tt.url, tt.local)
		if tt.reason == "" {
			if err != nil {
				t.Errorf("ValidateWebhookURL(%q) = %v, want valid", tt.url, err)
			}
			continue
		}
		if !errors.Is(err, ErrInvalidWebhookURL) || !strings.Contains(err.Error(), tt.reason) {
			t.Errorf("ValidateWebhookURL(%q) = %v, want %q", tt.url, err, tt.reason)
		}
		if err != nil && (strings.Contains(err.Error(), secretToken) || strings.Contains(err.Error(), "evil")) {
			t.Errorf("error reveals the URL: %v", err)
		}
	}
}

func TestWebhookURLFromSecret(t *testing.T) {
	const hook = "https://hooks.slack.com/services/T00000000/B00000000/" + secretToken
	tests := []struct {
		value   string
		want    string
		wantErr string
	}{
		{hook, hook, ""},
		{hook + "\n", hook, ""},
		{`{"url":"` + hook + `"}`, hook, ""},
		{` { "url" : " ` + hook + ` " } `, hook, ""},
		{"", "", "empty value"},
		{`{"url":`, "", "not a JSON object"},
		{`{"URL2":"` + hook + `"}`, "", `no "url" member`},
		{`{"url":"http://hooks.slack.com/services/T0/B0/` + secretToken + `"}`, "", `scheme "http"`},
		{"xoxb-" + secretToken, "", "invalid webhook URL"},
	}
	for _, tt := range tests {
		got, err := WebhookURLFromSecret(tt.value, false)
		if tt.wantErr == "" {
			if err != nil || got != tt.want {
				t.Errorf("WebhookURLFromSecret(%q) = %q, %v; want %q", tt.value, got, err, tt.want)
			}
			continue
		}
		if !errors.Is(err, ErrInvalidSecret) || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("WebhookURLFromSecret(%q) = %v, want %q", tt.value, err, tt.wantErr)
		}
		if err != nil && strings.Contains(err.Error(), secretToken) {
			t.Errorf("error reveals the secret: %v", err)
		}
	}
}
