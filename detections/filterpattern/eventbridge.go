package filterpattern

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ErrNoEventBridge reports a pattern that has no Amazon EventBridge event
// pattern equivalent.
var ErrNoEventBridge = errors.New("filterpattern: no EventBridge equivalent")

// maxAlternatives bounds the disjunctive form EventBridge gets.
const maxAlternatives = 256

// EventBridge translates a JSON pattern into the equivalent Amazon
// EventBridge event pattern alternatives, for events that carry the log
// event's JSON under the member path given (e.g. "detail", as EventBridge
// delivers CloudTrail records): each alternative is an event pattern
// (nested objects of value lists), and an event matches the filter pattern
// when it matches any alternative ({"$or": [...]} says the same in one
// pattern). Equality maps to exact values, prefix, suffix, wildcard or
// exists; != to anything-but; NOT EXISTS, IS NULL, IS TRUE and IS FALSE to
// exists false, null, true and false; comparisons to numeric. Regular
// expressions, array indexes and two tests of one member within one
// conjunction have no equivalent: the error wraps ErrNoEventBridge and says
// which.
//
// The two languages differ where a member holds an array (EventBridge
// matches any element, a filter pattern none) or an object (exists: true
// matches it, = * does not); CloudTrail's members the presets test are
// scalars.
func (p *Pattern) EventBridge(under ...string) ([]map[string]any, error) {
	if p.kind != kindJSON {
		return nil, fmt.Errorf("%w: only JSON patterns translate", ErrNoEventBridge)
	}
	terms, err := dnf(p.expr)
	if err != nil {
		return nil, err
	}
	terms = mergeTerms(terms)
	out := make([]map[string]any, len(terms))
	for i, t := range terms {
		root := map[string]any{}
		for _, path := range t.order {
			obj := root
			steps := append(slices.Clone(under), strings.Split(path, "\x00")...)
			for _, s := range steps[:len(steps)-1] {
				next, ok := obj[s].(map[string]any)
				if !ok {
					next = map[string]any{}
					obj[s] = next
				}
				obj = next
			}
			obj[steps[len(steps)-1]] = t.values[path]
		}
		out[i] = root
	}
	return out, nil
}

// ebTerm is one conjunction: member path → the values any of which it must
// match.
type ebTerm struct {
	order  []string
	values map[string][]any
}

func (t ebTerm) clone() ebTerm {
	c := ebTerm{order: slices.Clone(t.order), values: make(map[string][]any, len(t.values))}
	for k, v := range t.values {
		c.values[k] = slices.Clone(v)
	}
	return c
}

// dnf is the disjunctive normal form of n: alternatives, each a conjunction
// of one test per member.
func dnf(n node) ([]ebTerm, error) {
	switch n := n.(type) {
	case orNode:
		var out []ebTerm
		for _, k := range n {
			ts, err := dnf(k)
			if err != nil {
				return nil, err
			}
			out = append(out, ts...)
		}
		if len(out) > maxAlternatives {
			return nil, fmt.Errorf("%w: more than %d alternatives", ErrNoEventBridge, maxAlternatives)
		}
		return out, nil
	case andNode:
		out := []ebTerm{{values: map[string][]any{}}}
		for _, k := range n {
			ts, err := dnf(k)
			if err != nil {
				return nil, err
			}
			var next []ebTerm
			for _, a := range out {
				for _, b := range ts {
					c := a.clone()
					for _, path := range b.order {
						if _, dup := c.values[path]; dup {
							return nil, fmt.Errorf("%w: two tests of %s in one conjunction", ErrNoEventBridge, pathText(path))
						}
						c.order = append(c.order, path)
						c.values[path] = b.values[path]
					}
					next = append(next, c)
				}
			}
			if len(next) > maxAlternatives {
				return nil, fmt.Errorf("%w: more than %d alternatives", ErrNoEventBridge, maxAlternatives)
			}
			out = next
		}
		return out, nil
	case *cond:
		path := make([]string, len(n.sel))
		for i, st := range n.sel {
			if st.index >= 0 {
				return nil, fmt.Errorf("%w: array index in %s", ErrNoEventBridge, selText(n.sel))
			}
			path[i] = st.name
		}
		v, err := n.eventBridge()
		if err != nil {
			return nil, err
		}
		key := strings.Join(path, "\x00")
		return []ebTerm{{order: []string{key}, values: map[string][]any{key: {v}}}}, nil
	}
	return nil, fmt.Errorf("%w: %T", ErrNoEventBridge, n)
}

