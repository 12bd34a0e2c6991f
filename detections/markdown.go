package detections

import (
	"bytes"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/activity-aware/ids/detections/filterpattern"
)

// SigmaSummary is the outcome of converting a corpus of Sigma rules, as
// docs/DETECTIONS.md reports it.
type SigmaSummary struct {
	// Corpus names the rules, e.g. "SigmaHQ/sigma rules/cloud/aws/cloudtrail at 8eaafff1".
	Corpus    string         `json:"corpus"`
	Rules     int            `json:"rules"`
	Converted int            `json:"converted"`
	Refused   map[string]int `json:"refused"` // reason → rules
	// Command reproduces the summary.
	Command string `json:"command"`
}

// tacticOrder is MITRE ATT&CK's enterprise tactic order.
var tacticOrder = []string{"Initial Access", "Execution", "Persistence", "Privilege Escalation", "Defense Evasion",
	"Credential Access", "Discovery", "Lateral Movement", "Collection", "Exfiltration", "Impact"}

// Markdown renders the presets as docs/DETECTIONS.md: packs, the table by
// ATT&CK tactic and technique with Stratus Red Team ids and EventBridge
// translatability, the Sigma conversion count, and each preset's details.
func Markdown(presets []*Preset, sigma SigmaSummary) []byte {
	var b bytes.Buffer
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	cell := func(s string) string { return strings.ReplaceAll(strings.ReplaceAll(s, "|", `\|`), "\n", " ") }

	w("# Detections\n\n")
	w("Generated from the presets in `detections/` by `go test ./detections -run TestDetectionsDoc -update`; a test fails when this file is out of date.\n\n")
	count := map[string]int{}
	for _, p := range presets {
		count[p.Pack]++
	}
	w("%d presets in packs: ", len(presets))
	var packs []string
	for _, pack := range Packs() {
		if pack != PackAll {
			packs = append(packs, fmt.Sprintf("`%s` (%d)", pack, count[pack]))
		}
	}
	w("%s, and `all`. Select them by pack or id, mixed, in cdk.json's `detections` context, the construct's "+
		"`Detections` prop, the function's `DETECTIONS` and `aaids replay|detections --detections`. "+
		"`detectionExclusions` (construct prop `DetectionExclusions`) excludes principals from a preset without editing its pattern.\n\n",
		strings.Join(packs, ", "))
	w("A threshold preset labels each matching record at info; `Count` matching activities of one principal within `Window` " +
		"make the detection (package correlation). Severity is what a matching record (or the threshold) raises the activity to.\n\n")
	w("When the enabled presets' patterns joined by `||` exceed the subscription filter's 1,024 characters, the stack subscribes "+
		"with `%s` (every CloudTrail record), the function evaluates every enabled preset and publishes only what one labels "+
		"(`DETECTIONS_ONLY`, metric `RecordsFiltered`); its cost is measured by `go test ./sources/cloudtrail -run '^$' -bench Prefilter`.\n\n",
		BroadPattern)

	w("## By ATT&CK tactic and technique\n\n")
	w("| Tactic | Technique | Preset | Pack | Severity | Stratus Red Team | EventBridge |\n| --- | --- | --- | --- | --- | --- | --- |\n")
	sorted := slices.Clone(presets)
	tacticIndex := func(t string) int {
		if i := slices.Index(tacticOrder, t); i >= 0 {
			return i
		}
		return len(tacticOrder)
	}
	sort.SliceStable(sorted, func(i, j int) bool {
		a, b := sorted[i], sorted[j]
		if ta, tb := tacticIndex(a.Tactic), tacticIndex(b.Tactic); ta != tb {
			return ta < tb
		}
		return a.Technique < b.Technique
	})
	translated := 0
	for _, p := range sorted {
		sev := string(p.Severity)
		if t := p.Threshold; t != nil {
			sev += fmt.Sprintf(" (≥%d in %s per principal)", t.Count, t.Window)
		}
		eb := "yes"
		if _, err := p.EventBridgePattern(); err != nil {
			reason := err.Error()
			if _, after, ok := strings.Cut(reason, filterpattern.ErrNoEventBridge.Error()+": "); ok {
				reason = after
			}
			eb = "no: " + reason
		} else {
			translated++
		}
		stratus := make([]string, len(p.Stratus))
		for i, s := range p.Stratus {
			stratus[i] = "`" + s + "`"
		}
		w("| %s | %s | [`%s`](#%s) | %s | %s | %s | %s |\n", cell(p.Tactic), cell(p.Technique), p.ID, p.ID, p.Pack, sev,
			strings.Join(stratus, "<br>"), cell(eb))
	}
	w("\n%d of %d presets translate to EventBridge event patterns (`Preset.EventBridgePattern`); the others use an array "+
		"index or a regular expression, which EventBridge patterns cannot say.\n\n", translated, len(presets))

	w("## Stratus Red Team techniques\n\n")
	byTech := map[string][]string{}
	for _, p := range presets {
		for _, s := range p.Stratus {
			byTech[s] = append(byTech[s], p.ID)
		}
	}
	techs := make([]string, 0, len(byTech))
	for t := range byTech {
		techs = append(techs, t)
	}
	sort.Strings(techs)
	w("%d techniques have a preset that claims them (checked on the recorded detonations by `TestStratusCoverage`):\n\n", len(techs))
	w("| Technique | Presets |\n| --- | --- |\n")
	var thresholdOnly []string
	for _, t := range techs {
		w("| `%s` | %s |\n", t, strings.Join(byTech[t], ", "))
		only := true
		for _, id := range byTech[t] {
			if i := slices.IndexFunc(presets, func(p *Preset) bool { return p.ID == id }); i >= 0 && presets[i].Threshold == nil {
				only = false
			}
		}
		if only {
			thresholdOnly = append(thresholdOnly, "`"+t+"`")
		}
	}
	if len(thresholdOnly) > 0 {
		w("\nSeen only through a threshold: %s. A single call there is what every application does at start-up "+
			"(read its secret, decrypt its parameters); only the number of calls by one principal in a short window tells "+
			"harvesting apart, so one record cannot show the technique.\n", strings.Join(thresholdOnly, ", "))
	}

	w("\n## Sigma rules\n\n")
	reasons := make([]string, 0, len(sigma.Refused))
	refused := 0
	for r, n := range sigma.Refused {
		reasons = append(reasons, r)
		refused += n
	}
	sort.Strings(reasons)
	w("`aaids detections import-sigma RULE.yml...` converts Sigma rules for `aws`/`cloudtrail` into presets. "+
		"Of %s: **%d of %d converted**, %d refused", sigma.Corpus, sigma.Converted, sigma.Rules, refused)
	for _, r := range reasons {
		w("; %s: %d", r, sigma.Refused[r])
	}
	w(". Reproduce: `%s`. The rules are under the Detection Rule License 1.1 and are not part of this repository.\n\n", sigma.Command)

	w("## Presets\n\n")
	for _, p := range presets {
		w("### %s\n\n", p.ID)
		w("**%s** — %s, pack `%s`, %s %s.\n\n", p.Title, p.Severity, p.Pack, p.Tactic, p.Technique)
		if p.SeverityReason != "" {
			w("Severity: %s.\n\n", p.SeverityReason)
		}
		w("%s\n\n", p.Rationale)
		if t := p.Threshold; t != nil {
			w("Threshold: %d matching activities of one principal within %s.\n\n", t.Count, t.Window)
		}
		if p.BenignCauses != "" {
			w("Benign causes and tuning: %s\n\n", p.BenignCauses)
		}
		if p.Notes != "" {
			w("Notes: %s\n\n", p.Notes)
		}
		w("```\n%s\n```\n\n", p.Pattern)
		w("References: %s.\n\n", strings.Join(p.References, "; "))
	}
	return b.Bytes()
}
