// Package filterpattern parses and evaluates CloudWatch Logs filter patterns,
// the language of metric filters, subscription filters and FilterLogEvents, so
// a pattern can be checked and tried on recorded events before it is deployed.
//
// It implements the forms AWS documents in "Filter pattern syntax for metric
// filters, subscription filters, and filter log events":
//
//   - the empty pattern, which matches every event;
//   - term patterns on unstructured text: ERROR, "exact phrase", ?any ?of,
//     -excluded; terms are case-sensitive and match anywhere in the message;
//   - a standalone regular expression, %regex%, within the documented subset
//     (no parentheses, no multi-byte characters);
//   - JSON patterns, { ... }: selectors $.a.b, $.a[0], $.a[0][1]; = and != on
//     strings, quoted or bare, with * wildcards anywhere in the value; numeric
//     = != < > <= >= with signs, decimals and exponents; IS NULL, NOT EXISTS,
//     IS TRUE, IS FALSE; %regex% values; && and || with parentheses, where
//     () binds tighter than && and && tighter than ||.
//
// JSON patterns match only events whose message is a JSON object. A selector
// that names an object or an array matches nothing, neither = nor !=; a
// comparison on an absent key matches nothing either (NOT EXISTS is the test
// for absence, IS NULL for an explicit null). The space-delimited form
// ([a, b=1, ...]) is not supported: Parse reports it as a syntax error.
package filterpattern

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/valyala/fastjson"
)

// MaxLength is the longest pattern CloudWatch Logs accepts, in characters.
const MaxLength = 1024

// MaxRegexes is how many %regex% values one JSON pattern may hold.
const MaxRegexes = 2

// ErrSyntax is wrapped by every *SyntaxError, for errors.Is.
var ErrSyntax = errors.New("filterpattern: syntax error")

// SyntaxError locates a malformed pattern.
type SyntaxError struct {
	// Column is the 1-based character position of the offending text.
	Column int
	// Msg says what was expected or what is wrong.
	Msg string
}

// Error returns e.g. `column 17: expected a value after "="`.
func (e *SyntaxError) Error() string { return fmt.Sprintf("column %d: %s", e.Column, e.Msg) }

// Is reports whether target is ErrSyntax.
func (e *SyntaxError) Is(target error) bool { return target == ErrSyntax }

type kind uint8

const (
	kindAll   kind = iota // empty pattern: every event
	kindTerms             // unstructured terms
	kindRegex             // standalone %regex%
	kindJSON              // { ... }
)

// Pattern is a parsed filter pattern. It is immutable and safe for concurrent
// use.
type Pattern struct {
	kind  kind
	terms []term
	re    *regexp.Regexp
	expr  node
}

// Parse parses a filter pattern. A malformed pattern yields a *SyntaxError
// that says where and what.
func Parse(pattern string) (*Pattern, error) {
	if n := utf8.RuneCountInString(pattern); n > MaxLength {
		return nil, &SyntaxError{Column: MaxLength + 1, Msg: fmt.Sprintf("pattern is %d characters long; the maximum is %d", n, MaxLength)}
	}
	p := &parser{src: pattern}
	return p.parse()
}

// MustParse is Parse for patterns known to be valid; it panics on an error.
// It is meant for package-level presets, never for user input.
func MustParse(pattern string) *Pattern {
	p, err := Parse(pattern)
	if err != nil {
		panic(fmt.Sprintf("filterpattern: MustParse(%q): %v", pattern, err))
	}
	return p
}

// IsJSON reports whether p is a JSON pattern, { ... }.
func (p *Pattern) IsJSON() bool { return p.kind == kindJSON }

// String returns the normalized pattern: Parse(p.String()) is equivalent to p
// and prints the same. JSON patterns print with single spaces, quoted string
// values and only the parentheses precedence needs, so the normalized form of
// a compact pattern can be longer than the pattern itself.
func (p *Pattern) String() string {
	var b strings.Builder
	switch p.kind {
	case kindTerms:
		for i, t := range p.terms {
			if i > 0 {
				b.WriteByte(' ')
			}
			t.write(&b)
		}
	case kindRegex:
		b.WriteByte('%')
		b.WriteString(p.re.String())
		b.WriteByte('%')
	case kindJSON:
		b.WriteString("{ ")
		p.expr.write(&b, precOr)
		b.WriteString(" }")
	}
	return b.String()
}

