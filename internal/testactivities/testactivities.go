// Package testactivities gives destination tests the activities they render:
// the repository's sample events run through the real CloudTrail source (with
// the detection presets and the denial explainer, then the bus encoding), and
// a hostile activity carrying what an attacker controls in a record, aimed at
// every destination's format at once.
package testactivities

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/denial"
	"github.com/activity-aware/ids/detections"
	"github.com/activity-aware/ids/eventbus"
	"github.com/activity-aware/ids/sources/cloudtrail"
)

// dir is sample-events/ beside this module's root.
func dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "sample-events")
}

// Samples returns the activity of every sample event that yields one, by
// sample name ("iam-getpolicy-denied", …), as a destination receives it from
// the bus.
func Samples(tb testing.TB) map[string]*activity.Activity {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join(dir(), "decoded", "*.json"))
	if err != nil || len(files) == 0 {
		tb.Fatalf("testactivities: no sample events: %v", err)
	}
	src := cloudtrail.New(cloudtrail.Options{Enrichers: []cloudtrail.Enricher{detections.NewSet(detections.All()), denial.Enricher{}}})
	out := map[string]*activity.Activity{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		var batch events.CloudwatchLogsData
		if err := json.Unmarshal(raw, &batch); err != nil {
			tb.Fatalf("%s: %v", f, err)
		}
		if batch.MessageType != "DATA_MESSAGE" {
			continue
		}
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		for i, le := range batch.LogEvents {
			a := src.FromRecord([]byte(le.Message), &activity.Origin{LogGroup: batch.LogGroup, LogStream: batch.LogStream}, time.UnixMilli(le.Timestamp).UTC())
			entry, err := activity.NewEntry(a, 0)
			if err != nil {
				tb.Fatalf("%s: %v", f, err)
			}
			delivered, err := activity.Parse(entry.Detail)
			if err != nil {
				tb.Fatalf("%s: %v", f, err)
			}
			key := name
			if i > 0 {
				key += "-" + string(rune('a'+i))
			}
			out[key] = delivered
		}
	}
	return out
}

