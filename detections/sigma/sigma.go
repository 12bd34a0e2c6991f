// Package sigma converts Sigma rules (https://sigmahq.io) for the aws /
// cloudtrail log source into detection presets, where the rule can be said in
// the CloudWatch Logs filter-pattern language: field equality with Sigma's *
// wildcard, the contains, startswith, endswith, all, exists and re
// modifiers, null, lists of values and of maps, and conditions of and, or,
// not, parentheses, "1 of" and "all of" over selections. Everything else is
// refused with a reason (Error.Reason): keyword searches, aggregations and
// correlations, field references, the ? wildcard, unsupported modifiers,
// patterns over 1,024 characters.
//
// Sigma compares strings case-insensitively; filter patterns compare them
// case-sensitively. CloudTrail writes event names, sources and codes in one
// canonical case, so rules match as intended on them; each converted preset
// says so in its notes.
//
// Sigma rules are data under their own licence (SigmaHQ's are under the
// Detection Rule License 1.1): convert them at the user's request, and keep
// their licence with any copy.
package sigma

import (
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/detections"
)

// Reasons a rule is refused, stable for counting.
const (
	ReasonMalformed   = "malformed rule"
	ReasonLogSource   = "not an aws/cloudtrail rule"
	ReasonAggregation = "aggregation, correlation or timeframe"
	ReasonKeywords    = "keyword (full-text) search"
	ReasonModifier    = "unsupported value modifier"
	ReasonFieldRef    = "field reference"
	ReasonWildcard    = "? wildcard"
	ReasonValue       = "unsupported value"
	ReasonRegex       = "regular expression outside the filter-pattern subset"
	ReasonTooLong     = "pattern over 1,024 characters"
	ReasonNonScalar   = "text search in an object or array member"
)

// ErrRefused is wrapped by every *Error, for errors.Is.
var ErrRefused = errors.New("sigma: rule refused")

// Error is a rule the converter refuses, with the reason and what in the rule
// caused it.
type Error struct {
	Rule   string // the rule's file name or title
	Reason string // one of the Reason constants
	Detail string
}

func (e *Error) Error() string {
	if e.Detail == "" {
		return fmt.Sprintf("sigma: %s: %s", e.Rule, e.Reason)
	}
	return fmt.Sprintf("sigma: %s: %s: %s", e.Rule, e.Reason, e.Detail)
}

// Is reports ErrRefused.
func (e *Error) Is(target error) bool { return target == ErrRefused }

type rule struct {
	Title          string   `yaml:"title"`
	ID             string   `yaml:"id"`
	Status         string   `yaml:"status"`
	Description    string   `yaml:"description"`
	References     []string `yaml:"references"`
	Tags           []string `yaml:"tags"`
	Level          string   `yaml:"level"`
	FalsePositives []string `yaml:"falsepositives"`
	LogSource      struct {
		Product  string `yaml:"product"`
		Service  string `yaml:"service"`
		Category string `yaml:"category"`
	} `yaml:"logsource"`
	Detection yaml.Node `yaml:"detection"`
}

// Convert converts one Sigma rule (YAML) into a preset. name is the rule's
// file name; the preset id is "sigma-" and its base name. A rule that cannot
// be expressed is an *Error.
func Convert(name string, data []byte) (*detections.Preset, error) {
	stem := strings.TrimSuffix(strings.TrimSuffix(filepath.Base(name), ".yml"), ".yaml")
	refuse := func(reason, format string, args ...any) error {
		return &Error{Rule: stem, Reason: reason, Detail: fmt.Sprintf(format, args...)}
	}
	var r rule
	if err := yaml.Unmarshal(data, &r); err != nil {
		return nil, refuse(ReasonMalformed, "%v", err)
	}
	if r.Title == "" || r.Detection.Kind != yaml.MappingNode {
		return nil, refuse(ReasonMalformed, "a rule needs a title and a detection map")
	}
	if !strings.EqualFold(r.LogSource.Product, "aws") || !strings.EqualFold(r.LogSource.Service, "cloudtrail") {
		return nil, refuse(ReasonLogSource, "logsource product %q service %q", r.LogSource.Product, r.LogSource.Service)
	}
	p, err := r.convert(stem, true)
	var re *Error
	if errors.As(err, &re) && re.Reason == ReasonTooLong {
		// The case variants made it too long: exact case only.
		p, err = r.convert(stem, false)
	}
	return p, err
}

