package detections

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/activity-aware/ids/detections/filterpattern"
)

// BroadPattern is the subscription filter pattern the stack uses when the
// enabled presets' disjunction does not fit CloudWatch Logs' 1,024
// characters: every CloudTrail record (each has an eventSource) goes to the
// function, which evaluates every enabled preset and publishes only what one
// of them labels (see SubscriptionPattern). BenchmarkPrefilter measures what
// that costs per million records.
const BroadPattern = `{ $.eventSource = * }`

// SubscriptionPattern returns the subscription filter pattern that delivers
// every record the presets match: their disjunction when it fits 1,024
// characters (FilterPattern), else BroadPattern with broad true. With a
// broad pattern the function must drop the records no preset labels.
func SubscriptionPattern(presets []*Preset) (pattern string, broad bool, err error) {
	pattern, err = FilterPattern(presets)
	switch {
	case err == nil:
		return pattern, false, nil
	case len(presets) > 0 && (errors.Is(err, ErrPatternTooLong) || errors.Is(err, ErrNotCombinable)):
		return BroadPattern, true, nil
	}
	return "", false, err
}

// Exclusions tune presets without editing their patterns: preset id →
// principal ARNs (userIdentity.arn, * wildcards allowed, e.g.
// "arn:aws:sts::*:assumed-role/deploy-pipeline/*") whose records the preset
// no longer labels. It is how a deployment pipeline stops raising
// lambda-code-overwritten while everyone else still does.
type Exclusions map[string][]string

// ParseExclusions reads exclusions as the DETECTION_EXCLUSIONS environment
// variable carries them: a JSON object of preset id to a list of ARNs. Empty
// text is no exclusions.
func ParseExclusions(text string) (Exclusions, error) {
	if strings.TrimSpace(text) == "" {
		return nil, nil
	}
	var ex Exclusions
	if err := json.Unmarshal([]byte(text), &ex); err != nil {
		return nil, fmt.Errorf("detections: exclusions: want a JSON object of preset id to a list of principal ARNs: %w", err)
	}
	return ex, nil
}

// String is the exclusions as ParseExclusions reads them, keys sorted.
func (ex Exclusions) String() string {
	if len(ex) == 0 {
		return ""
	}
	b, _ := json.Marshal(map[string][]string(ex)) // maps marshal with sorted keys
	return string(b)
}

// Tune returns the presets with the exclusions applied (see Excluding), in
// the same order; presets without exclusions are returned as they are. An
// exclusion naming a preset not among presets is an error, so a typo does
// not silently leave the noise in.
func Tune(presets []*Preset, ex Exclusions) ([]*Preset, error) {
	ids := make([]string, 0, len(ex))
	for id := range ex {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		if !slices.ContainsFunc(presets, func(p *Preset) bool { return p.ID == id }) {
			return nil, fmt.Errorf("%w %q in exclusions (it is not among the enabled presets)", ErrUnknownPreset, id)
		}
	}
	out := make([]*Preset, len(presets))
	for i, p := range presets {
		out[i] = p
		if len(ex[p.ID]) == 0 {
			continue
		}
		t, err := p.Excluding(ex[p.ID]...)
		if err != nil {
			return nil, err
		}
		out[i] = t
	}
	return out, nil
}

// Excluding returns a copy of the preset that does not match records made by
// the given principals: its pattern gains the condition that
// userIdentity.arn is absent or none of them (CloudWatch Logs' != takes *
// wildcards). The copy's pattern is a valid filter pattern of its own, so a
// tuned preset deploys, tests and combines as any other.
func (p *Preset) Excluding(principals ...string) (*Preset, error) {
	if len(principals) == 0 {
		return p, nil
	}
	conds := make([]string, 0, len(principals))
	for _, arn := range principals {
		arn = strings.TrimSpace(arn)
		if arn == "" || strings.Trim(arn, "*") == "" || strings.ContainsAny(arn, "\"\\") || !utf8.ValidString(arn) {
			return nil, fmt.Errorf("detections: preset %s: exclusion %q: want a principal ARN (wildcards allowed, not only wildcards; no quotes or backslashes)", p.ID, arn)
		}
		conds = append(conds, fmt.Sprintf(`($.userIdentity.arn != "%s")`, arn))
	}
	inner := strings.TrimSuffix(strings.TrimPrefix(p.compiled.String(), "{ "), " }")
	pattern := fmt.Sprintf(`{ (%s) && (($.userIdentity.arn NOT EXISTS) || (%s)) }`, inner, strings.Join(conds, " && "))
	if n := utf8.RuneCountInString(pattern); n > filterpattern.MaxLength {
		return nil, fmt.Errorf("detections: preset %s with %d exclusions is %d characters, CloudWatch Logs allows %d: exclude a role by a wildcard instead of listing its sessions",
			p.ID, len(principals), n, filterpattern.MaxLength)
	}
	c, err := filterpattern.Parse(pattern)
	if err != nil {
		return nil, fmt.Errorf("detections: preset %s with exclusions: %w", p.ID, err)
	}
	t := *p
	t.Pattern, t.compiled = pattern, c
	t.Excluded = slices.Clone(principals)
	return &t, nil
}
