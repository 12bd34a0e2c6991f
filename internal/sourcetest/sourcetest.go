// Package sourcetest holds what the sources' tests share: a fixture read
// from the package's testdata, a display field's value, the one activity an
// EventBridge event yields, and the checks of an activity's head. Like
// net/http/httptest, it is imported by tests only.
package sourcetest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/sources/awsevents"
)

// Read returns testdata/name of the package under test.
func Read(t testing.TB, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// Field returns the value of a's display field key, "" when it has none.
func Field(a *activity.Activity, key string) string {
	for _, f := range a.Fields {
		if f.Key == key {
			return f.Value
		}
	}
	return ""
}

// One returns the one activity r makes of the event raw, failing t unless
// there is exactly one and it validates.
func One(t testing.TB, r *awsevents.Router, raw []byte) *activity.Activity {
	t.Helper()
	acts, err := r.FromEvent(raw)
	if err != nil {
		t.Fatalf("FromEvent: %v", err)
	}
	if len(acts) != 1 {
		t.Fatalf("%d activities, want 1", len(acts))
	}
	if err := acts[0].Validate(); err != nil {
		t.Fatalf("invalid activity: %v", err)
	}
	return acts[0]
}

// Head is what a finding's activity must carry; a blank string is not
// checked.
type Head struct {
	ID, Subject string
	Severity    activity.Severity
	// Detection is the id of the activity's one detection.
	Detection string
	// Resource is the ARN of the activity's first resource.
	Resource string
	// Fields are display fields and their values ("" for none).
	Fields map[string]string
}

// Check reports on t where a differs from h, and whether a fits a bus
// entry.
func (h Head) Check(t testing.TB, a *activity.Activity) {
	t.Helper()
	if h.ID != "" && a.ID != h.ID {
		t.Errorf("id %q, want %q", a.ID, h.ID)
	}
	if h.Subject != "" && a.Subject != h.Subject {
		t.Errorf("subject %q, want %q", a.Subject, h.Subject)
	}
	if a.Severity != h.Severity {
		t.Errorf("severity %s, want %s", a.Severity, h.Severity)
	}
	if h.Detection != "" && (len(a.Detections) != 1 || a.Detections[0].ID != h.Detection) {
		t.Errorf("detections %+v, want %s", a.Detections, h.Detection)
	}
	if h.Resource != "" && (len(a.Resources) == 0 || a.Resources[0].ARN != h.Resource) {
		t.Errorf("resources %+v, want %s", a.Resources, h.Resource)
	}
	for k, v := range h.Fields {
		if got := Field(a, k); got != v {
			t.Errorf("field %q = %q, want %q", k, got, v)
		}
	}
	if _, err := activity.NewEntry(a, activity.DefaultMaxEntrySize); err != nil {
		t.Errorf("entry: %v", err)
	}
}