// convert builds the preset; variants adds the common case variants of
// values (see converter.variants).
func (r *rule) convert(stem string, variants bool) (*detections.Preset, error) {
	refuse := func(reason, format string, args ...any) error {
		return &Error{Rule: stem, Reason: reason, Detail: fmt.Sprintf(format, args...)}
	}
	c := converter{rule: stem, searches: map[string]expr{}, variants: variants}
	var condition []string
	for i := 0; i+1 < len(r.Detection.Content); i += 2 {
		key, val := r.Detection.Content[i].Value, r.Detection.Content[i+1]
		switch key {
		case "condition":
			switch val.Kind {
			case yaml.ScalarNode:
				condition = []string{val.Value}
			case yaml.SequenceNode:
				for _, n := range val.Content {
					condition = append(condition, n.Value)
				}
			}
			continue
		case "timeframe":
			return nil, refuse(ReasonAggregation, "timeframe %s", val.Value)
		}
		e, err := c.search(val)
		if err != nil {
			return nil, err
		}
		c.searches[key] = e
		c.order = append(c.order, key)
	}
	if len(condition) == 0 {
		return nil, refuse(ReasonMalformed, "no condition")
	}
	var alts or
	for _, cond := range condition {
		e, err := c.condition(cond)
		if err != nil {
			return nil, err
		}
		alts = append(alts, e)
	}
	var top expr = alts
	if len(alts) == 1 {
		top = alts[0]
	}
	body, err := render(top, false)
	if err != nil {
		var re *Error
		if errors.As(err, &re) {
			re.Rule = stem
		}
		return nil, err
	}
	p := detections.Preset{
		ID:        "sigma-" + strings.ReplaceAll(strings.ToLower(stem), "_", "-"),
		Title:     r.Title,
		Severity:  severity(r.Level),
		Rationale: strings.Join(strings.Fields(r.Description), " "),
		References: append(append([]string(nil), r.References...),
			fmt.Sprintf("Sigma %s (%s)", stem, r.ID)),
		Pack:         "sigma",
		BenignCauses: strings.Join(r.FalsePositives, "; "),
		Notes: fmt.Sprintf("Converted from Sigma rule %s (status %s), whose licence applies. Sigma compares strings "+
			"case-insensitively, the filter pattern case-sensitively: %s", r.ID, r.Status, caseNote[variants]),
		Pattern: "{ " + body + " }",
	}
	p.Tactic, p.Technique = attack(r.Tags)
	if p.Rationale == "" {
		p.Rationale = r.Title
	}
	preset, err := detections.NewPreset(p)
	switch {
	case errors.Is(err, detections.ErrPatternTooLong):
		return nil, refuse(ReasonTooLong, "%d characters", len([]rune(p.Pattern)))
	case err != nil && strings.Contains(err.Error(), "regular expression"):
		return nil, refuse(ReasonRegex, "%v", err)
	case err != nil:
		return nil, refuse(ReasonValue, "%v", err)
	}
	return preset, nil
}

// expr is a condition tree: and, or, not, or a leaf test on one field.
type expr any

type (
	and  []expr
	or   []expr
	not  struct{ x expr }
	leaf struct {
		field string
		kind  leafKind
		value string // the filter-pattern value: "quoted", %regex% or a number
	}
)

type leafKind uint8

const (
	leafEq     leafKind = iota // field = value
	leafNull                   // absent or null
	leafExists                 // present (a scalar)
	leafTrue
	leafFalse
)

type converter struct {
	rule     string
	searches map[string]expr
	order    []string
	// variants: a value of a field other than the canonical ones also
	// matches in lower case, upper case and capitalized, the spellings
	// CloudTrail values come in ("No", "NO", "no").
	variants bool
}

var caseNote = map[bool]string{
	true: "values of fields other than eventSource, eventName and errorCode also match in lower case, " +
		"upper case and capitalized; other mixed-case spellings do not match.",
	false: "values match in the rule's exact case only (the case variants would exceed 1,024 characters).",
}

// canonical are the fields CloudTrail writes in one case.
var canonical = map[string]bool{"eventSource": true, "eventName": true, "errorCode": true, "eventType": true}

