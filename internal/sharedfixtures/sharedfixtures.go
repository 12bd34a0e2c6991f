// Package sharedfixtures finds, for tests, the recorded CloudTrail data: the
// full set kept beside the repository in ../shared (1,433 records from real
// accounts, attack simulations, rule tests and documentation, and the
// filter-pattern references) when it is there, otherwise the curated subset
// the repository carries in testdata/ (same layout, chosen by
// tools/curatefixtures to cover every identity type, outcome and oddity of
// the full set; origins and licences in testdata/README.md). So every test
// runs in a plain clone, and runs on everything where the full set exists.
// Only what the repository does not carry is skipped when ../shared is
// absent.
package sharedfixtures

import (
	"bytes"
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

// Repo is the repository's own testdata folder, whose layout mirrors
// ../shared for the parts it carries.
func Repo() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "testdata")
}

// Full reports whether the full set in ../shared is present.
func Full() bool {
	_, err := os.Stat(filepath.Join(Root(), "fixtures", "cloudtrail"))
	return err == nil
}

// Dir returns the path of elem under ../shared or, when ../shared lacks it,
// under the repository's testdata, skipping the test when neither has it.
func Dir(tb testing.TB, elem ...string) string {
	tb.Helper()
	p := filepath.Join(append([]string{Root()}, elem...)...)
	if _, err := os.Stat(p); err == nil {
		return p
	}
	own := filepath.Join(append([]string{Repo()}, elem...)...)
	if _, err := os.Stat(own); err != nil {
		tb.Skipf("data not found at %s nor in the repository's %s: it lives beside the repository, in ../shared (%v)", p, own, err)
	}
	return own
}

// CloudTrail returns the folder of recorded CloudTrail log files:
// ../shared/fixtures/cloudtrail, or the repository's curated subset.
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
// ({"Records":[...]}) under CloudTrail's folder, in path order, failing the
// test on a file that cannot be read.
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

// CloudTrailMessages returns CloudTrailRecords compacted, each as CloudTrail
// writes it into CloudWatch Logs: the message of a subscription's log event.
func CloudTrailMessages(tb testing.TB) []string {
	tb.Helper()
	var out []string
	for _, r := range CloudTrailRecords(tb) {
		var c bytes.Buffer
		if err := json.Compact(&c, r.Raw); err != nil {
			tb.Fatalf("%s: %v", r.Path, err)
		}
		out = append(out, c.String())
	}
	return out
}
