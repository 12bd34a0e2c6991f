// Package eventpattern matches events against Amazon EventBridge event
// patterns, so the end-to-end suite delivers to a destination exactly the
// events its rule (read from the synthesized template) would let through.
//
// It implements the pattern features the project's rules use and the ones a
// rule narrowing a destination is likely to use: exact strings, numbers,
// booleans and null; lists of values (any may match); nested objects (every
// key must match); and the content filters "prefix", "suffix",
// "equals-ignore-case", "wildcard" ("*" for any run of characters; a
// backslash before a star or a backslash makes it literal; consecutive stars
// refused), "numeric" ("=", or a lower and/or an upper bound; JSON numbers
// only), "cidr" (IPv4 or IPv6), "anything-but" (values, a list, or a prefix, suffix,
// equals-ignore-case or wildcard filter) and "exists"; and "$or" at any
// object level (a list of alternative patterns, at least one of which must
// match as well as the level's other keys). The semantics follow AWS's
// reference implementation, aws/event-ruler. A pattern using any other filter
// is refused by Compile with ErrUnsupported rather than matched wrongly.
package eventpattern

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"strings"
)

// Sentinel errors, for errors.Is.
var (
	// ErrInvalid reports a pattern EventBridge would refuse.
	ErrInvalid = errors.New("eventpattern: invalid pattern")
	// ErrUnsupported reports a valid pattern feature this package does not
	// implement.
	ErrUnsupported = errors.New("eventpattern: unsupported pattern feature")
)

// Pattern is a compiled event pattern.
type Pattern struct {
	root node
}

// node is an object level of a pattern: each key must match.
type node struct {
	keys     []string
	children map[string]*node
	leaves   map[string][]matcher
	// or holds the alternatives of the level's "$or": one must match.
	or []*node
}

// matcher tests one event value; present is false when the field is absent.
type matcher func(v any, present bool) bool

// Compile parses a pattern: a JSON object whose leaves are arrays of values
// or content filters.
func Compile(pattern []byte) (*Pattern, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(pattern, &raw); err != nil || raw == nil {
		return nil, fmt.Errorf("%w: want a JSON object: %v", ErrInvalid, err)
	}
	root, err := compileNode(raw, "")
	if err != nil {
		return nil, err
	}
	return &Pattern{root: *root}, nil
}

func compileNode(raw map[string]json.RawMessage, path string) (*node, error) {
	n := &node{children: map[string]*node{}, leaves: map[string][]matcher{}}
	for key, value := range raw {
		at := path + "." + key
		if key == "$or" {
			var alts []map[string]json.RawMessage
			if err := json.Unmarshal(value, &alts); err != nil || len(alts) < 2 {
				return nil, fmt.Errorf("%w: %s: want a list of at least two patterns: %v", ErrInvalid, at, err)
			}
			for i, alt := range alts {
				child, err := compileNode(alt, fmt.Sprintf("%s[%d]", at, i))
				if err != nil {
					return nil, err
				}
				n.or = append(n.or, child)
			}
			continue
		}
		n.keys = append(n.keys, key)
		switch firstByte(value) {
		case '{':
			var obj map[string]json.RawMessage
			if err := json.Unmarshal(value, &obj); err != nil {
				return nil, fmt.Errorf("%w: %s: %v", ErrInvalid, at, err)
			}
			child, err := compileNode(obj, at)
			if err != nil {
				return nil, err
			}
			n.children[key] = child
		case '[':
			ms, err := compileLeaf(value, at)
			if err != nil {
				return nil, err
			}
			n.leaves[key] = ms
		default:
			return nil, fmt.Errorf("%w: %s: want an object or an array of match values", ErrInvalid, at)
		}
	}
	sort.Strings(n.keys)
	return n, nil
}

