package awsevents_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/eventbus"
	"github.com/activity-aware/ids/internal/emfparse"
	"github.com/activity-aware/ids/internal/localeventbridge"
	"github.com/activity-aware/ids/monitoring/metrics"
	"github.com/activity-aware/ids/sources/awsevents"
	"github.com/activity-aware/ids/sources/guardduty"
)

func TestConsoleURL(t *testing.T) {
	tests := []struct {
		region string
		want   string
		ok     bool
	}{
		{"eu-west-1", "https://eu-west-1.console.aws.amazon.com/guardduty/home?region=eu-west-1#/findings", true},
		{"cn-north-1", "https://console.amazonaws.cn/guardduty/home?region=cn-north-1#/findings", true},
		{"us-gov-west-1", "https://console.amazonaws-us-gov.com/guardduty/home?region=us-gov-west-1#/findings", true},
		{"evil.example.com/x", "", false},
		{"us-east-1@evil", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, ok := awsevents.ConsoleURL(tt.region, "guardduty", "region="+tt.region, "/findings")
		if got != tt.want || ok != tt.ok {
			t.Errorf("ConsoleURL(%q) = %q %v, want %q %v", tt.region, got, ok, tt.want, tt.ok)
		}
		if ok && !awsevents.IsConsoleURL(got) {
			t.Errorf("IsConsoleURL(%q) = false", got)
		}
	}
	for _, u := range []string{"https://evil.example/?x=.console.aws.amazon.com", "http://us-east-1.console.aws.amazon.com/", "https://a@us-east-1.console.aws.amazon.com/", "https://evil.console.aws.amazon.com/"} {
		if awsevents.IsConsoleURL(u) {
			t.Errorf("IsConsoleURL(%q) = true", u)
		}
	}
}

func TestDecode(t *testing.T) {
	for _, in := range []string{``, `[]`, `{"Records":[]}`, `{"source":"aws.guardduty","detail":{}}`, `{"source":"aws.guardduty","detail-type":"GuardDuty Finding","detail":"x"}`} {
		if _, err := awsevents.Decode([]byte(in)); !errors.Is(err, awsevents.ErrNotEvent) {
			t.Errorf("Decode(%q) = %v, want ErrNotEvent", in, err)
		}
	}
	r := &awsevents.Router{Sources: []awsevents.Source{guardduty.Source{}}}
	acts, err := r.FromEvent([]byte(`{"id":"e-1","source":"aws.macie","detail-type":"Macie Finding","account":"111122223333","time":"2024-05-01T00:00:00Z","detail":{"a":1}}`))
	if err != nil || len(acts) != 1 {
		t.Fatalf("%v %d", err, len(acts))
	}
	if a := acts[0]; a.ID != "unrecognized-e-1" || a.Severity != activity.Info || a.Validate() != nil || !strings.Contains(string(a.Detail), "aws.macie") {
		t.Errorf("unsupported event: %+v", a)
	}
}

// TestHandler publishes a real GuardDuty event on a local EventBridge and
// fails (so that Lambda retries) when the bus refuses it.
func TestHandler(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "guardduty", "testdata", "canary-ec2-network-connection.json"))
	if err != nil {
		t.Fatal(err)
	}
	srv := localeventbridge.New(localeventbridge.Options{
		BusName:        "bus",
		ValidateDetail: func(b []byte) error { _, err := activity.Parse(b); return err },
	})
	defer srv.Close()
	client := eventbus.NewClient(srv.AWSConfig(), func(o *eventbridge.Options) {
		o.Retryer = retry.AddWithMaxBackoffDelay(o.Retryer, time.Millisecond)
	})
	pub, err := eventbus.NewPublisher(client, eventbus.Config{BusName: "bus", BaseDelay: time.Millisecond, MaxDelay: time.Millisecond, MaxAttempts: 2, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	var emf bytes.Buffer
	h := &awsevents.Handler{
		Router:    &awsevents.Router{Sources: []awsevents.Source{guardduty.Source{}}},
		Publisher: pub,
		Logger:    slog.New(slog.DiscardHandler),
		Metrics:   metrics.New(&emf, "fn", metrics.DimSource, "guardduty"),
	}
	if _, err := h.Invoke(context.Background(), raw); err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	first := emf.String()
	got := srv.Accepted()
	if len(got) != 1 || got[0].Source != "activity-aware-ids.guardduty" || !strings.Contains(got[0].Detail, "16afba5c5c43e07c9e3e5e2e544e95df") {
		t.Fatalf("accepted %+v", got)
	}

	// The monitoring schedule's heartbeat publishes the canary.
	if _, err := h.Invoke(context.Background(), []byte(`{"heartbeat":{"scheduledTime":"2026-11-28T10:00:00Z","executionId":"x1"}}`)); err != nil {
		t.Fatalf("heartbeat: %v", err)
	}
	if got := srv.Accepted(); len(got) != 2 || got[1].Source != "activity-aware-ids.heartbeat" {
		t.Fatalf("heartbeat not published: %+v", got)
	}
	emf.Reset()

	srv.FailDetailContaining("InternalFailure", 10, "16afba5c5c43e07c9e3e5e2e544e95df")
	if _, err := h.Invoke(context.Background(), raw); !errors.Is(err, eventbus.ErrUndelivered) {
		t.Fatalf("Invoke with the bus failing = %v, want ErrUndelivered", err)
	}
	if _, err := h.Invoke(context.Background(), []byte(`{"Records":[]}`)); !errors.Is(err, awsevents.ErrNotEvent) {
		t.Fatalf("Invoke(not an event) = %v", err)
	}
	lines := strings.Split(strings.TrimSpace(first+emf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d EMF lines, want 2:\n%s", len(lines), emf.String())
	}
	dims := map[string]string{metrics.DimFunction: "fn", metrics.DimSource: "guardduty"}
	for i, want := range []map[string]float64{
		{metrics.RecordsIn: 1, metrics.ActivitiesPublished: 1, metrics.PublishFailures: 0},
		{metrics.RecordsIn: 1, metrics.ActivitiesPublished: 0, metrics.PublishFailures: 1},
	} {
		data, err := emfparse.Line([]byte(lines[i]))
		if err != nil {
			t.Fatal(err)
		}
		for name, v := range want {
			if got := emfparse.Sum(data, metrics.Namespace, name, dims); got != v {
				t.Errorf("line %d: %s = %v, want %v", i, name, got, v)
			}
		}
	}
}

func TestValidRegion(t *testing.T) {
	tests := []struct {
		region string
		want   bool
	}{
		{"us-east-1", true},
		{"us-gov-west-1", true},
		{"cn-northwest-1", true},
		{"ap-southeast-12", true},
		{"sagov-westsouth-1r", false}, // pseudonymized in the shared fixtures
		{"us-east", false},
		{"eu-1", false},
		{"us-east-1-", false},
		{"-us-east-1", false},
		{"us--east-1", false},
		{"US-east-1", false},
		{"us-east-1a", false},
		{"", false},
		{"a-b-c-d-e-f-g-h-i-j-k-l-m-n-o-p-1", false}, // longer than 32
	}
	for _, tt := range tests {
		if got := awsevents.ValidRegion(tt.region); got != tt.want {
			t.Errorf("ValidRegion(%q) = %v, want %v", tt.region, got, tt.want)
		}
	}
}

func TestARNField(t *testing.T) {
	tests := []struct {
		arn  string
		i    int
		want string
	}{
		{"arn:aws:iam::111122223333:role/Admin", 4, "111122223333"},
		{"arn:aws:iam::111122223333:role/Admin", 5, "role/Admin"},
		{"arn:aws:s3:::bucket/a:b:c", 5, "bucket/a:b:c"},
		{"arn:aws-cn:ec2:cn-north-1:1:instance/i-1", 3, "cn-north-1"},
		{"arn:aws:iam::111122223333", 0, ""}, // five fields: not an ARN
		{"urn:aws:iam::1:role/x", 1, ""},
		{"arn:aws:iam::1:role/x", 6, ""},
		{"arn:aws:iam::1:role/x", -1, ""},
		{"", 0, ""},
	}
	for _, tt := range tests {
		if got := awsevents.ARNField(tt.arn, tt.i); got != tt.want {
			t.Errorf("ARNField(%q, %d) = %q, want %q", tt.arn, tt.i, got, tt.want)
		}
	}
}
