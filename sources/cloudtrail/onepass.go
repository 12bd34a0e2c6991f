package cloudtrail

import (
	"unicode/utf16"
	"unicode/utf8"

	"github.com/activity-aware/ids/activity"
)

// maxReadDepth bounds the nesting the one-pass reader follows; deeper
// records go to the general parser.
const maxReadDepth = 64

// recordReader reads one record in a single pass: it checks that the text is
// strictly valid, compact JSON and extracts the members the source reads.
type recordReader struct {
	b     []byte
	i     int
	depth int
	sc    *scratch
}

// readRecord reads the record text into m in one pass, replacing the general
// parser, the strict check and the member lookups for records as CloudTrail
// writes them. It reports true only when text is strictly valid JSON, compact
// (so encoding/json would copy it unchanged), an object, and m holds exactly
// what record.read would; it reports false, leaving m to be reset, for
// anything else: whitespace outside strings, an escaped member name in an
// object it reads, nesting beyond maxReadDepth, invalid JSON, or a record
// that would need a hashed fallback id. Fuzzed against the general reader.
func (sc *scratch) readRecord(text []byte, m *members, origin *activity.Origin) bool {
	p := recordReader{b: text, sc: sc}
	if !p.record(m) || p.i != len(p.b) {
		return false
	}
	return hasText(&m.rec[mEventID]) || origin != nil && origin.LogEventID != ""
}

// peek returns the next byte, or 0 at the end.
func (p *recordReader) peek() byte {
	if p.i < len(p.b) {
		return p.b[p.i]
	}
	return 0
}

// open consumes c, the start of a container, and counts its depth.
func (p *recordReader) open(c byte) bool {
	if p.peek() != c || p.depth == maxReadDepth {
		return false
	}
	p.i++
	p.depth++
	return true
}

// empty consumes c, the end of the container just opened, if it follows.
func (p *recordReader) empty(c byte) bool {
	if p.peek() != c {
		return false
	}
	p.i++
	p.depth--
	return true
}

// next consumes what follows a container's element: a comma (more true) or
// the end c (more false).
func (p *recordReader) next(c byte) (more, ok bool) {
	switch p.peek() {
	case ',':
		p.i++
		return true, true
	case c:
		p.i++
		p.depth--
		return false, true
	}
	return false, false
}

// key reads a member name and its colon. A name with an escape is refused:
// fastjson matches unescaped names, which the general reader handles.
func (p *recordReader) key() ([]byte, bool) {
	raw, escaped, ok := p.str()
	if !ok || escaped || p.peek() != ':' {
		return nil, false
	}
	p.i++
	return raw, true
}

// str reads the string at p.i, which must start with a quote, and returns
// its raw text and whether it has an escape. It refuses control bytes and
// invalid escapes.
func (p *recordReader) str() (raw []byte, escaped, ok bool) {
	b := p.b
	if p.peek() != '"' {
		return nil, false, false
	}
	start := p.i + 1
	i := start
	for {
		i = plainRun(b, i)
		switch {
		case i >= len(b) || b[i] < 0x20:
			return nil, false, false
		case b[i] == '"':
			p.i = i + 1
			return b[start:i], escaped, true
		}
		// A backslash: the escape must be valid.
		escaped = true
		if i+1 >= len(b) {
			return nil, false, false
		}
		switch b[i+1] {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			i += 2
		case 'u':
			if _, ok := hex4(b, i+2); !ok {
				return nil, false, false
			}
			i += 6
		default:
			return nil, false, false
		}
	}
}

// value reads any value; when dst is not nil it records the value's kind
// and, for a string or a number, its text.
func (p *recordReader) value(dst *member) bool {
	var m member
	switch c := p.peek(); c {
	case '"':
		raw, escaped, ok := p.str()
		if !ok {
			return false
		}
		if dst != nil && escaped {
			raw = p.sc.unescape(raw)
		}
		m = member{kind: kindString, text: raw}
	case '{':
		if !p.skipObject() {
			return false
		}
		m.kind = kindObject
	case '[':
		if !p.skipArray() {
			return false
		}
		m.kind = kindArray
	case 't':
		if !p.literal("true") {
			return false
		}
		m.kind = kindTrue
	case 'f':
		if !p.literal("false") {
			return false
		}
		m.kind = kindFalse
	case 'n':
		if !p.literal("null") {
			return false
		}
		m.kind = kindNull
	default:
		start := p.i
		for p.i < len(p.b) && numberByte[p.b[p.i]] {
			p.i++
		}
		if p.i == start || !strictNumber(p.b[start:p.i]) || !p.ended() {
			return false
		}
		m = member{kind: kindNumber, text: p.b[start:p.i]}
	}
	if dst != nil {
		*dst = m
	}
	return true
}