func compileLeaf(raw json.RawMessage, at string) ([]matcher, error) {
	var values []json.RawMessage
	if err := json.Unmarshal(raw, &values); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrInvalid, at, err)
	}
	if len(values) == 0 {
		return nil, fmt.Errorf("%w: %s: empty list of match values", ErrInvalid, at)
	}
	out := make([]matcher, 0, len(values))
	for _, v := range values {
		m, err := compileValue(v, at)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// compileValue compiles one element of a leaf list: a literal or a content
// filter object.
func compileValue(raw json.RawMessage, at string) (matcher, error) {
	if firstByte(raw) != '{' {
		want, err := literal(raw, at)
		if err != nil {
			return nil, err
		}
		return func(v any, present bool) bool { return present && equal(v, want) }, nil
	}
	var filter map[string]json.RawMessage
	if err := json.Unmarshal(raw, &filter); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrInvalid, at, err)
	}
	if len(filter) != 1 {
		return nil, fmt.Errorf("%w: %s: a content filter has exactly one key", ErrInvalid, at)
	}
	var (
		name string
		arg  json.RawMessage
	)
	for k, v := range filter { // the one key
		name, arg = k, v
	}
	switch name {
	case "prefix", "suffix":
		return stringFilter(name, arg, at)
	case "equals-ignore-case":
		s, err := stringArg(arg, at, name)
		if err != nil {
			return nil, err
		}
		return func(v any, present bool) bool {
			got, ok := v.(string)
			return present && ok && strings.EqualFold(got, s)
		}, nil
	case "exists":
		var want bool
		if err := json.Unmarshal(arg, &want); err != nil {
			return nil, fmt.Errorf("%w: %s: exists wants true or false", ErrInvalid, at)
		}
		return func(v any, present bool) bool { return present == want }, nil
	case "anything-but":
		return anythingBut(arg, at)
	case "wildcard":
		w, err := stringArg(arg, at, name)
		if err != nil {
			return nil, err
		}
		glob, err := compileWildcard(w, at)
		if err != nil {
			return nil, err
		}
		return func(v any, present bool) bool {
			got, ok := v.(string)
			return present && ok && glob.match(got)
		}, nil
	case "numeric":
		return numeric(arg, at)
	case "cidr":
		s, err := stringArg(arg, at, name)
		if err != nil {
			return nil, err
		}
		prefix, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: cidr %q: %v", ErrInvalid, at, s, err)
		}
		prefix = prefix.Masked()
		return func(v any, present bool) bool {
			got, ok := v.(string)
			if !present || !ok {
				return false
			}
			addr, err := netip.ParseAddr(got)
			return err == nil && prefix.Contains(addr.Unmap())
		}, nil
	default:
		return nil, fmt.Errorf("%w: %s: content filter %q", ErrUnsupported, at, name)
	}
}

func stringFilter(name string, arg json.RawMessage, at string) (matcher, error) {
	if firstByte(arg) == '{' {
		var nested map[string]string
		if err := json.Unmarshal(arg, &nested); err != nil || len(nested) != 1 || nested["equals-ignore-case"] == "" {
			return nil, fmt.Errorf("%w: %s: %s wants a string or {\"equals-ignore-case\": string}", ErrInvalid, at, name)
		}
		want := strings.ToLower(nested["equals-ignore-case"])
		return func(v any, present bool) bool {
			got, ok := v.(string)
			return present && ok && affix(name, strings.ToLower(got), want)
		}, nil
	}
	want, err := stringArg(arg, at, name)
	if err != nil {
		return nil, err
	}
	return func(v any, present bool) bool {
		got, ok := v.(string)
		return present && ok && affix(name, got, want)
	}, nil
}

func affix(name, s, want string) bool {
	if name == "prefix" {
		return strings.HasPrefix(s, want)
	}
	return strings.HasSuffix(s, want)
}

// anythingBut matches a present value other than the listed ones (a single
// value, a list, or a prefix, suffix, equals-ignore-case or wildcard filter).
func anythingBut(arg json.RawMessage, at string) (matcher, error) {
	var inner matcher
	switch firstByte(arg) {
	case '{':
		var filter map[string]json.RawMessage
		if err := json.Unmarshal(arg, &filter); err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrInvalid, at, err)
		}
		for k := range filter {
			if k != "prefix" && k != "suffix" && k != "equals-ignore-case" && k != "wildcard" {
				return nil, fmt.Errorf("%w: %s: anything-but takes a prefix, suffix, equals-ignore-case or wildcard filter, not %q", ErrInvalid, at, k)
			}
		}
		m, err := compileValue(arg, at)
		if err != nil {
			return nil, err
		}
		inner = m
	case '[':
		ms, err := compileLeaf(arg, at)
		if err != nil {
			return nil, err
		}
		inner = func(v any, present bool) bool { return anyMatch(ms, v, present) }
	default:
		want, err := literal(arg, at)
		if err != nil {
			return nil, err
		}
		inner = func(v any, present bool) bool { return present && equal(v, want) }
	}
	return func(v any, present bool) bool { return present && !inner(v, present) }, nil
}

// wildcard is a compiled "wildcard" value: the literal parts between its
// stars.
type wildcard struct {
	parts []string // len(parts) = stars + 1
}

