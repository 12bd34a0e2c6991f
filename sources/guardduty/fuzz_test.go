package guardduty_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/sources/awsevents"
)

// FuzzFromEvent: any input yields an error or activities that validate and
// fit the bus; links only ever go to an AWS console host.
func FuzzFromEvent(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, name := range files {
		raw, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Add([]byte(`{"detail-type":"GuardDuty Finding","source":"aws.guardduty","detail":{"id":"a","type":"t","severity":"NaN","service":{"count":"1e400"}}}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		acts, err := router().FromEvent(raw)
		if err != nil {
			return
		}
		for _, a := range acts {
			if err := a.Validate(); err != nil {
				t.Fatalf("invalid activity: %v", err)
			}
			if _, err := activity.NewEntry(a, activity.DefaultMaxEntrySize); err != nil {
				t.Fatalf("entry: %v", err)
			}
			for _, l := range a.Links {
				if !awsevents.IsConsoleURL(l.URL) {
					t.Fatalf("link %q", l.URL)
				}
			}
		}
	})
}
