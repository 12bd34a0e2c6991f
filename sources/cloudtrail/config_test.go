package cloudtrail

import (
	"testing"
	"time"

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
		{
			Name: "naming",
			Env:  map[string]string{EnvEventBusName: "bus", EnvDetections: "self-protection", EnvNamingPrefix: "prod-ids", EnvNamingTrailLogGroup: "org-trail"},
			Want: Config{EventBusName: "bus", Detections: []string{"self-protection"}, PutEventsMaxBytes: activity.DefaultMaxEntrySize,
				Naming: detections.Naming{Prefix: "prod-ids", TrailLogGroup: "org-trail"}},
		},
		{Name: "log group without a prefix", Env: map[string]string{EnvEventBusName: "bus", EnvNamingTrailLogGroup: "g"}, WantErr: EnvNamingPrefix},
		{
			Name: "prefix without a log group (no subscription)",
			Env:  map[string]string{EnvEventBusName: "bus", EnvNamingPrefix: "dev-ids"},
			Want: Config{EventBusName: "bus", PutEventsMaxBytes: activity.DefaultMaxEntrySize,
				Naming: detections.Naming{Prefix: "dev-ids", TrailLogGroup: detections.DefaultNaming.TrailLogGroup}},
		},
		{Name: "naming with a quote", Env: map[string]string{EnvEventBusName: "bus", EnvDetections: "self-protection", EnvNamingPrefix: `a"b`, EnvNamingTrailLogGroup: "g"}, WantErr: EnvDetections},
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
		Config{EventBusName: "activities", Detections: []string{"unauthorized-api-calls", "self-protection"}, PutEventsMaxBytes: 1000, DetectionsOnly: true,
			Naming: detections.Naming{Prefix: "prod-ids", TrailLogGroup: "CloudTrail/org"}},
	)
}

// TestConfigNamingReachesThePresets: a deployment named otherwise than the
// default has its own resources recognized, and the default's no longer.
func TestConfigNamingReachesThePresets(t *testing.T) {
	c := Config{EventBusName: "bus", Detections: []string{"self-bus-changed"}, Naming: detections.Naming{Prefix: "prod-ids", TrailLogGroup: "g"}}
	src, err := c.NewSource()
	if err != nil {
		t.Fatal(err)
	}
	record := func(bus string) []byte {
		return []byte(`{"eventVersion":"1.08","eventSource":"events.amazonaws.com","eventName":"DeleteEventBus","eventID":"e-` + bus +
			`","eventTime":"2026-11-28T12:00:00Z","awsRegion":"us-east-1","recipientAccountId":"111122223333",` +
			`"userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/mallory","accountId":"111122223333"},` +
			`"requestParameters":{"name":"` + bus + `-ActivityBus"}}`)
	}
	labelled := func(bus string) bool {
		a := src.FromRecord(record(bus), &activity.Origin{LogGroup: "g", LogEventID: "1"}, time.Now())
		return len(a.Detections) == 1 && a.Detections[0].ID == "self-bus-changed"
	}
	if !labelled("prod-ids") {
		t.Error("the deployment's own bus is not recognized under its naming")
	}
	if labelled("Activity-Aware-IDS") {
		t.Error("the default naming still matches under another deployment's naming")
	}
}
