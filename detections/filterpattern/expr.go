package filterpattern

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"unsafe"

	"github.com/valyala/fastjson"
)

// Operator precedence, loosest first, for printing only the parentheses the
// grammar needs.
const (
	precOr = iota
	precAnd
	precCond
)

type node interface {
	eval(root *fastjson.Value) bool
	write(b *strings.Builder, parent int)
}

type orNode []node

func (n orNode) eval(root *fastjson.Value) bool {
	for _, k := range n {
		if k.eval(root) {
			return true
		}
	}
	return false
}

func (n orNode) write(b *strings.Builder, parent int) { writeList(b, n, " || ", precOr, parent) }

type andNode []node

func (n andNode) eval(root *fastjson.Value) bool {
	for _, k := range n {
		if !k.eval(root) {
			return false
		}
	}
	return true
}

func (n andNode) write(b *strings.Builder, parent int) { writeList(b, n, " && ", precAnd, parent) }

func writeList(b *strings.Builder, kids []node, sep string, prec, parent int) {
	paren := prec < parent
	if paren {
		b.WriteByte('(')
	}
	for i, k := range kids {
		if i > 0 {
			b.WriteString(sep)
		}
		k.write(b, prec+1)
	}
	if paren {
		b.WriteByte(')')
	}
}

type op uint8

const (
	opEq op = iota
	opNe
	opLt
	opGt
	opLe
	opGe
	opIsNull
	opNotExists
	opIsTrue
	opIsFalse
)

var opText = [...]string{
	opEq: "=", opNe: "!=", opLt: "<", opGt: ">", opLe: "<=", opGe: ">=",
	opIsNull: "IS NULL", opNotExists: "NOT EXISTS", opIsTrue: "IS TRUE", opIsFalse: "IS FALSE",
}

// step is one selector step: a member name, or an array index when index >= 0.
type step struct {
	name  string
	index int
}

type selector []step

func (s selector) lookup(root *fastjson.Value) *fastjson.Value {
	v := root
	for _, st := range s {
		if st.index >= 0 {
			if v.Type() != fastjson.TypeArray {
				return nil
			}
			a, _ := v.Array()
			if st.index >= len(a) {
				return nil
			}
			v = a[st.index]
			continue
		}
		if v.Type() != fastjson.TypeObject {
			return nil
		}
		o, _ := v.Object()
		if v = o.Get(st.name); v == nil {
			return nil
		}
	}
	return v
}

func (s selector) write(b *strings.Builder) {
	b.WriteByte('$')
	for _, st := range s {
		if st.index >= 0 {
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(st.index))
			b.WriteByte(']')
		} else {
			b.WriteByte('.')
			b.WriteString(st.name)
		}
	}
}

type valueKind uint8

const (
	valString valueKind = iota // a glob: quoted or bare text, * wildcards
	valNumber                  // a numeric literal
	valRegex                   // %regex%
)

type value struct {
	kind valueKind
	glob glob           // valString
	num  float64        // valNumber
	text string         // valNumber: the literal as written
	re   *regexp.Regexp // valRegex
}

type cond struct {
	sel selector
	op  op
	val value
}

func (c *cond) write(b *strings.Builder, _ int) {
	c.sel.write(b)
	b.WriteByte(' ')
	b.WriteString(opText[c.op])
	if c.op > opGe {
		return
	}
	b.WriteByte(' ')
	switch c.val.kind {
	case valString:
		c.val.glob.write(b)
	case valNumber:
		b.WriteString(c.val.text)
	case valRegex:
		b.WriteByte('%')
		b.WriteString(c.val.re.String())
		b.WriteByte('%')
	}
}

