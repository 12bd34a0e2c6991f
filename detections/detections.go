// Package detections holds the detection presets: named CloudWatch Logs filter
// patterns for the CloudTrail activities a team must see (the CIS AWS
// Foundations Benchmark's CloudWatch alarms with their exact patterns, the
// original system's denial pattern, and self-protection of this system's own
// resources), and a Set that labels activities with the presets their records
// match.
package detections

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/valyala/fastjson"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/detections/filterpattern"
)

// DefaultID is the preset the system evaluates when none is configured: the
// original system's denial pattern.
const DefaultID = "unauthorized-api-calls"

// The packs: named groups of presets, selectable wherever preset ids are.
const (
	// PackCIS is the CIS AWS Foundations Benchmark's CloudWatch alarms and
	// the denial presets.
	PackCIS = "cis"
	// PackThreats is what attackers do: one preset per technique or family.
	PackThreats = "threats"
	// PackSelfProtection watches this system's own resources.
	PackSelfProtection = "self-protection"
	// PackAll is every preset.
	PackAll = "all"
)

// Packs returns the pack names, in the order All lists their presets.
func Packs() []string { return []string{PackCIS, PackSelfProtection, PackThreats, PackAll} }

// Sentinel errors, for errors.Is.
var (
	// ErrUnknownPreset reports an id that names no preset.
	ErrUnknownPreset = errors.New("detections: unknown preset")
	// ErrPatternTooLong reports presets whose disjunction exceeds the
	// CloudWatch Logs pattern limit.
	ErrPatternTooLong = errors.New("detections: subscription filter pattern too long")
	// ErrNotCombinable reports presets whose patterns cannot be joined into one
	// (only JSON patterns can).
	ErrNotCombinable = errors.New("detections: patterns cannot be combined")
)

// Preset is one detection: a filter pattern with what a reader needs to trust
// and act on it.
type Preset struct {
	// ID is stable and kebab-case, e.g. "root-account-usage".
	ID    string
	Title string
	// Severity is what a matching activity is raised to.
	Severity  activity.Severity
	Rationale string
	// References name the sources of the pattern, e.g. a CIS control, an
	// AWS API reference page, a Panther rule (RuleID and file) or a Sigma
	// rule (file name).
	References []string
	// Pack is the pack the preset belongs to: PackCIS, PackThreats or
	// PackSelfProtection.
	Pack string
	// Tactic and Technique place the preset in MITRE ATT&CK, e.g.
	// "Defense Evasion" and "T1562.008 Impair Defenses: Disable or Modify
	// Cloud Logs".
	Tactic, Technique string
	// Stratus are the Stratus Red Team technique ids whose detonations the
	// preset detects.
	Stratus []string
	// SeverityReason says why the preset has its severity.
	SeverityReason string
	// BenignCauses are the legitimate activities that match, and how to
	// tune them out (principal exclusions, not pattern edits).
	BenignCauses string
	// Notes say where the preset differs in intent from a rule it cites.
	Notes string
	// Excluded are the principals Tune excluded from the preset (their
	// records no longer match), nil for an untuned preset.
	Excluded []string
	// Pattern is the CloudWatch Logs filter pattern, verbatim.
	Pattern string
	// Threshold, when set, makes the preset a threshold detection: one
	// matching record is normal, so it is labelled with the preset at info
	// severity and not raised; Threshold.Count matching activities by one
	// principal within Threshold.Window make a derived activity of the
	// preset's Severity (package correlation evaluates it).
	Threshold *Threshold

	compiled *filterpattern.Pattern
}

// Threshold is how many matching activities of one principal, within how
// long, make a threshold detection fire.
type Threshold struct {
	Count  int
	Window time.Duration
}

// Compiled returns the parsed pattern.
func (p *Preset) Compiled() *filterpattern.Pattern { return p.compiled }

// Detection is the preset as an activity carries it. A threshold preset
// labels a single record at info severity: only the threshold raises.
func (p *Preset) Detection() activity.Detection {
	return activity.Detection{ID: p.ID, Title: p.Title, Severity: p.RecordSeverity()}
}

