package heartbeat

import (
	"testing"
	"time"

	"github.com/activity-aware/ids/activity"
)

func TestParseRequest(t *testing.T) {
	req, ok := ParseRequest([]byte(`{"heartbeat":{"scheduledTime":"2026-11-28T12:00:00Z","executionId":"e-1"}}`))
	if !ok || req.ExecutionID != "e-1" || req.ScheduledTime != "2026-11-28T12:00:00Z" {
		t.Fatalf("ParseRequest = %+v, %v", req, ok)
	}
	for _, p := range []string{
		`{"awslogs":{"data":"H4sI"}}`,
		`{"awslogs":{"data":"heartbeat"}}`,
		`{"heartbeat":`,
		`{"heartbeat":null}`,
		``,
	} {
		if _, ok := ParseRequest([]byte(p)); ok {
			t.Errorf("ParseRequest(%q) recognized a heartbeat", p)
		}
	}
}

func TestActivity(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 3, 0, time.UTC)
	a := Activity(Request{ScheduledTime: "2026-11-28T12:00:00Z", ExecutionID: "e-1"}, now)
	if err := a.Validate(); err != nil {
		t.Fatal(err)
	}
	if a.ID != "heartbeat-e-1" || !a.Time.Equal(now.Add(-3*time.Second)) {
		t.Errorf("activity = %s at %s", a.ID, a.Time)
	}
	if b := Activity(Request{ExecutionID: "e-2"}, now); b.ID == a.ID || !b.Time.Equal(now) {
		t.Errorf("second run = %s at %s", b.ID, b.Time)
	}
	if !Is(activity.SourcePrefix+Source, "111122223333", "111122223333", a) {
		t.Error("the canary is not recognized")
	}
	if Is(activity.SourcePrefix+Source, "999988887777", "111122223333", a) {
		t.Error("a canary from another account is recognized")
	}
	if Is(activity.SourcePrefix+"cloudtrail", "111122223333", "111122223333", a) {
		t.Error("a canary under another source is recognized")
	}
	untagged := *a
	untagged.Tags = nil
	if Is(activity.SourcePrefix+Source, "111122223333", "", &untagged) {
		t.Error("an untagged heartbeat-source activity is recognized")
	}
}
