package detections

import (
	"errors"
	"strings"
	"testing"

	"github.com/activity-aware/ids/detections/filterpattern"
)

func TestExclusions(t *testing.T) {
	ex, err := ParseExclusions(`{"lambda-code-overwritten":["arn:aws:sts::*:assumed-role/deploy-pipeline/*"]}`)
	if err != nil {
		t.Fatal(err)
	}
	presets, err := Lookup("lambda-code-overwritten", "ssm-send-command")
	if err != nil {
		t.Fatal(err)
	}
	tuned, err := Tune(presets, ex)
	if err != nil {
		t.Fatal(err)
	}
	if tuned[1] != presets[1] || tuned[0] == presets[0] || len(tuned[0].Excluded) != 1 {
		t.Fatalf("Tune must copy only the excluded preset")
	}
	pipeline := `{"eventSource":"lambda.amazonaws.com","eventName":"UpdateFunctionCode20150331v2","userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/deploy-pipeline/build-42"}}`
	person := `{"eventSource":"lambda.amazonaws.com","eventName":"UpdateFunctionCode20150331v2","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/mallory"}}`
	noArn := `{"eventSource":"lambda.amazonaws.com","eventName":"UpdateFunctionCode20150331v2","userIdentity":{"type":"AWSService"}}`
	for _, tc := range []struct {
		rec        string
		orig, want bool
	}{{pipeline, true, false}, {person, true, true}, {noArn, true, true}} {
		if got := presets[0].Compiled().Match([]byte(tc.rec)); got != tc.orig {
			t.Errorf("untuned Match = %v for %s", got, tc.rec)
		}
		if got := tuned[0].Compiled().Match([]byte(tc.rec)); got != tc.want {
			t.Errorf("tuned Match = %v, want %v for %s", got, tc.want, tc.rec)
		}
	}
	// The untuned fixtures still hold for the tuned preset where the
	// principal is not excluded.
	for _, c := range loadFixture(t, "lambda-code-overwritten").Match {
		if !tuned[0].Compiled().Match(c.Record) {
			t.Errorf("tuned preset lost %s", c.From)
		}
	}
	if got := ex.String(); got != `{"lambda-code-overwritten":["arn:aws:sts::*:assumed-role/deploy-pipeline/*"]}` {
		t.Errorf("String = %s", got)
	}

	if _, err := Tune(presets, Exclusions{"lambda-code-overwriten": {"arn:aws:iam::1:user/x"}}); !errors.Is(err, ErrUnknownPreset) {
		t.Errorf("a misspelt id: %v, want ErrUnknownPreset", err)
	}
	for _, bad := range []string{"", "*", `arn"x`, `a\b`} {
		if _, err := presets[0].Excluding(bad); err == nil {
			t.Errorf("Excluding(%q) must fail", bad)
		}
	}
	if _, err := presets[0].Excluding(strings.Split(strings.Repeat("arn:aws:iam::111122223333:user/someone-long,", 40), ",")[:40]...); err == nil || !strings.Contains(err.Error(), "1024") {
		t.Errorf("too many exclusions: %v, want the length limit", err)
	}
	if _, err := ParseExclusions(`["x"]`); err == nil {
		t.Error("a list is not exclusions")
	}
	if ex, err := ParseExclusions(" "); err != nil || ex != nil {
		t.Errorf("blank = %v, %v", ex, err)
	}
}

func TestSubscriptionPattern(t *testing.T) {
	few, _ := Lookup(DefaultID, "root-account-usage")
	p, broad, err := SubscriptionPattern(few)
	if err != nil || broad {
		t.Fatalf("two presets: %q, %v, %v; want their disjunction", p, broad, err)
	}
	p, broad, err = SubscriptionPattern(All())
	if err != nil || !broad || p != BroadPattern {
		t.Fatalf("every preset: %q, %v, %v; want the broad pattern", p, broad, err)
	}
	if _, _, err := SubscriptionPattern(nil); err == nil {
		t.Error("no presets must be an error")
	}
}

// TestBroadPatternKeepsEveryMatch: every record any preset's fixtures match
// passes the broad prefilter, so the function sees all it must label.
func TestBroadPatternKeepsEveryMatch(t *testing.T) {
	broad := mustParse(t, BroadPattern)
	for _, p := range All() {
		for _, c := range loadFixture(t, p.ID).Match {
			if !broad.Match(c.Record) {
				t.Errorf("%s: the broad prefilter drops %s", p.ID, c.From)
			}
		}
	}
}

func mustParse(t *testing.T, pattern string) interface{ Match([]byte) bool } {
	t.Helper()
	p, err := filterpattern.Parse(pattern)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