// RecordSeverity is the severity one matching record is raised to: the
// preset's Severity, or info for a threshold preset.
func (p *Preset) RecordSeverity() activity.Severity {
	if p.Threshold != nil {
		return activity.Info
	}
	return p.Severity
}

// All returns every preset, in a stable order: the denial presets, the CIS
// alarms in benchmark order, then self-protection. The self-protection
// presets recognize this system's resources by DefaultNaming; use AllFor for
// a deployment named otherwise.
func All() []*Preset { return slices.Clone(defaultPresets) }

var defaultPresets = mustBuild(DefaultNaming)

// AllFor returns every preset, with the self-protection presets matching the
// resources of a deployment named as n says.
func AllFor(n Naming) ([]*Preset, error) {
	if err := n.validate(); err != nil {
		return nil, err
	}
	return build(n)
}

// Lookup returns the presets with the given ids or pack names (PackCIS,
// PackThreats, PackSelfProtection, PackAll), in the order given, each
// preset once. An unknown id is an error that names it and lists the known
// packs and ids.
func Lookup(ids ...string) ([]*Preset, error) { return lookupIn(defaultPresets, ids) }

// LookupFor is Lookup among the presets of AllFor(n); for the zero Naming it
// is Lookup.
func LookupFor(n Naming, ids ...string) ([]*Preset, error) {
	if n == (Naming{}) {
		return Lookup(ids...)
	}
	all, err := AllFor(n)
	if err != nil {
		return nil, err
	}
	return lookupIn(all, ids)
}

