package cloudtrail

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/detections"
)

func TestConfigFromEnv(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    Config
		wantErr string // the variable the error names
	}{
		{
			name: "required only",
			env:  map[string]string{EnvEventBusName: "bus"},
			want: Config{EventBusName: "bus", PutEventsMaxBytes: activity.DefaultMaxEntrySize},
		},
		{
			name: "everything",
			env:  map[string]string{EnvEventBusName: "bus", EnvDetections: " unauthorized-api-calls, root-account-usage ,", EnvPutEventsMaxBytes: "100000"},
			want: Config{EventBusName: "bus", Detections: []string{"unauthorized-api-calls", "root-account-usage"}, PutEventsMaxBytes: 100000},
		},
		{name: "no bus", env: map[string]string{EnvDetections: "unauthorized-api-calls"}, wantErr: EnvEventBusName},
		{name: "size not a number", env: map[string]string{EnvEventBusName: "bus", EnvPutEventsMaxBytes: "256k"}, wantErr: EnvPutEventsMaxBytes},
		{name: "size zero", env: map[string]string{EnvEventBusName: "bus", EnvPutEventsMaxBytes: "0"}, wantErr: EnvPutEventsMaxBytes},
		{name: "unknown preset", env: map[string]string{EnvEventBusName: "bus", EnvDetections: "no-such-preset"}, wantErr: EnvDetections},
		{
			name: "packs, exclusions, detections only",
			env: map[string]string{EnvEventBusName: "bus", EnvDetections: "threats", EnvDetectionsOnly: "true",
				EnvExclusions: `{"ssm-send-command":["arn:aws:iam::*:role/patching"]}`},
			want: Config{EventBusName: "bus", Detections: []string{"threats"}, DetectionsOnly: true, PutEventsMaxBytes: activity.DefaultMaxEntrySize,
				Exclusions: detections.Exclusions{"ssm-send-command": {"arn:aws:iam::*:role/patching"}}},
		},
		{name: "exclusions of a preset not enabled", env: map[string]string{EnvEventBusName: "bus", EnvDetections: "cis", EnvExclusions: `{"ssm-send-command":["arn:aws:iam::*:role/x"]}`}, wantErr: EnvExclusions},
		{name: "exclusions not JSON", env: map[string]string{EnvEventBusName: "bus", EnvExclusions: `ssm-send-command=x`}, wantErr: EnvExclusions},
		{name: "detections only not a bool", env: map[string]string{EnvEventBusName: "bus", EnvDetectionsOnly: "yes"}, wantErr: EnvDetectionsOnly},
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
		{EventBusName: "activities", Detections: []string{"unauthorized-api-calls"}, PutEventsMaxBytes: 262144},
		{EventBusName: "activities", Detections: []string{"unauthorized-api-calls", "root-account-usage"}, PutEventsMaxBytes: 1000},
		{EventBusName: "activities", Detections: []string{"all"}, PutEventsMaxBytes: 1000, DetectionsOnly: true,
			Exclusions: detections.Exclusions{"lambda-code-overwritten": {"arn:aws:sts::*:assumed-role/deploy/*"}}},
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
