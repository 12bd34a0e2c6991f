package secrets_test

import (
	"errors"
	"testing"
	"time"

	"github.com/activity-aware/ids/destinations/secrets"
)

func TestConfigFromEnv(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	c, err := secrets.ConfigFromEnv(env(map[string]string{"X_SECRET_ARN": "arn:x"}), "X_SECRET_ARN")
	if err != nil || c.ARN != "arn:x" || c.CacheTTL != secrets.DefaultTTL {
		t.Fatalf("defaults: %+v, %v", c, err)
	}
	back, err := secrets.ConfigFromEnv(env(secrets.Config{ARN: "arn:y", CacheTTL: 2 * time.Second}.Environment("X_SECRET_ARN")), "X_SECRET_ARN")
	if err != nil || back.ARN != "arn:y" || back.CacheTTL != 2*time.Second {
		t.Fatalf("round trip: %+v, %v", back, err)
	}
	for _, m := range []map[string]string{{}, {"X_SECRET_ARN": "arn:x", secrets.EnvCacheTTL: "soon"}, {"X_SECRET_ARN": "arn:x", secrets.EnvCacheTTL: "-1s"}} {
		if _, err := secrets.ConfigFromEnv(env(m), "X_SECRET_ARN"); !errors.Is(err, secrets.ErrConfig) {
			t.Errorf("%v: err = %v, want ErrConfig", m, err)
		}
	}
}