func (c *cond) eval(root *fastjson.Value) bool {
	v := c.sel.lookup(root)
	switch c.op {
	case opNotExists:
		return v == nil
	case opIsNull:
		return v != nil && v.Type() == fastjson.TypeNull
	case opIsTrue:
		return v != nil && v.Type() == fastjson.TypeTrue
	case opIsFalse:
		return v != nil && v.Type() == fastjson.TypeFalse
	}
	if v == nil {
		return false
	}
	t := v.Type()
	if t == fastjson.TypeObject || t == fastjson.TypeArray || t == fastjson.TypeNull {
		return false
	}
	switch c.op {
	case opEq:
		return c.equal(v, t)
	case opNe:
		return !c.equal(v, t)
	}
	// Relational operators compare numbers only; Parse guarantees a numeric
	// literal.
	if t != fastjson.TypeNumber {
		return false
	}
	f, err := v.Float64()
	if err != nil {
		return false
	}
	switch c.op {
	case opLt:
		return f < c.val.num
	case opGt:
		return f > c.val.num
	case opLe:
		return f <= c.val.num
	default:
		return f >= c.val.num
	}
}

// equal compares a scalar (string, number, true or false) with the value.
func (c *cond) equal(v *fastjson.Value, t fastjson.Type) bool {
	if c.val.kind == valNumber && t == fastjson.TypeNumber {
		f, err := v.Float64()
		return err == nil && f == c.val.num
	}
	s := scalarText(v, t)
	switch c.val.kind {
	case valRegex:
		return c.val.re.MatchString(s)
	case valNumber:
		return s == c.val.text
	default:
		return c.val.glob.match(s)
	}
}

// scalarText is the text a string or wildcard value is compared with: a
// string's content, a number as written, or true/false.
func scalarText(v *fastjson.Value, t fastjson.Type) string {
	switch t {
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		// The bytes belong to the parse and are never modified while the
		// string is in use: comparing them needs no copy.
		return unsafe.String(unsafe.SliceData(b), len(b))
	case fastjson.TypeTrue:
		return "true"
	case fastjson.TypeFalse:
		return "false"
	}
	return string(v.MarshalTo(nil))
}

// glob is a value with * wildcards: the literal parts between them. A value
// without wildcards has one part.
type glob []string

func (g glob) match(s string) bool {
	if len(g) == 1 {
		return s == g[0]
	}
	first, last := g[0], g[len(g)-1]
	if len(s) < len(first)+len(last) || !strings.HasPrefix(s, first) || !strings.HasSuffix(s, last) {
		return false
	}
	s = s[len(first) : len(s)-len(last)]
	for _, part := range g[1 : len(g)-1] {
		i := strings.Index(s, part)
		if i < 0 {
			return false
		}
		s = s[i+len(part):]
	}
	return true
}

func (g glob) write(b *strings.Builder) {
	b.WriteByte('"')
	for i, part := range g {
		if i > 0 {
			b.WriteByte('*')
		}
		for j := 0; j < len(part); j++ {
			if c := part[j]; c == '"' || c == '\\' || c == '*' {
				b.WriteByte('\\')
			}
			b.WriteByte(part[j])
		}
	}
	b.WriteByte('"')
}

type termMode uint8

const (
	termRequired termMode = iota
	termOptional          // ?term: at least one optional term must appear
	termExcluded          // -term: must not appear
)

type term struct {
	text string
	mode termMode
}

func (t term) write(b *strings.Builder) {
	switch t.mode {
	case termOptional:
		b.WriteByte('?')
	case termExcluded:
		b.WriteByte('-')
	}
	if isBareTerm(t.text) {
		b.WriteString(t.text)
		return
	}
	quote(b, t.text)
}

// isBareTerm reports whether a term reads back the same without quotes: it
// is not empty, holds no space or quote, and does not start with a character
// that would make it an operator or another kind of pattern.
func isBareTerm(s string) bool {
	if s == "" || strings.IndexByte("?-{[%", s[0]) >= 0 {
		return false
	}
	return !strings.ContainsAny(s, " \t\n\r\"")
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// matchTerms: every required term appears, no excluded term appears, and, if
// there are optional terms, at least one of them appears. Terms match
// case-sensitively anywhere in the message.
func matchTerms(terms []term, msg []byte) bool {
	optional, anyOptional := false, false
	for _, t := range terms {
		found := bytes.Contains(msg, []byte(t.text))
		switch t.mode {
		case termRequired:
			if !found {
				return false
			}
		case termExcluded:
			if found {
				return false
			}
		case termOptional:
			optional = true
			anyOptional = anyOptional || found
		}
	}
	return !optional || anyOptional
}
