package slack

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/activity-aware/ids/destinations/delivery"
)

// Sentinel errors, for errors.Is.
var (
	// ErrInvalidWebhookURL reports a webhook URL that must not be used. Its
	// messages name the problem, never the URL: the URL is a secret.
	ErrInvalidWebhookURL = errors.New("slack: invalid webhook URL")
	// ErrInvalidSecret reports a secret value that holds no webhook URL.
	ErrInvalidSecret = errors.New("slack: invalid webhook secret")
)

// webhookHosts are the hosts Slack serves incoming webhooks from: the
// commercial cloud and GovSlack.
var webhookHosts = map[string]bool{
	"hooks.slack.com":     true,
	"hooks.slack-gov.com": true,
}

// ValidateWebhookURL accepts an incoming-webhook URL: https on
// hooks.slack.com or hooks.slack-gov.com with a /services/ path, or, when
// allowLoopback is set (local testing only: EnvAllowLoopbackWebhook, never in
// the deployed function), http or https on a loopback host. The error names
// the problem, never the URL.
func ValidateWebhookURL(raw string, allowLoopback bool) error {
	u, err := delivery.CheckURL(raw, func(host string) bool { return webhookHosts[host] })
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidWebhookURL, err)
	}
	if delivery.IsLoopback(strings.ToLower(u.Hostname())) {
		if !allowLoopback {
			return fmt.Errorf("%w: loopback host, accepted only with the local-testing setting (%s)", ErrInvalidWebhookURL, EnvAllowLoopbackWebhook)
		}
		return nil
	}
	if !strings.HasPrefix(u.EscapedPath(), "/services/") || len(u.EscapedPath()) == len("/services/") {
		return fmt.Errorf("%w: path is not an incoming-webhook path (/services/…)", ErrInvalidWebhookURL)
	}
	return nil
}

// WebhookURLFromSecret returns the webhook URL a Secrets Manager secret value
// holds, either the bare URL or a JSON object {"url": "..."}, and validates
// it (ValidateWebhookURL). Errors never contain the value.
func WebhookURLFromSecret(value string, allowLoopback bool) (string, error) {
	v := strings.TrimSpace(value)
	if v == "" {
		return "", fmt.Errorf("%w: empty value", ErrInvalidSecret)
	}
	if strings.HasPrefix(v, "{") {
		var s struct {
			URL *string `json:"url"`
		}
		// The decoder's error may quote part of the value, so it is not wrapped.
		if err := json.Unmarshal([]byte(v), &s); err != nil {
			return "", fmt.Errorf("%w: value starts with { but is not a JSON object", ErrInvalidSecret)
		}
		if s.URL == nil {
			return "", fmt.Errorf("%w: JSON value has no \"url\" member", ErrInvalidSecret)
		}
		v = strings.TrimSpace(*s.URL)
	}
	if err := ValidateWebhookURL(v, allowLoopback); err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalidSecret, err)
	}
	return v, nil
}
