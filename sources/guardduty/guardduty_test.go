package guardduty_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/internal/sourcetest"
	"github.com/activity-aware/ids/sources/awsevents"
	"github.com/activity-aware/ids/sources/guardduty"
)

func router() *awsevents.Router {
	return &awsevents.Router{Sources: []awsevents.Source{guardduty.Source{}}}
}

func fromFile(t *testing.T, name string) *activity.Activity {
	t.Helper()
	return sourcetest.One(t, router(), sourcetest.Read(t, name))
}

// TestFixtures reads every finding type of the real fixtures.
func TestFixtures(t *testing.T) {
	tests := []struct {
		sourcetest.Head
		file      string
		band      activity.Severity
		time      string
		actor     *activity.Actor
		action    *activity.Action
		resources []activity.Resource
		tags      []string
		link      string
	}{{
		file: "canary-ec2-network-connection.json",
		Head: sourcetest.Head{
			ID:        "guardduty-16afba5c5c43e07c9e3e5e2e544e95df@2017-10-31T23:16:23.824Z",
			Subject:   "Canary:EC2/Stateless.IntegTest",
			Severity:  activity.Medium,
			Detection: "Canary:EC2/Stateless.IntegTest",
			Fields: map[string]string{
				"Severity":            "5.0 (Medium)",
				"Resource":            "Instance i-05746eb48123455e0",
				"Resource role":       "TARGET",
				"Action":              "NETWORK_CONNECTION OUTBOUND TCP remote port 22",
				"Remote location":     "GeneratedFindingCityName, United States",
				"Remote organization": "GeneratedFindingORG / GeneratedFindingISP",
				"Count":               "1",
				"First seen":          "2017-10-31T23:16:23Z",
			},
		},
		band:      activity.Medium,
		time:      "2017-10-31T23:16:23.824Z",
		actor:     &activity.Actor{SourceIP: "0.0.0.0"},
		resources: []activity.Resource{{Type: "AWS::EC2::Instance", ARN: "arn:aws:ec2:us-east-1:123456789012:instance/i-05746eb48123455e0", AccountID: "123456789012"}},
		link:      "https://us-east-1.console.aws.amazon.com/guardduty/home?region=us-east-1#/findings?macros=current&fId=16afba5c5c43e07c9e3e5e2e544e95df",
	}, {
		file: "recon-iamuser-maliciousipcaller-custom.json",
		Head: sourcetest.Head{
			ID:        "guardduty-30bf285e52a1e405084ff6ec28e06e17@2022-01-13T00:00:47.427Z",
			Subject:   "Reconnaissance API GeneratedFindingAPIName was invoked from an IP address on a custom threat list.",
			Severity:  activity.Info, // archived: not a new alert
			Detection: "Recon:IAMUser/MaliciousIPCaller.Custom",
			Fields: map[string]string{
				"Severity":            "5.0 (Medium)",
				"Remote location":     "GeneratedFindingCityName, GeneratedFindingCountryName",
				"Remote organization": "GeneratedFindingASNOrg / GeneratedFindingISP",
				"Archived":            "yes",
				"Action":              "AWS_API_CALL GeneratedFindingAPIServiceName:GeneratedFindingAPIName (AccessDenied)",
			},
		},
		band: activity.Medium,
		time: "2022-01-13T00:00:47.427Z",
		actor: &activity.Actor{
			Type: "IAMUser", Name: "GeneratedFindingUserName", AccountID: "123456789012",
			PrincipalID: "GeneratedFindingPrincipalId", AccessKeyID: "GeneratedFindingAccessKeyId",
			SourceIP: "198.51.100.0",
		},
		action:    &activity.Action{Service: "GeneratedFindingAPIServiceName", Name: "GeneratedFindingAPIName", ErrorCode: "AccessDenied", Outcome: activity.Denied},
		resources: []activity.Resource{{Type: "AWS::EC2::Instance", ARN: "arn:aws:ec2:us-east-1:123456789012:instance/i-99999999", AccountID: "123456789012"}},
		tags:      []string{guardduty.TagArchived, guardduty.TagSample},
		link:      "https://us-east-1.console.aws.amazon.com/guardduty/home?region=us-east-1#/findings?macros=current&fId=30bf285e52a1e405084ff6ec28e06e17",
	}, {
		file: "pentest-s3-parrotlinux.json",
		Head: sourcetest.Head{
			ID:        "guardduty-2cbf285e52a6e74ff96f4cb3cf93296d@2022-01-13T00:00:47.437Z",
			Subject:   "API GeneratedFindingAPIName was invoked from a remote host potentially running Parrot Security Linux.",
			Severity:  activity.Info,
			Detection: "PenTest:S3/ParrotLinux",
			Fields: map[string]string{
				"Resource": "S3Bucket i-99999999, bucketName",
			},
		},
		band: activity.Medium,
		time: "2022-01-13T00:00:47.437Z",
		actor: &activity.Actor{
			Type: "IAMUser", Name: "GeneratedFindingUserName", AccountID: "123456789012",
			PrincipalID: "GeneratedFindingPrincipalId", AccessKeyID: "GeneratedFindingAccessKeyId",
			SourceIP: "198.51.100.0",
		},
		action: &activity.Action{Service: "GeneratedFindingAPIServiceName", Name: "GeneratedFindingAPIName", ErrorCode: "AccessDenied", Outcome: activity.Denied},
		resources: []activity.Resource{
			{Type: "AWS::EC2::Instance", ARN: "arn:aws:ec2:us-east-1:123456789012:instance/i-99999999", AccountID: "123456789012"},
			{Type: "AWS::S3::Bucket", ARN: "arn:aws:s3:::bucketName", AccountID: "123456789012"},
		},
		tags: []string{guardduty.TagArchived, guardduty.TagSample},
	}}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			a := fromFile(t, tt.file)
			if tt.ID == "" || tt.Subject == "" || tt.Detection == "" {
				t.Fatal("every fixture states its id, subject and detection")
			}
			tt.Check(t, a)
			if e, err := activity.NewEntry(a, 0); err != nil || a.Source != guardduty.SourceName || e.Source != "activity-aware-ids.guardduty" {
				t.Errorf("source %q, entry source %q, %v", a.Source, e.Source, err)
			}
			if len(a.Detections) != 1 || a.Detections[0].Severity != tt.band {
				t.Errorf("detections %+v, want one at %s", a.Detections, tt.band)
			}
			if got := a.Time.Format(time.RFC3339Nano); got != tt.time {
				t.Errorf("time %s, want %s", got, tt.time)
			}
			if a.Account.ID != "123456789012" || a.Region != "us-east-1" {
				t.Errorf("account %q region %q", a.Account.ID, a.Region)
			}
			if (a.Actor == nil) != (tt.actor == nil) || a.Actor != nil && *a.Actor != *tt.actor {
				t.Errorf("actor %+v, want %+v", a.Actor, tt.actor)
			}
			if (a.Action == nil) != (tt.action == nil) || a.Action != nil && *a.Action != *tt.action {
				t.Errorf("action %+v, want %+v", a.Action, tt.action)
			}
			if !slices.Equal(a.Resources, tt.resources) {
				t.Errorf("resources %+v, want %+v", a.Resources, tt.resources)
			}
			if !slices.Equal(a.Tags, tt.tags) {
				t.Errorf("tags %v, want %v", a.Tags, tt.tags)
			}
			if tt.link != "" && (len(a.Links) != 1 || a.Links[0].URL != tt.link) {
				t.Errorf("links %+v, want %s", a.Links, tt.link)
			}
			if len(a.Detail) == 0 || !strings.Contains(string(a.Detail), `"schemaVersion":"2.0"`) {
				t.Errorf("detail is not the compact finding: %.80s", a.Detail)
			}
			if _, err := activity.NewEntry(a, activity.DefaultMaxEntrySize); err != nil {
				t.Errorf("entry: %v", err)
			}
		})
	}
}

