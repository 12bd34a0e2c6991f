package detections

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/activity-aware/ids/detections/filterpattern"
	"github.com/activity-aware/ids/internal/eventpattern"
)

// TestEventBridgePatterns translates every preset and checks the
// EventBridge pattern selects exactly what the filter pattern does on the
// preset's fixtures, delivered as EventBridge delivers CloudTrail records,
// with the local EventBridge matcher (internal/eventpattern, which follows
// aws/event-ruler).
func TestEventBridgePatterns(t *testing.T) {
	translated, verified := 0, 0
	for _, p := range All() {
		eb, err := p.EventBridgePattern()
		if err != nil {
			if !errors.Is(err, filterpattern.ErrNoEventBridge) {
				t.Errorf("%s: %v", p.ID, err)
			}
			t.Logf("%-36s no EventBridge equivalent: %v", p.ID, err)
			continue
		}
		translated++
		var top struct {
			Or []json.RawMessage `json:"$or"`
		}
		alts := []json.RawMessage{json.RawMessage(eb)}
		if json.Unmarshal([]byte(eb), &top) == nil && len(top.Or) > 0 {
			alts = top.Or
		}
		var compiled []*eventpattern.Pattern
		for _, a := range alts {
			c, err := eventpattern.Compile(a)
			if err != nil {
				t.Fatalf("%s: EventBridge would refuse %s: %v", p.ID, a, err)
			}
			compiled = append(compiled, c)
		}
		verified++
		f := loadFixture(t, p.ID)
		for _, c := range append(f.Match, f.NoMatch...) {
			event := []byte(`{"source":"aws.cloudtrail","detail-type":"AWS API Call via CloudTrail","detail":` + string(c.Record) + `}`)
			got := false
			for _, cp := range compiled {
				m, err := cp.Match(event)
				if err != nil {
					t.Fatal(err)
				}
				got = got || m
			}
			if want := p.Compiled().Match(c.Record); got != want {
				t.Errorf("%s: EventBridge %v, filter pattern %v for %s\n%s", p.ID, got, want, c.From, eb)
			}
		}
	}
	t.Logf("%d of %d presets translate to EventBridge patterns, %d verified on their fixtures", translated, len(All()), verified)
	if translated < len(All())*3/4 {
		t.Errorf("only %d presets translate", translated)
	}
	if p, _ := Lookup("lambda-function-made-public"); len(p) == 1 {
		if _, err := p[0].EventBridgePattern(); err == nil || !strings.Contains(err.Error(), "regular expression") {
			t.Errorf("a regex preset must not translate: %v", err)
		}
	}
}
