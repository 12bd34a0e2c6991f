package correlation_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/activity-aware/ids/correlation"
)

func TestDetectorConfigFromEnv(t *testing.T) {
	for _, c := range []correlation.DetectorConfig{
		{},
		{StateTable: "state", BurstCount: 20, BurstWindow: 10 * time.Minute},
		{StateTable: "state", BurstCount: 5, BurstWindow: 90 * time.Second},
	} {
		env := c.Environment()
		got, err := correlation.DetectorConfigFromEnv(func(k string) string { return env[k] })
		if err != nil || got != c {
			t.Errorf("round trip of %+v: %+v, %v", c, got, err)
		}
	}
	got, _ := correlation.DetectorConfigFromEnv(func(k string) string { return map[string]string{correlation.EnvStateTable: "t"}[k] })
	if got.BurstCount != correlation.DefaultBurstCount || got.BurstWindow != correlation.DefaultBurstWindow {
		t.Errorf("defaults %+v", got)
	}
	for k, v := range map[string]string{correlation.EnvBurstCount: "0", correlation.EnvBurstWindow: "10"} {
		env := map[string]string{correlation.EnvStateTable: "t", k: v}
		if _, err := correlation.DetectorConfigFromEnv(func(s string) string { return env[s] }); !errors.Is(err, correlation.ErrConfig) || !strings.Contains(err.Error(), k) {
			t.Errorf("%s=%q: %v", k, v, err)
		}
	}
}