// TestSeverityBands checks the documented bands at their edges.
func TestSeverityBands(t *testing.T) {
	tests := []struct {
		v    float64
		want activity.Severity
	}{
		{0, activity.Low}, {1.0, activity.Low}, {3.9, activity.Low},
		{4.0, activity.Medium}, {5, activity.Medium}, {6.9, activity.Medium},
		{7.0, activity.High}, {8.0, activity.High}, {8.9, activity.High},
		{9.0, activity.Critical}, {10, activity.Critical},
	}
	for _, tt := range tests {
		if got := guardduty.Severity(tt.v); got != tt.want {
			t.Errorf("Severity(%v) = %s, want %s", tt.v, got, tt.want)
		}
	}
}

// TestSeverityFromEvent edits a real finding's severity (as a number and as
// GuardDuty's string form) and its archived flag, and reads the activity's
// severity.
func TestSeverityFromEvent(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "canary-ec2-network-connection.json"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		from, to string
		want     activity.Severity
	}{
		{`"severity": 5,`, `"severity": 8.9,`, activity.High},
		{`"severity": 5,`, `"severity": "9.0",`, activity.Critical},
		{`"severity": 5,`, `"severity": 2,`, activity.Low},
		{`"archived": false`, `"archived": true`, activity.Info},
	}
	for _, tt := range tests {
		edited := strings.Replace(string(raw), tt.from, tt.to, 1)
		if edited == string(raw) {
			t.Fatalf("fixture has no %q", tt.from)
		}
		acts, err := router().FromEvent([]byte(edited))
		if err != nil || len(acts) != 1 {
			t.Fatalf("%s: %v, %d activities", tt.to, err, len(acts))
		}
		if acts[0].Severity != tt.want {
			t.Errorf("%s: severity %s, want %s", tt.to, acts[0].Severity, tt.want)
		}
	}
}

