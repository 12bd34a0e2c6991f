package detections

import (
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// knownNames are the rule and technique names that exist (testdata/
// references.json, names only, taken from the repositories at the commits it
// names).
type knownNames struct {
	Panther       map[string]string `json:"panther"` // RuleID → rule file
	Sigma         []string          `json:"sigma"`
	Stratus       []string          `json:"stratus"`
	StratusBranch []string          `json:"stratus_branch"`
}

var (
	pantherRef = regexp.MustCompile(`^Panther (\S+) \((\S+)\)$`)
	sigmaRef   = regexp.MustCompile(`^Sigma (\S+)$`)
	stratusRef = regexp.MustCompile(`^Stratus Red Team (\S+)( \(branch version [0-9a-f]+, not at HEAD\))?$`)
	cisRef     = regexp.MustCompile(`^CIS AWS Foundations Benchmark v1\.4 4\.(\d+) \((CloudWatch\.\d+|tuned variant used by baselines)\)$`)
	mitreRef   = regexp.MustCompile(`^MITRE ATT&CK T1\d{3}(\.\d{3})? `)
)

// TestReferencesExist checks every reference names something that exists:
// Panther rules by RuleID and the file that defines it, Sigma rules by file,
// Stratus Red Team techniques by id, AWS documentation and ATT&CK pages by
// URL on their sites, CIS controls by number; and that every Stratus id a
// preset declares is a real technique.
func TestReferencesExist(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "references.json"))
	if err != nil {
		t.Fatal(err)
	}
	var known knownNames
	if err := json.Unmarshal(data, &known); err != nil {
		t.Fatal(err)
	}
	stratus := func(id string, branchNoted bool) bool {
		return slices.Contains(known.Stratus, id) || (branchNoted && slices.Contains(known.StratusBranch, id))
	}
	for _, p := range All() {
		for _, ref := range p.References {
			switch {
			case strings.HasPrefix(ref, refPanther):
				m := pantherRef.FindStringSubmatch(ref)
				if m == nil || known.Panther[m[1]] != m[2] {
					t.Errorf("%s: %q: no Panther rule with that RuleID in that file", p.ID, ref)
				}
			case strings.HasPrefix(ref, refSigma):
				if m := sigmaRef.FindStringSubmatch(ref); m == nil || !slices.Contains(known.Sigma, m[1]) {
					t.Errorf("%s: %q: no such Sigma rule", p.ID, ref)
				}
			case strings.HasPrefix(ref, refStratus):
				if m := stratusRef.FindStringSubmatch(ref); m == nil || !stratus(m[1], m[2] != "") {
					t.Errorf("%s: %q: no such Stratus Red Team technique", p.ID, ref)
				}
			case strings.HasPrefix(ref, "https://"):
				u, err := url.Parse(ref)
				if err != nil || (u.Host != "docs.aws.amazon.com" && u.Host != "attack.mitre.org") {
					t.Errorf("%s: %q: references link AWS documentation or MITRE ATT&CK", p.ID, ref)
				}
			case cisRef.MatchString(ref), mitreRef.MatchString(ref),
				ref == "Activity Aware IDS self-protection", ref == "Activity Aware IDS (2017) default subscription filter",
				ref == "nozaq/terraform-aws-secure-baseline alarm-baseline":
			default:
				t.Errorf("%s: %q: a reference of no known kind", p.ID, ref)
			}
		}
		for _, id := range p.Stratus {
			if !stratus(id, true) {
				t.Errorf("%s: Stratus technique %s does not exist", p.ID, id)
			}
		}
	}
}
