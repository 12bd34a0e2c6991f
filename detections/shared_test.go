package detections

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/activity-aware/ids/internal/sharedfixtures"
)

// sharedRecords returns every record of the shared CloudTrail recordings
// (../shared/fixtures/cloudtrail from the repository root), skipping the test
// when they are absent.
func sharedRecords(tb testing.TB) []json.RawMessage {
	tb.Helper()
	var recs []json.RawMessage
	for _, r := range sharedfixtures.CloudTrailRecords(tb) {
		recs = append(recs, r.Raw)
	}
	return recs
}

// TestSharedFixtureCounts reports how many of the shared recordings each
// preset flags, and checks every preset whose own fixtures include a recorded
// (not reshaped) match flags at least that many in the whole set.
func TestSharedFixtureCounts(t *testing.T) {
	recs := sharedRecords(t)
	set := NewSet(All())
	counts := map[string]int{}
	flagged := 0
	for _, r := range recs {
		m := set.Match(r)
		if p := set.MatchParsed(r, parse(r)); !slices.Equal(p, m) {
			t.Fatalf("MatchParsed %v, Match %v on %s", ids(p), ids(m), r)
		}
		if len(m) > 0 {
			flagged++
		}
		for _, p := range m {
			counts[p.ID]++
		}
	}
	t.Logf("%d records, %d flagged by at least one preset", len(recs), flagged)
	for _, p := range All() {
		recorded := 0
		for _, c := range loadFixture(t, p.ID).Match {
			if !strings.HasPrefix(c.From, "synthesized") {
				recorded++
			}
		}
		t.Logf("%-34s %4d", p.ID, counts[p.ID])
		if counts[p.ID] < recorded {
			hint := ""
			if !sharedfixtures.Full() {
				hint = " (the repository's curated set: rerun go run ./tools/curatefixtures with ../shared beside the repository, see testdata/README.md)"
			}
			t.Errorf("%s flags %d shared records, fewer than the %d recorded matches in its own fixtures%s", p.ID, counts[p.ID], recorded, hint)
		}
	}
}
