package detections

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fastjson"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/detections/filterpattern"
	"github.com/activity-aware/ids/internal/sharedfixtures"
)

// fixture is one preset's testdata: records it must match and near misses it
// must not. "from" names the shared fixture a record was copied from, or says
// how a real record was reshaped where the recordings hold no example.
type fixture struct {
	Match   []fixtureCase `json:"match"`
	NoMatch []fixtureCase `json:"nomatch"`
}

type fixtureCase struct {
	From   string          `json:"from"`
	Record json.RawMessage `json:"record"`
}

func loadFixture(t *testing.T, id string) fixture {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", id+".json"))
	if err != nil {
		t.Fatalf("preset %s has no fixtures: %v", id, err)
	}
	var f fixture
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("testdata/%s.json: %v", id, err)
	}
	if len(f.Match) == 0 || len(f.NoMatch) == 0 {
		t.Fatalf("testdata/%s.json needs records to match and near misses", id)
	}
	return f
}

// TestPresetFixtures runs every preset over its own fixtures, through both the
// single-pattern and the Set paths.
func TestPresetFixtures(t *testing.T) {
	for _, p := range All() {
		t.Run(p.ID, func(t *testing.T) {
			f := loadFixture(t, p.ID)
			set := NewSet([]*Preset{p})
			for _, tc := range []struct {
				cases []fixtureCase
				want  bool
			}{{f.Match, true}, {f.NoMatch, false}} {
				for _, c := range tc.cases {
					if got := p.Compiled().Match(c.Record); got != tc.want {
						t.Errorf("Match = %v, want %v for %s", got, tc.want, c.From)
					}
					if got := len(set.Match(c.Record)) == 1; got != tc.want {
						t.Errorf("Set.Match = %v, want %v for %s", got, tc.want, c.From)
					}
					if got := len(set.MatchParsed(c.Record, parse(c.Record))) == 1; got != tc.want {
						t.Errorf("Set.MatchParsed = %v, want %v for %s", got, tc.want, c.From)
					}
				}
			}
			t.Logf("%d matched, %d near misses not matched", len(f.Match), len(f.NoMatch))
		})
	}
}

func TestPresetsAreWellFormed(t *testing.T) {
	seen := map[string]bool{}
	for _, p := range All() {
		if seen[p.ID] {
			t.Errorf("duplicate id %s", p.ID)
		}
		seen[p.ID] = true
		if p.Title == "" || p.Rationale == "" || len(p.References) == 0 || !p.Severity.Valid() {
			t.Errorf("%s: title, rationale, references and a valid severity are required", p.ID)
		}
		if !slices.Contains(Packs(), p.Pack) || p.Pack == PackAll || p.Tactic == "" || !strings.HasPrefix(p.Technique, "T1") {
			t.Errorf("%s: pack %q, tactic %q, technique %q: a pack and an ATT&CK placement are required", p.ID, p.Pack, p.Tactic, p.Technique)
		}
		if p.Pack == PackThreats && (p.SeverityReason == "" || p.BenignCauses == "") {
			t.Errorf("%s: threat presets say why their severity and what benign activity matches", p.ID)
		}
		if p.Threshold != nil && (p.Threshold.Count < 2 || p.Threshold.Window <= 0) {
			t.Errorf("%s: threshold %+v counts at least 2 within a positive window", p.ID, *p.Threshold)
		}
		if !p.Compiled().IsJSON() {
			t.Errorf("%s: presets are JSON patterns", p.ID)
		}
		if n := len([]rune(p.Pattern)); n > filterpattern.MaxLength {
			t.Errorf("%s: pattern is %d characters", p.ID, n)
		}
	}
	if !seen[DefaultID] {
		t.Errorf("DefaultID %q is not a preset", DefaultID)
	}
}

// TestCISPatternsVerbatim checks the CIS presets carry the benchmark's exact
// patterns (Security Hub's CloudWatch.x controls pass only with them), against
// the shared reference when it is present.
func TestCISPatternsVerbatim(t *testing.T) {
	ref, err := os.ReadFile(filepath.Join(sharedfixtures.Dir(t, "reference"), "cis-cloudwatch-patterns.md"))
	if err != nil {
		t.Fatal(err)
	}
	var published []string
	for _, line := range strings.Split(string(ref), "\n") {
		if l := strings.TrimSpace(line); strings.HasPrefix(line, "      {") {
			published = append(published, l)
		}
	}
	if len(published) < 15 {
		t.Fatalf("found %d patterns in the reference, want the 16 CIS and denial patterns", len(published))
	}
	var ours []string
	for _, p := range All() {
		ours = append(ours, p.Pattern)
	}
	for _, want := range published {
		if strings.HasPrefix(want, "{(($.errorCode") {
			continue // the baselines' tuned variant: ours extends it (anonymous principals)
		}
		if !slices.Contains(ours, want) {
			t.Errorf("no preset carries the published pattern verbatim:\n%s", want)
		}
	}
}

