package cloudtrail

import (
	"testing"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/detections"
	"github.com/activity-aware/ids/internal/envtest"
)

func TestConfigFromEnv(t *testing.T) {
	envtest.Cases(t, ConfigFromEnv, ErrConfig, []envtest.Case[Config]{
		{
			Name: "required only",
			Env:  map[string]string{EnvEventBusName: "bus"},
			Want: Config{EventBusName: "bus", PutEventsMaxBytes: activity.DefaultMaxEntrySize},
		},
		{
			Name: "everything",
			Env:  map[string]string{EnvEventBusName: "bus", EnvDetections: " unauthorized-api-calls, root-account-usage ,", EnvPutEventsMaxBytes: "100000"},
			Want: Config{EventBusName: "bus", Detections: []string{"unauthorized-api-calls", "root-account-usage"}, PutEventsMaxBytes: 100000},
		},
		{Name: "no bus", Env: map[string]string{EnvDetections: "unauthorized-api-calls"}, WantErr: EnvEventBusName},
		{Name: "size not a number", Env: map[string]string{EnvEventBusName: "bus", EnvPutEventsMaxBytes: "256k"}, WantErr: EnvPutEventsMaxBytes},
		{Name: "size zero", Env: map[string]string{EnvEventBusName: "bus", EnvPutEventsMaxBytes: "0"}, WantErr: EnvPutEventsMaxBytes},
		{Name: "unknown preset", Env: map[string]string{EnvEventBusName: "bus", EnvDetections: "no-such-preset"}, WantErr: EnvDetections},
		{
			Name: "packs, exclusions, detections only",
			Env: map[string]string{EnvEventBusName: "bus", EnvDetections: "threats", EnvDetectionsOnly: "true",
				EnvExclusions: `{"ssm-send-command":["arn:aws:iam::*:role/patching"]}`},
			Want: Config{EventBusName: "bus", Detections: []string{"threats"}, DetectionsOnly: true, PutEventsMaxBytes: activity.DefaultMaxEntrySize,
				Exclusions: detections.Exclusions{"ssm-send-command": {"arn:aws:iam::*:role/patching"}}},
		},
		{Name: "exclusions of a preset not enabled", Env: map[string]string{EnvEventBusName: "bus", EnvDetections: "cis", EnvExclusions: `{"ssm-send-command":["arn:aws:iam::*:role/x"]}`}, WantErr: EnvExclusions},
		{Name: "exclusions not JSON", Env: map[string]string{EnvEventBusName: "bus", EnvExclusions: `ssm-send-command=x`}, WantErr: EnvExclusions},
		{Name: "detections only not a bool", Env: map[string]string{EnvEventBusName: "bus", EnvDetectionsOnly: "yes"}, WantErr: EnvDetectionsOnly},
	})
}

// TestConfigEnvironmentRoundTrip checks the contract between the construct
// (which writes Environment) and the function (which reads ConfigFromEnv):
// every variable written is read back into the same configuration.
func TestConfigEnvironmentRoundTrip(t *testing.T) {
	envtest.RoundTrip(t, ConfigFromEnv, Config.Environment,
		Config{EventBusName: "activities", Detections: []string{"unauthorized-api-calls"}, PutEventsMaxBytes: 262144},
		Config{EventBusName: "activities", Detections: []string{"unauthorized-api-calls", "root-account-usage"}, PutEventsMaxBytes: 1000},
		Config{EventBusName: "activities", Detections: []string{"all"}, PutEventsMaxBytes: 1000, DetectionsOnly: true,
			Exclusions: detections.Exclusions{"lambda-code-overwritten": {"arn:aws:sts::*:assumed-role/deploy/*"}}},
	)
}