func compileWildcard(w, at string) (wildcard, error) {
	var (
		g   wildcard
		cur strings.Builder
	)
	for i := 0; i < len(w); i++ {
		switch w[i] {
		case '\\':
			if i+1 == len(w) || (w[i+1] != '*' && w[i+1] != '\\') {
				return g, fmt.Errorf("%w: %s: wildcard %q: a backslash escapes only * or \\", ErrInvalid, at, w)
			}
			i++
			cur.WriteByte(w[i])
		case '*':
			if i+1 < len(w) && w[i+1] == '*' {
				return g, fmt.Errorf("%w: %s: wildcard %q: consecutive wildcard characters", ErrInvalid, at, w)
			}
			g.parts = append(g.parts, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(w[i])
		}
	}
	g.parts = append(g.parts, cur.String())
	return g, nil
}

// match reports whether s is the first part, then any run, the next part,
// and so on, ending with the last part.
func (g wildcard) match(s string) bool {
	first, last := g.parts[0], g.parts[len(g.parts)-1]
	if len(g.parts) == 1 {
		return s == first
	}
	if !strings.HasPrefix(s, first) {
		return false
	}
	s = s[len(first):]
	for _, mid := range g.parts[1 : len(g.parts)-1] {
		i := strings.Index(s, mid)
		if i < 0 {
			return false
		}
		s = s[i+len(mid):]
	}
	return len(s) >= len(last) && strings.HasSuffix(s, last)
}

// numeric compiles ["=", n], one bound [">", n] / ["<=", n] …, or a lower
// then an upper bound [">", a, "<=", b]; it matches JSON numbers only.
func numeric(arg json.RawMessage, at string) (matcher, error) {
	dec := json.NewDecoder(bytes.NewReader(arg))
	dec.UseNumber()
	var list []any
	if err := dec.Decode(&list); err != nil || (len(list) != 2 && len(list) != 4) {
		return nil, fmt.Errorf("%w: %s: numeric wants [op, number] or [lower op, number, upper op, number]", ErrInvalid, at)
	}
	type bound struct {
		op string
		n  float64
	}
	var bounds []bound
	for i := 0; i < len(list); i += 2 {
		op, ok := list[i].(string)
		num, isNum := list[i+1].(json.Number)
		f, err := num.Float64()
		if !ok || !isNum || err != nil || f < -5e9 || f > 5e9 {
			return nil, fmt.Errorf("%w: %s: numeric wants an operator and a number within ±5.0e9", ErrInvalid, at)
		}
		bounds = append(bounds, bound{op, f})
	}
	lower := func(op string) bool { return op == ">" || op == ">=" }
	upper := func(op string) bool { return op == "<" || op == "<=" }
	switch {
	case len(bounds) == 1 && (bounds[0].op == "=" || lower(bounds[0].op) || upper(bounds[0].op)):
	case len(bounds) == 2 && lower(bounds[0].op) && upper(bounds[1].op) && bounds[0].n <= bounds[1].n:
	default:
		return nil, fmt.Errorf("%w: %s: numeric: \"=\" alone, or a lower bound (> >=) before an upper bound (< <=)", ErrInvalid, at)
	}
	return func(v any, present bool) bool {
		num, ok := v.(json.Number)
		if !present || !ok {
			return false
		}
		f, err := num.Float64()
		if err != nil {
			return false
		}
		for _, b := range bounds {
			var in bool
			switch b.op {
			case "=":
				in = f == b.n
			case ">":
				in = f > b.n
			case ">=":
				in = f >= b.n
			case "<":
				in = f < b.n
			case "<=":
				in = f <= b.n
			}
			if !in {
				return false
			}
		}
		return true
	}, nil
}

func stringArg(arg json.RawMessage, at, name string) (string, error) {
	var s string
	if err := json.Unmarshal(arg, &s); err != nil {
		return "", fmt.Errorf("%w: %s: %s wants a string", ErrInvalid, at, name)
	}
	return s, nil
}

// literal decodes an exact match value, numbers as json.Number.
func literal(raw json.RawMessage, at string) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrInvalid, at, err)
	}
	switch v.(type) {
	case string, json.Number, bool, nil:
		return v, nil
	}
	return nil, fmt.Errorf("%w: %s: match values are strings, numbers, booleans or null", ErrInvalid, at)
}

// equal compares an event value with a literal; numbers compare by value.
func equal(v, want any) bool {
	if a, ok := v.(json.Number); ok {
		b, ok := want.(json.Number)
		if !ok {
			return false
		}
		fa, errA := a.Float64()
		fb, errB := b.Float64()
		return errA == nil && errB == nil && fa == fb
	}
	return v == want
}

func firstByte(b []byte) byte {
	b = bytes.TrimLeft(b, " \t\r\n")
	if len(b) == 0 {
		return 0
	}
	return b[0]
}

// Match reports whether the event (a JSON object, e.g. the EventBridge
// envelope) matches the pattern.
func (p *Pattern) Match(event []byte) (bool, error) {
	dec := json.NewDecoder(bytes.NewReader(event))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil || obj == nil {
		return false, fmt.Errorf("eventpattern: event is not a JSON object: %v", err)
	}
	return p.root.match(obj), nil
}

func (n *node) match(obj map[string]any) bool {
	for _, key := range n.keys {
		v, present := obj[key]
		if child, ok := n.children[key]; ok {
			sub, isObj := v.(map[string]any)
			if !isObj || !child.match(sub) {
				return false
			}
			continue
		}
		if !anyMatch(n.leaves[key], v, present) {
			return false
		}
	}
	if len(n.or) == 0 {
		return true
	}
	for _, alt := range n.or {
		if alt.match(obj) {
			return true
		}
	}
	return false
}

// anyMatch reports whether any matcher accepts v; an array value matches when
// any of its elements does, as in EventBridge.
func anyMatch(ms []matcher, v any, present bool) bool {
	if arr, ok := v.([]any); ok && present {
		for _, m := range ms {
			for _, e := range arr {
				if m(e, true) {
					return true
				}
			}
		}
		return false
	}
	for _, m := range ms {
		if m(v, present) {
			return true
		}
	}
	return false
}
