// Package sharedfixtures finds, for tests, the recorded data kept beside the
// repository in ../shared (CloudTrail records from real accounts and attack
// simulations, the filter-pattern references). It is not part of the
// repository, so a test that needs it is skipped, saying why, when it is
// absent; the project's own tests use data in the repository.
package sharedfixtures

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// Root is ../shared from the repository root.
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	// internal/sharedfixtures → the repository root → its parent.
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "shared")
}

// Dir returns the path of elem under ../shared, skipping the test when it
// does not exist.
func Dir(tb testing.TB, elem ...string) string {
	tb.Helper()
	p := filepath.Join(append([]string{Root()}, elem...)...)
	if _, err := os.Stat(p); err != nil {
		tb.Skipf("shared data not found at %s: it lives beside the repository, in ../shared (%v)", p, err)
	}
	return p
}

// CloudTrail returns the folder of recorded CloudTrail log files,
// ../shared/fixtures/cloudtrail, skipping the test when it is absent.
func CloudTrail(tb testing.TB) string {
	tb.Helper()
	return Dir(tb, "fixtures", "cloudtrail")
}

// Record is one recorded CloudTrail record and the file it came from.
type Record struct {
	Path string
	Raw  json.RawMessage
}

// CloudTrailRecords returns every record of every log file
// ({"Records":[...]}) under ../shared/fixtures/cloudtrail, in path order,
// skipping the test when the folder is absent and failing it on a file that
// cannot be read.
func CloudTrailRecords(tb testing.TB) []Record {
	tb.Helper()
	var out []Record
	err := filepath.WalkDir(CloudTrail(tb), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		var f struct{ Records []json.RawMessage }
		if err := json.Unmarshal(data, &f); err != nil {
			tb.Fatalf("%s: %v", path, err)
		}
		for _, r := range f.Records {
			out = append(out, Record{Path: path, Raw: r})
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return out
}