func TestLookup(t *testing.T) {
	got, err := Lookup("root-account-usage", DefaultID, "root-account-usage")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != "root-account-usage" || got[1].ID != DefaultID {
		t.Fatalf("Lookup = %v", ids(got))
	}
	_, err = Lookup(DefaultID, "no-such-preset")
	if !errors.Is(err, ErrUnknownPreset) || !strings.Contains(err.Error(), `"no-such-preset"`) || !strings.Contains(err.Error(), "vpc-changes") {
		t.Fatalf("error = %v, want ErrUnknownPreset naming the id and listing the known ones", err)
	}
}

func TestLookupPacks(t *testing.T) {
	count := map[string]int{}
	for _, p := range All() {
		count[p.Pack]++
	}
	for _, pack := range []string{PackCIS, PackThreats, PackSelfProtection} {
		got, err := Lookup(pack)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == 0 || len(got) != count[pack] {
			t.Errorf("pack %s: %d presets, want %d", pack, len(got), count[pack])
		}
		for _, p := range got {
			if p.Pack != pack {
				t.Errorf("pack %s holds %s of pack %s", pack, p.ID, p.Pack)
			}
		}
	}
	all, err := Lookup(PackAll)
	if err != nil || len(all) != len(All()) {
		t.Fatalf("all: %d presets, %v; want %d", len(all), err, len(All()))
	}
	mixed, err := ParseList("root-account-usage, self-protection, root-account-usage")
	if err != nil {
		t.Fatal(err)
	}
	if len(mixed) != 1+count[PackSelfProtection] || mixed[0].ID != "root-account-usage" {
		t.Errorf("id then pack: %v", ids(mixed))
	}
	if _, err := Lookup("thread"); !errors.Is(err, ErrUnknownPreset) || !strings.Contains(err.Error(), "threats") {
		t.Errorf("a misspelt pack: %v, want ErrUnknownPreset listing the packs", err)
	}
}

func TestAllForNaming(t *testing.T) {
	all, err := AllFor(Naming{Prefix: "SecOps-IDS", TrailLogGroup: "org-trail"})
	if err != nil {
		t.Fatal(err)
	}
	set := NewSet(all)
	rec := []byte(`{"eventSource":"lambda.amazonaws.com","eventName":"UpdateFunctionCode20150331v2","requestParameters":{"functionName":"SecOps-IDS-Source-1"}}`)
	if !slices.Contains(ids(set.Match(rec)), "self-lambda-changed") {
		t.Error("a custom prefix must be recognized")
	}
	if slices.Contains(ids(NewSet(All()).Match(rec)), "self-lambda-changed") {
		t.Error("the default naming must not recognize another prefix")
	}
	for _, bad := range []Naming{{Prefix: "", TrailLogGroup: "x"}, {Prefix: `a"b`, TrailLogGroup: "x"}, {Prefix: "a", TrailLogGroup: "x*"}} {
		if _, err := AllFor(bad); err == nil {
			t.Errorf("AllFor(%+v) must fail", bad)
		}
	}
	if _, err := LookupFor(Naming{Prefix: "p", TrailLogGroup: "g"}, "self-bus-changed"); err != nil {
		t.Error(err)
	}
	// The zero Naming is the default one's presets, the very values Lookup
	// returns.
	want, _ := Lookup(PackSelfProtection)
	if got, err := LookupFor(Naming{}, PackSelfProtection); err != nil || len(got) == 0 || !slices.Equal(got, want) {
		t.Errorf("LookupFor(Naming{}) = %d presets, %v; want Lookup's %d", len(got), err, len(want))
	}
}