var parsers fastjson.ParserPool

// Match reports whether p matches one log event message. To evaluate several
// patterns on the same message, parse it once with ParseEvent and call
// MatchEvent.
func (p *Pattern) Match(event []byte) bool {
	switch p.kind {
	case kindAll:
		return true
	case kindTerms:
		return matchTerms(p.terms, event)
	case kindRegex:
		return p.re.Match(event)
	}
	if !looksLikeObject(event) {
		return false
	}
	jp := parsers.Get()
	defer parsers.Put(jp)
	root, err := jp.ParseBytes(event)
	if err != nil || root.Type() != fastjson.TypeObject {
		return false
	}
	return p.expr.eval(root)
}

// Event is one log event message, parsed at most once however many patterns
// are evaluated on it. An Event is not safe for concurrent use.
type Event struct {
	raw    []byte
	parsed bool
	root   *fastjson.Value
	jp     fastjson.Parser
}

// ParseEvent wraps a log event message for MatchEvent. The JSON is parsed
// lazily, on the first JSON pattern evaluated, and only once.
func ParseEvent(raw []byte) *Event {
	e := &Event{}
	e.Reset(raw)
	return e
}

// Reset makes e hold another message, reusing its parse buffers.
func (e *Event) Reset(raw []byte) {
	e.raw, e.parsed, e.root = raw, false, nil
}

// Raw returns the message.
func (e *Event) Raw() []byte { return e.raw }

// object returns the parsed message when it is a JSON object, else nil.
func (e *Event) object() *fastjson.Value {
	if !e.parsed {
		e.parsed = true
		if looksLikeObject(e.raw) {
			if v, err := e.jp.ParseBytes(e.raw); err == nil && v.Type() == fastjson.TypeObject {
				e.root = v
			}
		}
	}
	return e.root
}

// IsJSONObject reports whether the message is a JSON object, the only kind of
// message a JSON pattern can match.
func (e *Event) IsJSONObject() bool { return e.object() != nil }

// MatchEvent reports whether p matches the event.
func (p *Pattern) MatchEvent(e *Event) bool {
	switch p.kind {
	case kindAll:
		return true
	case kindTerms:
		return matchTerms(p.terms, e.raw)
	case kindRegex:
		return p.re.Match(e.raw)
	}
	root := e.object()
	return root != nil && p.expr.eval(root)
}

// MatchParsed reports whether p matches a log event message that its reader
// has already parsed: root is raw's parse (nil, or anything but an object,
// when raw is not a JSON object). Term and regex patterns read raw, JSON
// patterns root, so a caller that parses each message for its own use pays
// for one parse, not two.
func (p *Pattern) MatchParsed(raw []byte, root *fastjson.Value) bool {
	switch p.kind {
	case kindAll:
		return true
	case kindTerms:
		return matchTerms(p.terms, raw)
	case kindRegex:
		return p.re.Match(raw)
	}
	return root != nil && root.Type() == fastjson.TypeObject && p.expr.eval(root)
}

// EventPool recycles Events (and their parse buffers) between messages.
type EventPool struct{ pool sync.Pool }

// Get returns an Event holding raw.
func (ep *EventPool) Get(raw []byte) *Event {
	if e, ok := ep.pool.Get().(*Event); ok {
		e.Reset(raw)
		return e
	}
	return ParseEvent(raw)
}

// Put returns e to the pool; e must not be used afterwards.
func (ep *EventPool) Put(e *Event) {
	e.Reset(nil)
	ep.pool.Put(e)
}

func looksLikeObject(b []byte) bool {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		case '{':
			return true
		default:
			return false
		}
	}
	return false
}

// quote writes s as a quoted term, escaping " and \.
func quote(b *strings.Builder, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
}