// TestHostileFinding keeps attacker-influenced text out of the link and the
// console host: a finding id or region that is not shaped like one gets no
// link.
func TestHostileFinding(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "canary-ec2-network-connection.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, edit := range [][2]string{
		{`"id": "16afba5c5c43e07c9e3e5e2e544e95df"`, `"id": "x&fId=1#evil"`},
		{`"region": "us-east-1",
    "partition"`, `"region": "evil.example/",
    "partition"`},
	} {
		edited := strings.Replace(string(raw), edit[0], edit[1], 1)
		if edited == string(raw) {
			t.Fatalf("fixture has no %q", edit[0])
		}
		acts, err := router().FromEvent([]byte(edited))
		if err != nil || len(acts) != 1 {
			t.Fatalf("%v, %d activities", err, len(acts))
		}
		if len(acts[0].Links) != 0 {
			t.Errorf("%s: link %+v", edit[1], acts[0].Links)
		}
	}
}

// TestUnreadable: a GuardDuty event whose detail is not a finding becomes an
// unrecognized-event activity; input that is not an event is an error.
func TestUnreadable(t *testing.T) {
	acts, err := router().FromEvent([]byte(`{"version":"0","id":"e1","detail-type":"GuardDuty Finding","source":"aws.guardduty","account":"111122223333","time":"2024-01-01T00:00:00Z","region":"us-east-1","resources":[],"detail":{"severity":"high"}}`))
	if err != nil || len(acts) != 1 {
		t.Fatalf("%v, %d activities", err, len(acts))
	}
	if a := acts[0]; !slices.Contains(a.Tags, awsevents.TagUnrecognized) || a.Severity != activity.Info || a.ID != "unrecognized-e1" || a.Validate() != nil {
		t.Errorf("got %+v", a)
	}
	if _, err := router().FromEvent([]byte(`{"Records":[]}`)); err == nil {
		t.Error("a CloudTrail file read as an event")
	}
}