// caseVariants returns the value as written, in lower case, upper case and
// capitalized, without duplicates.
func caseVariants(text string) []string {
	lower := strings.ToLower(text)
	capitalized := lower
	if i := strings.IndexFunc(lower, unicode.IsLetter); i >= 0 {
		r, n := utf8.DecodeRuneInString(lower[i:])
		capitalized = lower[:i] + string(unicode.ToUpper(r)) + lower[i+n:]
	}
	var out []string
	for _, v := range []string{text, lower, strings.ToUpper(text), capitalized} {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

func (c *converter) refuse(reason, format string, args ...any) error {
	return &Error{Rule: c.rule, Reason: reason, Detail: fmt.Sprintf(format, args...)}
}

// search converts one search identifier's value: a map (all its fields), a
// list of maps (any of them), or a list of keywords (refused).
func (c *converter) search(n *yaml.Node) (expr, error) {
	switch n.Kind {
	case yaml.MappingNode:
		return c.fields(n)
	case yaml.SequenceNode:
		var alts or
		for _, item := range n.Content {
			if item.Kind != yaml.MappingNode {
				return nil, c.refuse(ReasonKeywords, "a list of plain values searches the whole event")
			}
			e, err := c.fields(item)
			if err != nil {
				return nil, err
			}
			alts = append(alts, e)
		}
		return alts, nil
	}
	return nil, c.refuse(ReasonKeywords, "a plain value searches the whole event")
}

var fieldName = regexp.MustCompile(`^[A-Za-z0-9_@:-]+(\.[A-Za-z0-9_@:-]+)*$`)

// objects are CloudTrail members that hold an object, arrays those that hold
// an array. A filter pattern compares scalars only, so a test on an object
// or array member as text (which some Sigma backends allow, flattening the
// JSON) never matches, nor does a member reached through an array.
var (
	objects = map[string]bool{
		"requestParameters": true, "responseElements": true, "additionalEventData": true, "userIdentity": true,
		"userIdentity.sessionContext": true, "userIdentity.sessionContext.sessionIssuer": true,
		"userIdentity.sessionContext.attributes": true, "serviceEventDetails": true, "tlsDetails": true,
		"requestParameters.ipPermissions": true,
	}
	arrays = map[string]bool{"resources": true, "requestParameters.layers": true, "requestParameters.containerDefinitions": true}
)

// fieldValue matches a value that names a CloudTrail member, as a rule
// written before Sigma's fieldref modifier compares with another field.
var fieldValue = regexp.MustCompile(`^(requestParameters|responseElements|userIdentity|additionalEventData)\.[A-Za-z0-9_.]+$`)

// fields converts a map of field (with modifiers) to value(s): all must hold.
func (c *converter) fields(n *yaml.Node) (expr, error) {
	var all and
	for i := 0; i+1 < len(n.Content); i += 2 {
		parts := strings.Split(n.Content[i].Value, "|")
		field, mods := parts[0], parts[1:]
		if !fieldName.MatchString(field) {
			return nil, c.refuse(ReasonValue, "field name %q", field)
		}
		if objects[field] || arrays[field] {
			return nil, c.refuse(ReasonNonScalar, "%s is an object or array in CloudTrail records", field)
		}
		for f := field; strings.Contains(f, "."); {
			if f = f[:strings.LastIndexByte(f, '.')]; arrays[f] {
				return nil, c.refuse(ReasonNonScalar, "%s is reached through the array %s", field, f)
			}
		}
		var values []*yaml.Node
		if v := n.Content[i+1]; v.Kind == yaml.SequenceNode {
			values = v.Content
		} else {
			values = []*yaml.Node{v}
		}
		matchAll, mode := false, ""
		for _, m := range mods {
			switch m {
			case "contains", "startswith", "endswith", "re", "exists":
				if mode != "" {
					return nil, c.refuse(ReasonModifier, "%s with %s", m, mode)
				}
				mode = m
			case "all":
				matchAll = true
			case "cased":
			case "fieldref":
				return nil, c.refuse(ReasonFieldRef, "%s compares two fields", field)
			default:
				return nil, c.refuse(ReasonModifier, "%s|%s", field, m)
			}
		}
		var tests []expr
		for _, v := range values {
			t, err := c.value(field, mode, v)
			if err != nil {
				return nil, err
			}
			tests = append(tests, t)
		}
		switch {
		case len(tests) == 1:
			all = append(all, tests[0])
		case matchAll:
			all = append(all, and(tests))
		default:
			all = append(all, or(tests))
		}
	}
	if len(all) == 1 {
		return all[0], nil
	}
	return all, nil
}

// value converts one value of a field under a modifier into a leaf.
func (c *converter) value(field, mode string, v *yaml.Node) (expr, error) {
	if v.Kind != yaml.ScalarNode {
		return nil, c.refuse(ReasonValue, "%s: a nested value", field)
	}
	if mode == "exists" {
		switch v.Value {
		case "true":
			return leaf{field: field, kind: leafExists}, nil
		case "false":
			return not{leaf{field: field, kind: leafExists}}, nil
		}
		return nil, c.refuse(ReasonValue, "%s|exists: %q", field, v.Value)
	}
	switch v.Tag {
	case "!!null":
		if mode != "" {
			return nil, c.refuse(ReasonValue, "%s|%s: null", field, mode)
		}
		return leaf{field: field, kind: leafNull}, nil
	case "!!bool":
		if mode != "" {
			return nil, c.refuse(ReasonValue, "%s|%s: a boolean", field, mode)
		}
		if b, _ := strconv.ParseBool(v.Value); b {
			return leaf{field: field, kind: leafTrue}, nil
		}
		return leaf{field: field, kind: leafFalse}, nil
	case "!!int", "!!float":
		if mode == "" {
			return leaf{field: field, value: v.Value}, nil
		}
	}
	if mode == "re" {
		if strings.ContainsAny(v.Value, "%") {
			return nil, c.refuse(ReasonRegex, "%s: %%", field)
		}
		return leaf{field: field, value: "%" + v.Value + "%"}, nil
	}
	if fieldValue.MatchString(v.Value) {
		return nil, c.refuse(ReasonFieldRef, "%s compared with the text %q, which names a field", field, v.Value)
	}
	text, err := c.glob(field, v.Value)
	if err != nil {
		return nil, err
	}
	switch mode {
	case "contains":
		text = "*" + text + "*"
	case "startswith":
		text += "*"
	case "endswith":
		text = "*" + text
	}
	if !c.variants || canonical[field] {
		return leaf{field: field, value: `"` + text + `"`}, nil
	}
	var alts or
	for _, v := range caseVariants(text) {
		alts = append(alts, leaf{field: field, value: `"` + v + `"`})
	}
	if len(alts) == 1 {
		return alts[0], nil
	}
	return alts, nil
}

// glob turns a Sigma string (* wildcard, \* \? \\ escapes) into the body of
// a quoted filter-pattern value (* wildcard, \* \" \\ escapes).
func (c *converter) glob(field, s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch ch := s[i]; {
		case ch == '\\' && i+1 < len(s) && strings.IndexByte(`*?\`, s[i+1]) >= 0:
			i++
			switch s[i] {
			case '*':
				b.WriteString(`\*`)
			case '?':
				b.WriteByte('?')
			default:
				b.WriteString(`\\`)
			}
		case ch == '?':
			return "", c.refuse(ReasonWildcard, "%s: %q", field, s)
		case ch == '"' || ch == '\\':
			b.WriteByte('\\')
			b.WriteByte(ch)
		default:
			b.WriteByte(ch)
		}
	}
	return b.String(), nil
}

// condition parses a Sigma condition over the search identifiers.
func (c *converter) condition(text string) (expr, error) {
	if strings.Contains(text, "|") {
		return nil, c.refuse(ReasonAggregation, "condition %q", text)
	}
	toks := strings.Fields(strings.NewReplacer("(", " ( ", ")", " ) ").Replace(text))
	p := &condParser{c: c, toks: toks}
	e, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.pos != len(toks) {
		return nil, c.refuse(ReasonMalformed, "condition %q: unexpected %q", text, toks[p.pos])
	}
	return e, nil
}

type condParser struct {
	c    *converter
	toks []string
	pos  int
}

func (p *condParser) peek() string {
	if p.pos < len(p.toks) {
		return strings.ToLower(p.toks[p.pos])
	}
	return ""
}

func (p *condParser) or() (expr, error) {
	var alts or
	for {
		e, err := p.and()
		if err != nil {
			return nil, err
		}
		alts = append(alts, e)
		if p.peek() != "or" {
			break
		}
		p.pos++
	}
	if len(alts) == 1 {
		return alts[0], nil
	}
	return alts, nil
}

func (p *condParser) and() (expr, error) {
	var all and
	for {
		e, err := p.unary()
		if err != nil {
			return nil, err
		}
		all = append(all, e)
		if p.peek() != "and" {
			break
		}
		p.pos++
	}
	if len(all) == 1 {
		return all[0], nil
	}
	return all, nil
}

func (p *condParser) unary() (expr, error) {
	switch tok := p.peek(); tok {
	case "not":
		p.pos++
		e, err := p.unary()
		if err != nil {
			return nil, err
		}
		return not{e}, nil
	case "(":
		p.pos++
		e, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.peek() != ")" {
			return nil, p.c.refuse(ReasonMalformed, "condition: missing )")
		}
		p.pos++
		return e, nil
	case "1", "all", "any":
		if p.pos+2 >= len(p.toks) {
			return nil, p.c.refuse(ReasonMalformed, "condition: %q needs \"of\" and a name", tok)
		}
		if strings.ToLower(p.toks[p.pos+1]) != "of" {
			return nil, p.c.refuse(ReasonAggregation, "condition: %q", strings.Join(p.toks[p.pos:p.pos+2], " "))
		}
		pattern := p.toks[p.pos+2]
		p.pos += 3
		var group []expr
		for _, name := range p.c.order {
			if ok, _ := filepath.Match(pattern, name); ok || strings.EqualFold(pattern, "them") {
				group = append(group, p.c.searches[name])
			}
		}
		if len(group) == 0 {
			return nil, p.c.refuse(ReasonMalformed, "condition: no search identifier matches %q", pattern)
		}
		if tok == "all" {
			return and(group), nil
		}
		return or(group), nil
	case "", ")", "and", "or":
		return nil, p.c.refuse(ReasonMalformed, "condition: expected a search identifier, found %q", tok)
	}
	name := p.toks[p.pos]
	p.pos++
	e, ok := p.c.searches[name]
	if !ok {
		return nil, p.c.refuse(ReasonMalformed, "condition: unknown search identifier %q", name)
	}
	return e, nil
}

// render writes e as a filter-pattern expression; neg renders its negation,
// pushed down to the leaves (De Morgan), since the language has no NOT: a
// negated test also holds when the field is absent, as Sigma's not does.
func render(e expr, neg bool) (string, error) {
	join := func(kids []expr, conj bool) (string, error) {
		if neg {
			conj = !conj
		}
		sep := " || "
		if conj {
			sep = " && "
		}
		parts := make([]string, 0, len(kids))
		for _, k := range kids {
			s, err := render(k, neg)
			if err != nil {
				return "", err
			}
			parts = append(parts, "("+s+")")
		}
		if len(parts) == 1 {
			return strings.TrimSuffix(strings.TrimPrefix(parts[0], "("), ")"), nil
		}
		return strings.Join(parts, sep), nil
	}
	switch e := e.(type) {
	case and:
		return join(e, true)
	case or:
		return join(e, false)
	case not:
		return render(e.x, !neg)
	case leaf:
		f := "$." + e.field
		switch e.kind {
		case leafNull:
			if neg {
				return fmt.Sprintf("%s = *", f), nil
			}
			return fmt.Sprintf("(%s NOT EXISTS) || (%s IS NULL)", f, f), nil
		case leafExists:
			if neg {
				return fmt.Sprintf("%s NOT EXISTS", f), nil
			}
			return fmt.Sprintf("%s = *", f), nil
		case leafTrue, leafFalse:
			is := map[bool]string{true: "IS TRUE", false: "IS FALSE"}[e.kind == leafTrue]
			if neg {
				other := map[bool]string{true: "IS FALSE", false: "IS TRUE"}[e.kind == leafTrue]
				return fmt.Sprintf("(%s %s) || (%s NOT EXISTS)", f, other, f), nil
			}
			return fmt.Sprintf("%s %s", f, is), nil
		}
		if neg {
			return fmt.Sprintf("(%s != %s) || (%s NOT EXISTS)", f, e.value, f), nil
		}
		return fmt.Sprintf("%s = %s", f, e.value), nil
	}
	return "", fmt.Errorf("sigma: internal: expression %T", e)
}

func severity(level string) activity.Severity {
	switch strings.ToLower(level) {
	case "informational":
		return activity.Info
	case "low":
		return activity.Low
	case "high":
		return activity.High
	case "critical":
		return activity.Critical
	}
	return activity.Medium
}

var techniqueTag = regexp.MustCompile(`^attack\.(t\d{4}(\.\d{3})?)$`)

// attack reads the ATT&CK tactic and most specific technique from the tags.
func attack(tags []string) (tactic, technique string) {
	var techs []string
	for _, t := range tags {
		t = strings.ToLower(t)
		if m := techniqueTag.FindStringSubmatch(t); m != nil {
			techs = append(techs, strings.ToUpper(m[1]))
			continue
		}
		if name, ok := strings.CutPrefix(t, "attack."); ok && tactic == "" && !strings.HasPrefix(name, "g") && !strings.HasPrefix(name, "s0") {
			words := strings.Split(name, "-")
			for i, w := range words {
				if w != "" {
					words[i] = strings.ToUpper(w[:1]) + w[1:]
				}
			}
			tactic = strings.Join(words, " ")
		}
	}
	sort.Slice(techs, func(i, j int) bool { return len(techs[i]) > len(techs[j]) })
	if len(techs) > 0 {
		technique = techs[0]
	}
	return tactic, technique
}
