package detections

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// EventBridgePattern returns the Amazon EventBridge event pattern that
// selects, among CloudTrail's "AWS API Call via CloudTrail" events (the
// record under "detail"), the records the preset matches: one pattern, with
// "$or" when the preset needs alternatives. It wraps
// filterpattern.ErrNoEventBridge, saying why, for a preset that has no
// equivalent (a regular expression, an array index, two tests of one
// member). The EventBridge source uses it to build its rules.
func (p *Preset) EventBridgePattern() (string, error) {
	alts, err := p.compiled.EventBridge("detail")
	if err != nil {
		return "", fmt.Errorf("detections: preset %s: %w", p.ID, err)
	}
	var v any = alts[0]
	if len(alts) > 1 {
		v = map[string]any{"$or": alts}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", fmt.Errorf("detections: preset %s: %w", p.ID, err)
	}
	return string(bytes.TrimSpace(b.Bytes())), nil
}
