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

func TestNotifierConfigFromEnv(t *testing.T) {
	read := func(env map[string]string) (correlation.NotifierConfig, error) {
		return correlation.NotifierConfigFromEnv(func(k string) string { return env[k] }, "teams")
	}
	if got, err := read(nil); err != nil || got.StateTable != "" {
		t.Errorf("without a table: %+v, %v (want no policy)", got, err)
	}
	got, err := read(map[string]string{correlation.EnvStateTable: "state"})
	if err != nil || got.Policy.Destination != "teams" || got.Policy.Window != correlation.DefaultWindow ||
		strings.Join(got.Policy.GroupBy, ",") != "principal,detection" {
		t.Errorf("defaults: %+v, %v", got, err)
	}
	got, err = read(map[string]string{correlation.EnvStateTable: "state", correlation.EnvDestinationName: "soc-teams",
		correlation.EnvNotifyWindow: "15m", correlation.EnvNotifyGroupBy: "principal, source-ip"})
	if err != nil || got.Policy.Destination != "soc-teams" || got.Policy.Window != 15*time.Minute ||
		strings.Join(got.Policy.GroupBy, ",") != "principal,source-ip" {
		t.Errorf("set: %+v, %v", got, err)
	}
	for k, v := range map[string]string{correlation.EnvNotifyWindow: "0s", correlation.EnvNotifyGroupBy: "colour"} {
		env := map[string]string{correlation.EnvStateTable: "t", k: v}
		if _, err := read(env); !errors.Is(err, correlation.ErrConfig) || !strings.Contains(err.Error(), k) {
			t.Errorf("%s=%q: %v", k, v, err)
		}
	}
}
