package awsevents_test

import (
	"errors"
	"testing"

	"github.com/activity-aware/ids/internal/envtest"
	"github.com/activity-aware/ids/sources/awsevents"
)

func TestConfigRoundTrip(t *testing.T) {
	envtest.RoundTrip(t, awsevents.ConfigFromEnv, awsevents.Config.Environment,
		awsevents.Config{EventBusName: "bus", Sources: []string{"guardduty", "securityhub"}, PutEventsMaxBytes: 1000, SkipProducts: []string{"GuardDuty"}})
	for _, bad := range []map[string]string{
		{"EVENT_SOURCES": "guardduty"},
		{"EVENT_BUS_NAME": "bus"},
		{"EVENT_BUS_NAME": "bus", "EVENT_SOURCES": "guardduty", "PUT_EVENTS_MAX_BYTES": "-1"},
	} {
		if _, err := awsevents.ConfigFromEnv(func(k string) string { return bad[k] }); !errors.Is(err, awsevents.ErrConfig) {
			t.Errorf("ConfigFromEnv(%v) = %v, want ErrConfig", bad, err)
		}
	}
}