func selText(s selector) string {
	var b strings.Builder
	s.write(&b)
	return b.String()
}

func pathText(path string) string { return "$." + strings.ReplaceAll(path, "\x00", ".") }

// eventBridge is the EventBridge value matching what c tests.
func (c *cond) eventBridge() (any, error) {
	switch c.op {
	case opNotExists:
		return map[string]any{"exists": false}, nil
	case opIsNull:
		return nil, nil
	case opIsTrue:
		return true, nil
	case opIsFalse:
		return false, nil
	case opLt, opGt, opLe, opGe:
		return map[string]any{"numeric": []any{opText[c.op], c.val.num}}, nil
	}
	var v any
	switch c.val.kind {
	case valRegex:
		return nil, fmt.Errorf("%w: regular expression in %s", ErrNoEventBridge, selText(c.sel))
	case valNumber:
		if c.op == opEq {
			return map[string]any{"numeric": []any{"=", c.val.num}}, nil
		}
		return map[string]any{"anything-but": c.val.num}, nil
	default:
		v = globFilter(c.val.glob)
	}
	if c.op == opNe {
		if v == nil {
			return nil, fmt.Errorf("%w: != * in %s", ErrNoEventBridge, selText(c.sel))
		}
		return map[string]any{"anything-but": v}, nil
	}
	if v == nil {
		return map[string]any{"exists": true}, nil
	}
	return v, nil
}

// globFilter is a string value's EventBridge form: the string, a prefix, a
// suffix or a wildcard filter; nil for a lone * (any value).
func globFilter(g glob) any {
	switch {
	case len(g) == 1:
		return g[0]
	case len(g) == 2 && g[0] == "" && g[1] == "":
		return nil
	case len(g) == 2 && g[1] == "":
		return map[string]any{"prefix": g[0]}
	case len(g) == 2 && g[0] == "":
		return map[string]any{"suffix": g[1]}
	}
	parts := make([]string, len(g))
	for i, p := range g {
		parts[i] = strings.NewReplacer(`\`, `\\`, `*`, `\*`).Replace(p)
	}
	return map[string]any{"wildcard": strings.Join(parts, "*")}
}

// mergeTerms joins alternatives that differ in one member's values only:
// (a=1 && b=2) || (a=1 && b=3) is a=1 && b in [2, 3].
func mergeTerms(ts []ebTerm) []ebTerm {
	for merged := true; merged; {
		merged = false
		for i := 0; i < len(ts) && !merged; i++ {
			for j := i + 1; j < len(ts) && !merged; j++ {
				if key, ok := differOnlyIn(ts[i], ts[j]); ok {
					ts[i].values[key] = append(ts[i].values[key], ts[j].values[key]...)
					ts = slices.Delete(ts, j, j+1)
					merged = true
				}
			}
		}
	}
	return ts
}

func differOnlyIn(a, b ebTerm) (string, bool) {
	if len(a.values) != len(b.values) {
		return "", false
	}
	diff := ""
	for k, av := range a.values {
		bv, ok := b.values[k]
		if !ok {
			return "", false
		}
		if fmt.Sprint(av) != fmt.Sprint(bv) {
			if diff != "" {
				return "", false
			}
			diff = k
		}
	}
	return diff, diff != ""
}