func TestFilterPattern(t *testing.T) {
	one, _ := Lookup(DefaultID)
	got, err := FilterPattern(one)
	if err != nil || got != one[0].Pattern {
		t.Fatalf("single preset: %q, %v; want its pattern verbatim", got, err)
	}

	two, _ := Lookup(DefaultID, "root-account-usage")
	got, err = FilterPattern(two)
	if err != nil {
		t.Fatal(err)
	}
	combined := filterpattern.MustParse(got)
	set := NewSet(two)
	for _, rec := range []string{
		`{"errorCode":"AccessDenied","eventName":"GetObject"}`,
		`{"userIdentity":{"type":"Root"},"eventName":"ConsoleLogin","eventType":"AwsConsoleSignIn"}`,
		`{"userIdentity":{"type":"Root","invokedBy":"support.amazonaws.com"},"eventName":"x"}`,
		`{"errorCode":"ThrottlingException"}`,
	} {
		if want := len(set.Match([]byte(rec))) > 0; combined.Match([]byte(rec)) != want {
			t.Errorf("disjunction disagrees with the presets on %s", rec)
		}
	}

	_, err = FilterPattern(All())
	if !errors.Is(err, ErrPatternTooLong) || !strings.Contains(err.Error(), "broader") {
		t.Fatalf("all presets: error = %v, want ErrPatternTooLong suggesting a broader pattern", err)
	}
	if _, err := FilterPattern(nil); err == nil {
		t.Error("no presets must be an error")
	}
}

func TestEnrich(t *testing.T) {
	set := NewSet(All())
	rootDenied := []byte(`{"eventSource":"kms.amazonaws.com","eventName":"ScheduleKeyDeletion","errorCode":"AccessDenied","sourceIPAddress":"203.0.113.7","userIdentity":{"type":"Root","accountId":"111122223333"},"eventType":"AwsApiCall"}`)
	a := &activity.Activity{Severity: activity.Low, Detections: []activity.Detection{{ID: DefaultID, Title: "Unauthorized API calls"}}}
	enrich(set, a, rootDenied)
	wantIDs := []string{DefaultID, "unauthorized-api-calls-tuned", "root-account-usage", "kms-key-disabled-or-deleted"}
	var gotIDs []string
	for _, d := range a.Detections {
		gotIDs = append(gotIDs, d.ID)
	}
	if !slices.Equal(gotIDs, wantIDs) {
		t.Errorf("detections = %v, want %v (no duplicates, set order)", gotIDs, wantIDs)
	}
	if a.Severity != activity.Critical {
		t.Errorf("severity = %s, want critical (root usage)", a.Severity)
	}

	quiet := &activity.Activity{Severity: activity.Info, Time: time.Unix(0, 0)}
	enrich(set, quiet, []byte(`{"eventSource":"s3.amazonaws.com","eventName":"GetObject"}`))
	if quiet.Severity != activity.Info || quiet.Detections != nil {
		t.Errorf("a record matching nothing must leave the activity alone: %+v", quiet)
	}

	high := &activity.Activity{Severity: activity.Critical}
	enrich(set, high, []byte(`{"errorCode":"AccessDenied"}`))
	if high.Severity != activity.Critical {
		t.Errorf("Enrich lowered the severity to %s", high.Severity)
	}
	enrich(set, high, []byte(`not json`))
	if len(high.Detections) != 1 || high.Detections[0].ID != DefaultID {
		t.Errorf("detections = %v", high.Detections)
	}
}

func ids(ps []*Preset) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.ID
	}
	return out
}

func TestParseList(t *testing.T) {
	got, err := ParseList(" unauthorized-api-calls, ,root-account-usage,unauthorized-api-calls ")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != DefaultID || got[1].ID != "root-account-usage" {
		t.Fatalf("ParseList = %v", got)
	}
	if got, err := ParseList(""); err != nil || len(got) != 0 {
		t.Fatalf("ParseList(\"\") = %v, %v; want none", got, err)
	}
	if _, err := ParseList("unauthorized-api-calls,nope"); !errors.Is(err, ErrUnknownPreset) || !strings.Contains(err.Error(), `"nope"`) {
		t.Fatalf("ParseList(nope) = %v", err)
	}
}

// TestThresholdPresetLabelsAtInfo: one record of a threshold preset is
// normal, so its label does not raise the activity; only the threshold does.
func TestThresholdPresetLabelsAtInfo(t *testing.T) {
	plain := Preset{ID: "p", Severity: activity.High}
	thr := Preset{ID: "t", Severity: activity.High, Threshold: &Threshold{Count: 10, Window: 5 * time.Minute}}
	if got := plain.Detection().Severity; got != activity.High {
		t.Errorf("plain preset labels at %s, want high", got)
	}
	if got := thr.Detection().Severity; got != activity.Info {
		t.Errorf("threshold preset labels at %s, want info", got)
	}
}

// parse is the source's parse of a record: nil when it is not JSON.
func parse(raw []byte) *fastjson.Value {
	v, err := fastjson.ParseBytes(raw)
	if err != nil {
		return nil
	}
	return v
}

// enrich is the source's call of the Enricher, with the record parsed.
func enrich(set *Set, a *activity.Activity, raw []byte) { set.Enrich(a, raw, parse(raw)) }
