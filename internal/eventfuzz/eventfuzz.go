// Package eventfuzz is the fuzz target the EventBridge-fed sources share:
// seeded with a source's fixtures, it checks that any input yields an error
// or activities that validate, fit the bus and link only to AWS console
// hosts. Like net/http/httptest, it is imported by tests only.
package eventfuzz

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/sources/awsevents"
)

// Fuzz runs the fuzz target over r, seeded with the JSON files in dir and
// seeds.
func Fuzz(f *testing.F, r *awsevents.Router, dir string, seeds ...string) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no fixtures in %s", dir)
	}
	for _, name := range files {
		raw, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		acts, err := r.FromEvent(raw)
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