// numberByte marks the bytes fastjson reads as part of a number.
var numberByte = func() (t [256]bool) {
	for _, c := range []byte("0123456789.-+eE") {
		t[c] = true
	}
	return t
}()

// The texts of the booleans, as appendCompact writes them.
var trueText, falseText = []byte("true"), []byte("false")

// literal reads true, false or null.
func (p *recordReader) literal(lit string) bool {
	if len(p.b)-p.i < len(lit) || string(p.b[p.i:p.i+len(lit)]) != lit {
		return false
	}
	p.i += len(lit)
	return p.ended()
}

// ended reports whether a scalar is followed by what may end it inside a
// container (the top level is always an object).
func (p *recordReader) ended() bool {
	switch p.peek() {
	case ',', '}', ']':
		return true
	}
	return false
}

func (p *recordReader) skipObject() bool {
	if !p.open('{') {
		return false
	}
	if p.empty('}') {
		return true
	}
	for more := true; more; {
		if _, _, ok := p.str(); !ok || p.peek() != ':' {
			return false
		}
		p.i++
		if !p.value(nil) {
			return false
		}
		var ok bool
		if more, ok = p.next('}'); !ok {
			return false
		}
	}
	return true
}

func (p *recordReader) skipArray() bool {
	if !p.open('[') {
		return false
	}
	if p.empty(']') {
		return true
	}
	for more := true; more; {
		if !p.value(nil) {
			return false
		}
		var ok bool
		if more, ok = p.next(']'); !ok {
			return false
		}
	}
	return true
}

// pick reads an object, keeping in dst[j] the first member named exactly
// names[j], as fastjson's Get finds it.
func (p *recordReader) pick(names []string, dst []member) bool {
	if !p.open('{') {
		return false
	}
	if p.empty('}') {
		return true
	}
	for more := true; more; {
		k, ok := p.key()
		if !ok {
			return false
		}
		var d *member
		for j, name := range names {
			if name == string(k) && dst[j].kind == kindAbsent {
				d = &dst[j]
				break
			}
		}
		if !p.value(d) {
			return false
		}
		if more, ok = p.next('}'); !ok {
			return false
		}
	}
	return true
}

// record reads the top-level object.
func (p *recordReader) record(m *members) bool {
	if !p.open('{') {
		return false
	}
	if p.empty('}') {
		return true
	}
	for more := true; more; {
		k, ok := p.key()
		if !ok {
			return false
		}
		i := recordMember(k)
		switch {
		case i < 0 || m.rec[i].kind != kindAbsent:
			ok = p.value(nil)
		case p.peek() == '{' && i == mUserIdentity:
			ok = p.identity(m)
			m.rec[i].kind = kindObject
		case p.peek() == '{' && i == mInsightDetails:
			ok = p.pick(insightNames, m.insight[:])
			m.rec[i].kind = kindObject
		case p.peek() == '{' && i == mResponseElements:
			ok = p.pick(responseNames, m.response[:])
			m.rec[i].kind = kindObject
		case p.peek() == '{' && i == mRequestParameters:
			start := p.i
			ok = p.pick(requestNames, m.request[:])
			m.rec[i] = member{kind: kindObject, text: p.b[start:p.i]}
		case p.peek() == '[' && i == mRequestParameters:
			start := p.i
			ok = p.skipArray()
			m.rec[i] = member{kind: kindArray, text: p.b[start:p.i]}
		case p.peek() == '[' && i == mResources:
			ok = p.resources(m)
			m.rec[i].kind = kindArray
		default:
			ok = p.value(&m.rec[i])
			if i == mRequestParameters {
				// appendCompact's text of a boolean.
				switch m.rec[i].kind {
				case kindTrue:
					m.rec[i].text = trueText
				case kindFalse:
					m.rec[i].text = falseText
				}
			}
		}
		if !ok {
			return false
		}
		if more, ok = p.next('}'); !ok {
			return false
		}
	}
	return true
}

