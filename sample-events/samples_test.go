package sampleevents

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/internal/subscriptiontest"
	"github.com/activity-aware/ids/sources/cloudtrail"
)

var update = flag.Bool("update", false, "rewrite the payloads from decoded/")

// encode builds the subscription payload of a decoded batch: compact JSON,
// gzip (no name, no time, so the output is reproducible), base64.
func encode(t *testing.T, decoded []byte) []byte {
	t.Helper()
	var body bytes.Buffer
	if err := json.Compact(&body, decoded); err != nil {
		t.Fatal(err)
	}
	out, err := json.MarshalIndent(subscriptiontest.Event(body.Bytes()), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(out, '\n')
}

// want is what each sample must standardize to.
var want = map[string]struct {
	subject  string
	severity activity.Severity
	outcome  activity.Outcome
}{
	"original-sample":               {"IntentionalTesting: IAMUser Alice → sts:AssumeRole", activity.Info, activity.Failed},
	"iam-getpolicy-denied":          {"Access denied: IAMUser mallory-ci → iam:GetPolicy", activity.Medium, activity.Denied},
	"ec2-unauthorized-operation":    {"Access denied: AssumedRole role/DeployRole (session ci-runner-4821) → ec2:RunInstances", activity.Medium, activity.Denied},
	"s3-access-denied-long-request": {"Access denied: AssumedRole role/DataAnalyst (session analyst@example.com) → s3:DeleteObjects", activity.Medium, activity.Denied},
	"console-signin-failure":        {"Console sign-in failure: IAMUser bob", activity.Medium, activity.Failed},
	"control-message":               {},
}

func TestPayloadsDecodeToTheirDecodedForm(t *testing.T) {
	decodedFiles, err := filepath.Glob(filepath.Join("decoded", "*.json"))
	if err != nil || len(decodedFiles) != len(want) {
		t.Fatalf("decoded samples %q (%v), want %d", decodedFiles, err, len(want))
	}
	src := cloudtrail.New(cloudtrail.Options{})
	for _, df := range decodedFiles {
		name := strings.TrimSuffix(filepath.Base(df), ".json")
		t.Run(name, func(t *testing.T) {
			decoded, err := os.ReadFile(df)
			if err != nil {
				t.Fatal(err)
			}
			if *update {
				if err := os.WriteFile(name+".json", encode(t, decoded), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			raw, err := os.ReadFile(name + ".json")
			if err != nil {
				t.Fatalf("payload missing (run go test ./sample-events -update): %v", err)
			}
			var ev events.CloudwatchLogsEvent
			if err := json.Unmarshal(raw, &ev); err != nil {
				t.Fatal(err)
			}
			got, err := ev.AWSLogs.Parse()
			if err != nil {
				t.Fatalf("payload does not decode: %v", err)
			}
			var wantData events.CloudwatchLogsData
			if err := json.Unmarshal(decoded, &wantData); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, wantData) {
				t.Fatalf("payload decodes to\n%+v\nwant (decoded/%s.json)\n%+v", got, name, wantData)
			}

			acts, err := src.FromSubscription(ev, nil)
			if err != nil {
				t.Fatal(err)
			}
			w := want[name]
			if w.subject == "" {
				if acts != nil {
					t.Fatalf("control message yielded %d activities", len(acts))
				}
				return
			}
			if len(acts) != 1 {
				t.Fatalf("%d activities, want 1", len(acts))
			}
			a := acts[0]
			if a.Subject != w.subject || a.Severity != w.severity || a.Action.Outcome != w.outcome {
				t.Errorf("got %q %s %s, want %q %s %s", a.Subject, a.Severity, a.Action.Outcome, w.subject, w.severity, w.outcome)
			}
			if a.Time.Before(time.Date(2017, 1, 1, 0, 0, 0, 0, time.UTC)) || len(a.Links) != 1 {
				t.Errorf("time %v links %v", a.Time, a.Links)
			}
			if _, err := activity.NewEntry(a, 0); err != nil {
				t.Errorf("NewEntry: %v", err)
			}
		})
	}
}
