package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/internal/lambdaemu"
	"github.com/activity-aware/ids/internal/localaws"
	"github.com/activity-aware/ids/internal/localeventbridge"
	"github.com/activity-aware/ids/sources/awsevents"
	"github.com/activity-aware/ids/sources/cloudtrail"
	"github.com/activity-aware/ids/sources/eventsources"
	"github.com/activity-aware/ids/sources/securityhub"
)

// TestUnderEmulator runs the compiled function under the Lambda runtime
// interface emulator, configured as the constructs configure it (their
// Config.Environment), against a local EventBridge: every source's real
// fixtures are published, GuardDuty's Security Hub copies skipped; input
// that is not an event, and a bus that refuses an entry, fail the invocation
// (Lambda then retries it and parks it in the on-failure queue).
func TestUnderEmulator(t *testing.T) {
	ctx := context.Background()
	eb := localeventbridge.New(localeventbridge.Options{
		BusName:        "bus",
		ValidateDetail: func(b []byte) error { _, err := activity.Parse(b); return err },
	})
	defer eb.Close()
	env := awsevents.Config{EventBusName: "bus", Sources: eventsources.Names, SkipProducts: []string{securityhub.ProductGuardDuty}}.Environment()
	for k, v := range (cloudtrail.Config{EventBusName: "bus", Detections: []string{"unauthorized-api-calls"}}).Environment() {
		env[k] = v
	}
	env["AWS_ENDPOINT_URL_EVENTBRIDGE"] = eb.URL()
	fn := lambdaemu.StartPackage(t, "../..", "./lambdas/event-source", lambdaemu.Config{
		Name: "EventSource", Env: env,
		Timeout: 30 * time.Second, MemoryMB: 128, LogFormat: "JSON", LogLevel: "INFO",
		Region: "us-east-1", AccessKeyID: localaws.AccessKeyID, SecretAccessKey: localaws.SecretAccessKey,
	})

	want := map[string]int{ // entries published per source's fixtures
		"guardduty":        3,
		"securityhub":      7, // 9 findings: one resolved, one imported from GuardDuty
		"accessanalyzer":   5,
		"cloudtrailevents": 2,
	}
	for dir, n := range want {
		files, _ := filepath.Glob(filepath.Join("../../sources", dir, "testdata", "*.json"))
		before := len(eb.Accepted())
		for _, f := range files {
			payload, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			res, err := fn.Invoke(ctx, payload)
			if err != nil || res.Failed() {
				t.Fatalf("%s: %v %+v\n%s", f, err, res, fn.Logs())
			}
		}
		if got := len(eb.Accepted()) - before; got != n {
			t.Errorf("%s: %d entries published, want %d", dir, got, n)
		}
	}
	for _, e := range eb.Accepted() {
		if !strings.HasPrefix(e.Source, activity.SourcePrefix) || e.DetailType != activity.DetailType {
			t.Errorf("entry %s %s", e.Source, e.DetailType)
		}
	}

	if res, err := fn.Invoke(ctx, []byte(`{"Records":[]}`)); err != nil || !res.Failed() {
		t.Errorf("not an event: %v %+v, want a failed invocation", err, res)
	}
	gd, err := os.ReadFile(filepath.Join("../../sources", "guardduty", "testdata", "canary-ec2-network-connection.json"))
	if err != nil {
		t.Fatal(err)
	}
	eb.FailDetailContaining("InternalFailure", 100, "16afba5c5c43e07c9e3e5e2e544e95df")
	if res, err := fn.Invoke(ctx, gd); err != nil || !res.Failed() {
		t.Errorf("bus refusing the entry: %v %+v, want a failed invocation", err, res)
	}
}