func lookupIn(all []*Preset, ids []string) ([]*Preset, error) {
	out := make([]*Preset, 0, len(ids))
	add := func(p *Preset) {
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	for _, id := range ids {
		id = strings.TrimSpace(id)
		if slices.Contains(Packs(), id) {
			for _, p := range all {
				if id == PackAll || p.Pack == id {
					add(p)
				}
			}
			continue
		}
		i := slices.IndexFunc(all, func(p *Preset) bool { return p.ID == id })
		if i < 0 {
			known := make([]string, len(all))
			for j, p := range all {
				known[j] = p.ID
			}
			return nil, fmt.Errorf("%w %q (packs: %s; presets: %s)", ErrUnknownPreset, id,
				strings.Join(Packs(), ", "), strings.Join(known, ", "))
		}
		add(all[i])
	}
	return out, nil
}

// FilterPattern returns the subscription filter pattern that delivers every
// record any of the presets matches: a single preset's pattern verbatim, or
// the disjunction of several JSON patterns. It fails when the result exceeds
// CloudWatch Logs' 1024 characters, suggesting a broader pattern.
func FilterPattern(presets []*Preset) (string, error) {
	switch len(presets) {
	case 0:
		return "", fmt.Errorf("detections: no presets to derive a filter pattern from")
	case 1:
		return presets[0].Pattern, nil
	}
	parts := make([]string, len(presets))
	ids := make([]string, len(presets))
	for i, p := range presets {
		if !p.compiled.IsJSON() {
			return "", fmt.Errorf("%w: preset %q is not a JSON pattern", ErrNotCombinable, p.ID)
		}
		norm := p.compiled.String()
		parts[i] = "(" + strings.TrimSuffix(strings.TrimPrefix(norm, "{ "), " }") + ")"
		ids[i] = p.ID
	}
	combined := "{ " + strings.Join(parts, " || ") + " }"
	if n := utf8.RuneCountInString(combined); n > filterpattern.MaxLength {
		return "", fmt.Errorf("%w: the disjunction of %s is %d characters, CloudWatch Logs allows %d; "+
			"use a broader subscription filter pattern (for example \"\" to deliver every record, or %s) "+
			"and let the presets label what it delivers", ErrPatternTooLong, strings.Join(ids, ", "), n, filterpattern.MaxLength,
			`{ $.eventSource = * }`)
	}
	if _, err := filterpattern.Parse(combined); err != nil {
		return "", fmt.Errorf("detections: combined pattern: %w", err)
	}
	return combined, nil
}

// Set evaluates presets on CloudTrail records: raw ones, parsed once for all
// presets (Match), or ones the caller has parsed (MatchParsed, Enrich). It is
// safe for concurrent use.
type Set struct {
	presets []*Preset
	events  filterpattern.EventPool
}

// NewSet returns a Set evaluating the presets, in the order given.
func NewSet(presets []*Preset) *Set { return &Set{presets: slices.Clone(presets)} }

// Presets returns the presets the set evaluates.
func (s *Set) Presets() []*Preset { return slices.Clone(s.presets) }

// Match returns the presets whose pattern matches the raw record, in the
// set's order, or nil.
func (s *Set) Match(raw []byte) []*Preset {
	e := s.events.Get(raw)
	defer s.events.Put(e)
	var out []*Preset
	for _, p := range s.presets {
		if p.compiled.MatchEvent(e) {
			out = append(out, p)
		}
	}
	return out
}

// MatchParsed is Match on a record its caller has parsed: rec is raw's
// parse (nil when raw is not a JSON object), which the JSON patterns read.
func (s *Set) MatchParsed(raw []byte, rec *fastjson.Value) []*Preset {
	var out []*Preset
	for _, p := range s.presets {
		if p.compiled.MatchParsed(raw, rec) {
			out = append(out, p)
		}
	}
	return out
}

// Enrich labels the activity with the presets its record matches (id,
// title, severity, in the set's order) and raises its severity to the highest
// of them; a record that matches none leaves the activity as it is. raw is
// the record's text, rec its parse (nil when it is not a JSON object); it is
// the CloudTrail source's Enricher, which parses each record once for every
// reader.
func (s *Set) Enrich(a *activity.Activity, raw []byte, rec *fastjson.Value) {
	for _, p := range s.presets {
		if !p.compiled.MatchParsed(raw, rec) {
			continue
		}
		if !slices.ContainsFunc(a.Detections, func(d activity.Detection) bool { return d.ID == p.ID }) {
			a.Detections = append(a.Detections, p.Detection())
		}
		a.Severity = a.Severity.Max(p.RecordSeverity())
	}
}

// ParseList looks up the presets of a comma-separated list of ids, as the
// DETECTIONS environment variable and the command line give them. Blank items
// are skipped; an empty list is no presets.
func ParseList(list string) ([]*Preset, error) {
	var ids []string
	for _, id := range strings.Split(list, ",") {
		if id = strings.TrimSpace(id); id != "" {
			ids = append(ids, id)
		}
	}
	return Lookup(ids...)
}

// NewPreset checks a preset defined outside this package (a converted Sigma
// rule, a team's own) and compiles its pattern: the id, title, a valid
// severity and a JSON pattern within CloudWatch Logs' limit are required.
func NewPreset(p Preset) (*Preset, error) {
	switch {
	case strings.TrimSpace(p.ID) == "" || strings.TrimSpace(p.Title) == "":
		return nil, fmt.Errorf("detections: a preset needs an id and a title")
	case !p.Severity.Valid():
		return nil, fmt.Errorf("detections: preset %s: invalid severity %q", p.ID, p.Severity)
	case utf8.RuneCountInString(p.Pattern) > filterpattern.MaxLength:
		return nil, fmt.Errorf("%w: preset %s is %d characters, CloudWatch Logs allows %d", ErrPatternTooLong, p.ID,
			utf8.RuneCountInString(p.Pattern), filterpattern.MaxLength)
	}
	c, err := filterpattern.Parse(p.Pattern)
	if err != nil {
		return nil, fmt.Errorf("detections: preset %s: %w", p.ID, err)
	}
	if !c.IsJSON() {
		return nil, fmt.Errorf("%w: preset %s is not a JSON pattern", ErrNotCombinable, p.ID)
	}
	p.compiled = c
	return &p, nil
}
