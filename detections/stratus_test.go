package detections

import (
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/internal/sharedfixtures"
)

// Generic are the presets that flag any denied call: they say nothing about
// which technique ran, so they do not count as detecting one.
var Generic = []string{DefaultID, "unauthorized-api-calls-tuned"}

// nonHead is the prefix of the recordings of earlier versions of a Stratus
// technique: _non_head_versions__<commit>__<technique>.json.
var nonHead = regexp.MustCompile(`^_non_head_versions__[0-9a-f]+__`)

// StratusRecords groups the shared Stratus Red Team detonations by technique
// id; head reports the techniques recorded at the repository's HEAD (the 35
// the issue counts), the others exist only in earlier versions. It is
// exported for this package's external tests (stratus_threshold_test.go).
func StratusRecords(t *testing.T) (byTechnique map[string][]sharedfixtures.Record, head map[string]bool) {
	t.Helper()
	dir := sharedfixtures.Dir(t, "fixtures", "cloudtrail", "stratus")
	byTechnique, head = map[string][]sharedfixtures.Record{}, map[string]bool{}
	for _, r := range sharedfixtures.CloudTrailRecords(t) {
		if filepath.Dir(r.Path) != dir {
			continue
		}
		base := strings.TrimSuffix(filepath.Base(r.Path), ".json")
		id := nonHead.ReplaceAllString(base, "")
		if id == base {
			head[id] = true
		}
		byTechnique[id] = append(byTechnique[id], r)
	}
	return byTechnique, head
}

// TestStratusCoverage runs every preset over the Stratus Red Team detonations
// and counts the techniques that raise a technique-specific detection: a
// preset other than the generic denial ones labelling a record at low
// severity or above. Threshold presets label single records at info, so the
// techniques only they see are not counted here: TestStratusCoverageWithThresholds
// evaluates them with package correlation. It also checks every technique a preset declares in
// Stratus is one the preset raises.
func TestStratusCoverage(t *testing.T) {
	byTechnique, head := StratusRecords(t)
	set := NewSet(All())
	raised := map[string]map[string]bool{}   // technique → preset ids raising it
	labelled := map[string]map[string]bool{} // technique → every non-generic preset matching, info included
	for tech, recs := range byTechnique {
		raised[tech], labelled[tech] = map[string]bool{}, map[string]bool{}
		for _, r := range recs {
			for _, p := range set.Match(r.Raw) {
				if slices.Contains(Generic, p.ID) {
					continue
				}
				labelled[tech][p.ID] = true
				if p.RecordSeverity() != activity.Info {
					raised[tech][p.ID] = true
				}
			}
		}
	}
	var detected, missed []string
	for tech := range head {
		if len(raised[tech]) > 0 {
			detected = append(detected, tech)
		} else {
			missed = append(missed, tech)
		}
	}
	sort.Strings(detected)
	sort.Strings(missed)
	for _, tech := range detected {
		t.Logf("detected  %-62s %s", tech, strings.Join(sortedKeys(raised[tech]), ", "))
	}
	for _, tech := range missed {
		t.Logf("remaining %-62s labelled at info by: %s", tech, strings.Join(sortedKeys(labelled[tech]), ", "))
	}
	t.Logf("%d of %d Stratus techniques (HEAD recordings) raise a technique-specific detection", len(detected), len(head))
	if len(head) != 35 {
		t.Errorf("found %d Stratus techniques at HEAD, want the 35 of the shared fixtures", len(head))
	}
	if len(detected) < 30 {
		t.Errorf("%d of %d techniques detected, want at least 30", len(detected), len(head))
	}
	for _, tech := range missed {
		// What remains must be seen by a threshold preset, or the test
		// names a real gap.
		thresholdSees := false
		for id := range labelled[tech] {
			if p, _ := Lookup(id); len(p) == 1 && p[0].Threshold != nil {
				thresholdSees = true
			}
		}
		if !thresholdSees {
			t.Errorf("%s: no preset sees it, not even a threshold preset", tech)
		}
	}
	for _, p := range All() {
		for _, tech := range p.Stratus {
			if _, ok := byTechnique[tech]; !ok {
				t.Errorf("%s declares Stratus technique %s, which has no recording", p.ID, tech)
				continue
			}
			if !labelled[tech][p.ID] {
				t.Errorf("%s declares Stratus technique %s but matches none of its records", p.ID, tech)
			}
		}
	}
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