// Hostile is an activity whose every string is what an attacker could put in
// a CloudTrail record (user agents, session and resource names, error
// messages, request parameters) or in an activity on the bus: Slack mentions
// and links, Markdown emphasis, links, lists, headings and quotes, HTML,
// bare and defanged URLs, e-mail addresses, line breaks that fake a line of
// ours, control, bidirectional and zero-width characters, and values far
// beyond every destination's limits.
func Hostile() *activity.Activity {
	big := strings.Repeat("<!channel>&<@U123>**bold** [x](https://evil.example) ", 40*1024/56)
	fakeLine := "x\nSeverity: INFO\n- [Open console](https://evil.example/login)\r\n1. all clear\n# Resolved\n> quoted"
	return &activity.Activity{
		SchemaVersion: "1.0",
		ID:            "<!channel>-9b0e.\n[id](https://evil.example)",
		Source:        "cloudtrail",
		Subject:       "Access denied: IAMUser <!channel> **admin** _it_ ~~x~~ [click](https://evil.example) https://evil.example/a www.evil.example <b>b</b> & \u202Egpj.exe\u200b\r\nSeverity: info → s3:GetObject",
		Severity:      activity.High,
		Time:          time.Date(2024, 7, 4, 12, 0, 0, 0, time.UTC),
		Account:       activity.Account{ID: "123456789012", Name: "<!subteam^S123> [acct](https://evil.example)"},
		Region:        "us-east-1\n- injected",
		Actor: &activity.Actor{
			Type:          "IAMUser",
			Name:          "<@U123> @here mallory@evil.example",
			ARN:           "arn:aws:iam::123456789012:user/<#C123|general>*x*",
			SourceIP:      "<https://evil.example|203.0.113.1>",
			UserAgent:     big,
			SessionIssuer: "- list item\n* another\n+ third",
		},
		Action: &activity.Action{
			Service:      "s3.amazonaws.com",
			Name:         "GetObject",
			ErrorCode:    "AccessDenied\x1b[31m",
			ErrorMessage: fakeLine + " <!here> click <https://evil.example|here> & \u202Etxt.exe " + big,
			Outcome:      activity.Denied,
		},
		Resources: []activity.Resource{{Type: "AWS::S3::Object", ARN: "arn:aws:s3:::bucket/<!everyone>_[a](javascript:alert(1)).txt"}},
		Detections: []activity.Detection{
			{ID: "x", Title: "<!channel> *bold* `code` ![img](https://evil.example/i.png) " + big, Severity: activity.High},
		},
		Permission: &activity.Permission{
			Action:     "s3:GetObject`<!here>`",
			Resource:   "arn:aws:s3:::bucket/<@U999>" + big,
			ReasonText: "<https://evil.example|no policy> [fix](https://evil.example)",
			Fixable:    true,
			Statement:  json.RawMessage(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/<!channel>` + "```" + `"}`),
		},
		Fields: []activity.Field{
			{Key: "User Agent", Value: big},
			{Key: "<!channel> **k**", Value: "<@U123>\n\n---\nSeverity: low"},
			{Key: "Request Parameters", Value: `{"key":"` + "```\\n<!here> escaped the fence\\n```" + `","bucketName":"` + strings.Repeat("`", 7) + `"}`},
		},
		Tags: []string{"<!channel>", "**tag**"},
		Links: []activity.Link{
			{Title: "<!channel> [x](https://evil.example)", URL: "https://us-east-1.console.aws.amazon.com/cloudtrailv2/home?region=us-east-1#/events/x"},
			{Title: "evil", URL: "javascript:alert(1)"},
			{Title: "evil2", URL: "https://evil.example/<!channel>"},
			{Title: "look-alike", URL: "https://console.aws.amazon.com.evil.example/"},
		},
		Origin: &activity.Origin{LogGroup: "CloudTrail/<!channel>\nSeverity: low"},
	}
}

// Publisher is the account Event's events are published by.
const Publisher = "123456789012"

// Trust trusts Publisher, as a destination deployed in its account does.
var Trust = eventbus.Trust{Accounts: []string{Publisher}}

// Event is the EventBridge event a destination's rule delivers for a,
// published by Publisher.
func Event(tb testing.TB, a *activity.Activity) events.EventBridgeEvent {
	tb.Helper()
	entry, err := activity.NewEntry(a, 0)
	if err != nil {
		tb.Fatal(err)
	}
	return events.EventBridgeEvent{
		Version: "0", ID: "6a7e8feb-b491-4cf7-a9f1-bf3703467718", DetailType: entry.DetailType,
		Source: entry.Source, AccountID: Publisher, Region: "us-east-1",
		Time: a.Time, Detail: entry.Detail,
	}
}

// Golden compares got with the file at path, or rewrites the file when the
// test binary runs with -update (a flag the calling test package defines).
func Golden(tb testing.TB, path string, got []byte) {
	tb.Helper()
	if f := flag.Lookup("update"); f != nil && f.Value.String() == "true" {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		tb.Errorf("output differs from %s (run go test -update if the change is intended):\n%s", path, got)
	}
}

// Cases are the activities every destination's golden test renders: the
// samples and the hostile activity ("hostile").
func Cases(tb testing.TB) map[string]*activity.Activity {
	c := Samples(tb)
	c["hostile"] = Hostile()
	return c
}

// Fuzzed is the activity a renderer's fuzz target builds from arbitrary
// strings: every text field an attacker reaches carries one of them, with n
// links (to link), resources and detections (0 to 100).
func Fuzzed(subject, actor, userAgent, errCode, errMsg, link, severity string, n int) *activity.Activity {
	n = min(max(n, 0), 100)
	a := &activity.Activity{
		SchemaVersion: "1.0", ID: errCode, Source: actor, Subject: subject, Severity: activity.Severity(severity),
		Time:       time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC),
		Account:    activity.Account{ID: errCode, Name: actor},
		Region:     userAgent,
		Actor:      &activity.Actor{Name: actor, ARN: subject, UserAgent: userAgent, SourceIP: errMsg},
		Action:     &activity.Action{Service: userAgent, Name: subject, ErrorCode: errCode, ErrorMessage: errMsg},
		Permission: &activity.Permission{Action: actor, Resource: errMsg, ReasonText: userAgent, Guardrail: n%2 == 0},
	}
	for i := range n {
		a.Links = append(a.Links, activity.Link{Title: errMsg, URL: link})
		a.Resources = append(a.Resources, activity.Resource{ARN: errMsg + string(rune('a'+i%26))})
		a.Detections = append(a.Detections, activity.Detection{ID: subject, Title: errMsg})
	}
	return a
}