// identity reads userIdentity, an object.
func (p *recordReader) identity(m *members) bool {
	if !p.open('{') {
		return false
	}
	if p.empty('}') {
		return true
	}
	for more := true; more; {
		k, ok := p.key()
		if !ok {
			return false
		}
		i := identityMember(k)
		switch {
		case i < 0 || m.id[i].kind != kindAbsent:
			ok = p.value(nil)
		case p.peek() == '{' && i == iSessionContext:
			ok = p.sessionContext(m)
			m.id[i].kind = kindObject
		case p.peek() == '{' && i == iOnBehalfOf:
			ok = p.pick(onBehalfOfNames, m.onBehalfOf[:])
			m.id[i].kind = kindObject
		default:
			ok = p.value(&m.id[i])
		}
		if !ok {
			return false
		}
		if more, ok = p.next('}'); !ok {
			return false
		}
	}
	return true
}

// sessionContext reads userIdentity.sessionContext, an object: the first
// sessionIssuer and attributes members, as fastjson's Get finds them.
func (p *recordReader) sessionContext(m *members) bool {
	if !p.open('{') {
		return false
	}
	if p.empty('}') {
		return true
	}
	var seenIssuer, seenAttributes bool
	for more := true; more; {
		k, ok := p.key()
		if !ok {
			return false
		}
		switch {
		case string(k) == "sessionIssuer" && !seenIssuer:
			seenIssuer = true
			if p.peek() == '{' {
				ok = p.pick(issuerNames, m.issuer[:])
			} else {
				ok = p.value(nil)
			}
		case string(k) == "attributes" && !seenAttributes:
			seenAttributes = true
			if p.peek() == '{' {
				ok = p.pick(attributeNames, m.attributes[:])
			} else {
				ok = p.value(nil)
			}
		default:
			ok = p.value(nil)
		}
		if !ok {
			return false
		}
		if more, ok = p.next('}'); !ok {
			return false
		}
	}
	return true
}

// resources reads resources[], an array, keeping the members of each
// object in it.
func (p *recordReader) resources(m *members) bool {
	if !p.open('[') {
		return false
	}
	if p.empty(']') {
		return true
	}
	for more := true; more; {
		var ok bool
		if p.peek() == '{' {
			m.resources = append(m.resources, [4]member{})
			ok = p.pick(resourceNames, m.resources[len(m.resources)-1][:])
		} else {
			ok = p.value(nil)
		}
		if !ok {
			return false
		}
		if more, ok = p.next(']'); !ok {
			return false
		}
	}
	return true
}

// unescape returns the text of a string's raw, valid escapes exactly as
// fastjson's StringBytes does (a surrogate not followed by an escape stays
// escaped; a surrogate followed by one pairs with it, or becomes U+FFFD),
// written to sc.vals.
func (sc *scratch) unescape(raw []byte) []byte {
	start := len(sc.vals)
	b := sc.vals
	for i := 0; i < len(raw); {
		c := raw[i]
		if c != '\\' {
			j := i + 1
			for j < len(raw) && raw[j] != '\\' {
				j++
			}
			b = append(b, raw[i:j]...)
			i = j
			continue
		}
		if c, ok := simpleEscape(raw[i+1]); ok {
			b = append(b, c)
			i += 2
			continue
		}
		// The text was checked, so what remains is \uXXXX.
		r, _ := hex4(raw, i+2)
		i += 6
		if !utf16.IsSurrogate(r) {
			b = utf8.AppendRune(b, r)
			continue
		}
		lo, ok := hex4(raw, i+2)
		if i+6 > len(raw) || raw[i] != '\\' || raw[i+1] != 'u' || !ok {
			b = append(b, raw[i-6:i]...)
			continue
		}
		b = utf8.AppendRune(b, utf16.DecodeRune(r, lo))
		i += 6
	}
	sc.vals = b
	return b[start:]
}
