package filterpattern

import (
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"strconv"
	"strings"
	"unicode/utf8"
)

// parser is a recursive-descent parser over the pattern's bytes; columns are
// reported in characters.
type parser struct {
	src     string
	pos     int
	regexes int
}

func (p *parser) errAt(pos int, format string, args ...any) *SyntaxError {
	return &SyntaxError{Column: utf8.RuneCountInString(p.src[:pos]) + 1, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) skipSpace() {
	for p.pos < len(p.src) {
		switch p.src[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *parser) eof() bool { return p.pos >= len(p.src) }

func (p *parser) peek() byte {
	if p.eof() {
		return 0
	}
	return p.src[p.pos]
}

// near describes the text at pos for an error message.
func (p *parser) near(pos int) string {
	if pos >= len(p.src) {
		return "end of pattern"
	}
	r, _ := utf8.DecodeRuneInString(p.src[pos:])
	return strconv.QuoteRune(r)
}

func (p *parser) parse() (*Pattern, error) {
	p.skipSpace()
	switch {
	case p.eof():
		return &Pattern{kind: kindAll}, nil
	case p.peek() == '{':
		return p.parseJSON()
	case p.peek() == '[':
		return nil, p.errAt(p.pos, "space-delimited patterns ([...]) are not supported; use a JSON pattern { ... } or terms")
	case p.peek() == '%':
		start := p.pos
		re, err := p.parseRegex()
		if err != nil {
			return nil, err
		}
		p.skipSpace()
		if !p.eof() {
			return nil, p.errAt(p.pos, "unexpected %s after the regular expression that starts at column %d", p.near(p.pos), p.errAt(start, "").Column)
		}
		return &Pattern{kind: kindRegex, re: re}, nil
	}
	return p.parseTerms()
}

func (p *parser) parseTerms() (*Pattern, error) {
	var terms []term
	for p.skipSpace(); !p.eof(); p.skipSpace() {
		mode := termRequired
		switch p.peek() {
		case '?':
			mode = termOptional
			p.pos++
		case '-':
			mode = termExcluded
			p.pos++
		}
		var text string
		switch c := p.peek(); {
		case c == '"':
			s, err := p.parseQuoted(false)
			if err != nil {
				return nil, err
			}
			text = s[0]
		case p.eof() || c == ' ' || c == '\t' || c == '\n' || c == '\r':
			return nil, p.errAt(p.pos, "expected a term after %q", p.src[p.pos-1])
		default:
			start := p.pos
			for !p.eof() && !strings.ContainsRune(" \t\n\r", rune(p.peek())) {
				if p.peek() == '"' {
					return nil, p.errAt(p.pos, "unexpected quote inside a term; quote the whole term")
				}
				p.pos++
			}
			text = p.src[start:p.pos]
			if mode == termRequired && (strings.HasPrefix(text, "{") || strings.HasPrefix(text, "%") || strings.HasPrefix(text, "[")) {
				return nil, p.errAt(start, "%s cannot follow other terms; a JSON, regex or space-delimited pattern must be the whole pattern", p.near(start))
			}
		}
		if text == "" && mode == termRequired {
			continue // "" is in every message
		}
		terms = append(terms, term{text: text, mode: mode})
	}
	if len(terms) == 0 {
		return &Pattern{kind: kindAll}, nil
	}
	return &Pattern{kind: kindTerms, terms: terms}, nil
}

// parseQuoted reads a double-quoted value at p.pos. Inside it, \" and \\
// stand for themselves and, when wildcards is set, \* is a literal star while
// * is a wildcard. It returns the literal parts between wildcards.
func (p *parser) parseQuoted(wildcards bool) (glob, error) {
	start := p.pos
	p.pos++ // opening quote
	var parts glob
	var cur strings.Builder
	for {
		if p.eof() {
			return nil, p.errAt(start, "unterminated quoted value")
		}
		c := p.src[p.pos]
		switch {
		case c == '"':
			p.pos++
			return append(parts, cur.String()), nil
		case c == '\\' && p.pos+1 < len(p.src) && (p.src[p.pos+1] == '"' || p.src[p.pos+1] == '\\' || p.src[p.pos+1] == '*'):
			cur.WriteByte(p.src[p.pos+1])
			p.pos += 2
		case c == '*' && wildcards:
			parts = append(parts, cur.String())
			cur.Reset()
			p.pos++
		default:
			cur.WriteByte(c)
			p.pos++
		}
	}
}

// regexAllowed is the documented character set of a filter-pattern regex:
// alphanumerics, the symbols _ # = @ / ; , - : and the operators
// ^ $ ? [ ] { } | \ * + . (parentheses and multi-byte characters are not
// supported). A space is accepted too, as AWS's own examples use it.
func regexAllowed(c byte) bool {
	return isAlnum(c) || strings.IndexByte("_#=@/;,-: ^$?[]{}|\\*+.", c) >= 0
}

// parseRegex reads %regex% at p.pos.
func (p *parser) parseRegex() (*regexp.Regexp, error) {
	start := p.pos
	p.pos++
	for {
		if p.eof() {
			return nil, p.errAt(start, "unterminated regular expression: expected a closing %%")
		}
		c := p.src[p.pos]
		if c == '%' {
			break
		}
		switch {
		case c == '(' || c == ')':
			return nil, p.errAt(p.pos, "regular expressions may not contain %q: subpatterns are not supported", c)
		case c >= utf8.RuneSelf:
			return nil, p.errAt(p.pos, "regular expressions may not contain multi-byte characters")
		case !regexAllowed(c):
			return nil, p.errAt(p.pos, "regular expressions may not contain %q", c)
		case c == '\\' && p.pos+1 < len(p.src) && p.src[p.pos+1] == '%':
			return nil, p.errAt(p.pos, "regular expressions may not contain %q", '%')
		}
		p.pos++
	}
	src := p.src[start+1 : p.pos]
	p.pos++
	if src == "" {
		return nil, p.errAt(start, "empty regular expression")
	}
	re, err := regexp.Compile(src)
	if err != nil {
		var se *syntax.Error
		msg := err.Error()
		if errors.As(err, &se) {
			msg = fmt.Sprintf("%s: %q", se.Code, se.Expr)
		}
		return nil, p.errAt(start+1, "invalid regular expression: %s", msg)
	}
	return re, nil
}

func (p *parser) parseJSON() (*Pattern, error) {
	open := p.pos
	p.pos++
	p.skipSpace()
	if p.peek() == '}' {
		return nil, p.errAt(p.pos, "expected a condition such as $.eventName = \"ConsoleLogin\" inside { }")
	}
	expr, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.eof() {
		return nil, p.errAt(p.pos, "expected \"}\" to close the \"{\" at column %d", p.errAt(open, "").Column)
	}
	if p.peek() != '}' {
		return nil, p.errAt(p.pos, "expected \"&&\", \"||\" or \"}\", found %s", p.near(p.pos))
	}
	p.pos++
	p.skipSpace()
	if !p.eof() {
		return nil, p.errAt(p.pos, "unexpected %s after the closing \"}\"", p.near(p.pos))
	}
	return &Pattern{kind: kindJSON, expr: expr}, nil
}

func (p *parser) parseOr() (node, error) {
	var kids orNode
	for {
		k, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		kids = appendFlat(kids, k)
		p.skipSpace()
		if !strings.HasPrefix(p.src[p.pos:], "||") {
			break
		}
		p.pos += 2
	}
	if len(kids) == 1 {
		return kids[0], nil
	}
	return kids, nil
}

func (p *parser) parseAnd() (node, error) {
	var kids andNode
	for {
		k, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		if a, ok := k.(andNode); ok {
			kids = append(kids, a...)
		} else {
			kids = append(kids, k)
		}
		p.skipSpace()
		if !strings.HasPrefix(p.src[p.pos:], "&&") {
			break
		}
		p.pos += 2
	}
	if len(kids) == 1 {
		return kids[0], nil
	}
	return kids, nil
}

// appendFlat flattens (a || b) || c into a || b || c: the same set of
// matches, and a normalized form that prints the same after a reparse.
func appendFlat(kids orNode, k node) orNode {
	if o, ok := k.(orNode); ok {
		return append(kids, o...)
	}
	return append(kids, k)
}

func (p *parser) parseUnary() (node, error) {
	p.skipSpace()
	switch c := p.peek(); c {
	case '(':
		open := p.pos
		p.pos++
		inner, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		p.skipSpace()
		if p.peek() != ')' {
			return nil, p.errAt(p.pos, "expected \")\" to close the \"(\" at column %d, found %s", p.errAt(open, "").Column, p.near(p.pos))
		}
		p.pos++
		return inner, nil
	case '$':
		return p.parseCond()
	default:
		return nil, p.errAt(p.pos, "expected a selector such as $.eventName or \"(\", found %s", p.near(p.pos))
	}
}

func isNameByte(c byte) bool {
	return isAlnum(c) || c == '_' || c == '-' || c == '@' || c == ':' || c >= utf8.RuneSelf
}

func (p *parser) parseSelector() (selector, string, error) {
	start := p.pos
	p.pos++ // $
	var sel selector
	for !p.eof() {
		switch p.peek() {
		case '.':
			p.pos++
			nameStart := p.pos
			for !p.eof() && isNameByte(p.peek()) {
				p.pos++
			}
			if p.pos == nameStart {
				return nil, "", p.errAt(p.pos, "expected a property name after \".\", found %s", p.near(p.pos))
			}
			sel = append(sel, step{name: p.src[nameStart:p.pos], index: -1})
			continue
		case '[':
			p.pos++
			numStart := p.pos
			for !p.eof() && p.peek() >= '0' && p.peek() <= '9' {
				p.pos++
			}
			n, err := strconv.Atoi(p.src[numStart:p.pos])
			if err != nil || p.peek() != ']' {
				return nil, "", p.errAt(numStart, "expected an array index such as [0], found %s", p.near(numStart))
			}
			p.pos++
			sel = append(sel, step{index: n})
			continue
		}
		break
	}
	if len(sel) == 0 {
		return nil, "", p.errAt(start, "expected a selector such as $.eventName")
	}
	return sel, p.src[start:p.pos], nil
}

func (p *parser) parseCond() (node, error) {
	sel, text, err := p.parseSelector()
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	c := &cond{sel: sel}
	opPos := p.pos
	rest := p.src[p.pos:]
	switch {
	case strings.HasPrefix(rest, "!="):
		c.op, p.pos = opNe, p.pos+2
	case strings.HasPrefix(rest, "<="):
		c.op, p.pos = opLe, p.pos+2
	case strings.HasPrefix(rest, ">="):
		c.op, p.pos = opGe, p.pos+2
	case strings.HasPrefix(rest, "="):
		c.op, p.pos = opEq, p.pos+1
	case strings.HasPrefix(rest, "<"):
		c.op, p.pos = opLt, p.pos+1
	case strings.HasPrefix(rest, ">"):
		c.op, p.pos = opGt, p.pos+1
	default:
		if op, ok := p.parseKeywordOp(); ok {
			c.op = op
			return c, nil
		}
		return nil, p.errAt(opPos, "expected an operator (=, !=, <, >, <=, >=, IS NULL, NOT EXISTS, IS TRUE, IS FALSE) after %s, found %s", text, p.near(opPos))
	}
	opStr := p.src[opPos:p.pos]
	p.skipSpace()
	valPos := p.pos
	switch ch := p.peek(); {
	case ch == '"':
		if c.op > opNe {
			return nil, p.errAt(valPos, "expected a number after %q", opStr)
		}
		g, err := p.parseQuoted(true)
		if err != nil {
			return nil, err
		}
		c.val = value{kind: valString, glob: g}
	case ch == '%':
		if c.op > opNe {
			return nil, p.errAt(valPos, "expected a number after %q", opStr)
		}
		if p.regexes++; p.regexes > MaxRegexes {
			return nil, p.errAt(valPos, "a pattern may hold at most %d regular expressions", MaxRegexes)
		}
		re, err := p.parseRegex()
		if err != nil {
			return nil, err
		}
		c.val = value{kind: valRegex, re: re}
	default:
		for !p.eof() && isBareByte(p.peek()) {
			p.pos++
		}
		bare := p.src[valPos:p.pos]
		if bare == "" {
			return nil, p.errAt(valPos, "expected a value after %q", opStr)
		}
		if f, ok := parseNumber(bare); ok {
			c.val = value{kind: valNumber, num: f, text: bare}
		} else if c.op > opNe {
			return nil, p.errAt(valPos, "expected a number after %q, found %q", opStr, bare)
		} else {
			c.val = value{kind: valString, glob: glob(strings.Split(bare, "*"))}
		}
	}
	return c, nil
}

// isBareByte reports whether c may appear in an unquoted value. AWS asks for
// alphanumerics; real patterns (the CIS benchmark's among them) also use dots,
// dashes and wildcards, as in kms.amazonaws.com and 123.123.*.
func isBareByte(c byte) bool {
	return isAlnum(c) || strings.IndexByte("_.*-+:/@", c) >= 0 || c >= utf8.RuneSelf
}

var numberRE = regexp.MustCompile(`^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$`)

func parseNumber(s string) (float64, bool) {
	if !numberRE.MatchString(s) {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil
}

// parseKeywordOp reads IS NULL, NOT EXISTS, IS TRUE or IS FALSE (keywords in
// any case).
func (p *parser) parseKeywordOp() (op, bool) {
	save := p.pos
	first := p.word()
	p.skipSpace()
	second := p.word()
	switch strings.ToUpper(first) + " " + strings.ToUpper(second) {
	case "IS NULL":
		return opIsNull, true
	case "NOT EXISTS":
		return opNotExists, true
	case "IS TRUE":
		return opIsTrue, true
	case "IS FALSE":
		return opIsFalse, true
	}
	p.pos = save
	return 0, false
}

func (p *parser) word() string {
	start := p.pos
	for !p.eof() && isAlnum(p.peek()) {
		p.pos++
	}
	return p.src[start:p.pos]
}
