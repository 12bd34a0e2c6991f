package cloudtrail

import (
	"encoding/json"

	"github.com/valyala/fastjson"
)

// strictAfterParse reports whether text, which fastjson's (lenient) parser
// accepted as v, is also strictly valid JSON, and whether it is compact (no
// whitespace outside strings, so encoding/json would copy it unchanged),
// without a second full parse. The parser already enforces the structure and
// literals; it is lenient only about control characters and escapes in
// strings and about number syntax, so only those are checked. A text with any
// control byte (whitespace or worse; CloudTrail writes compact JSON) gets
// encoding/json's validator: fastjson's misses a control character that
// precedes an escape.
func strictAfterParse(text []byte, v *fastjson.Value) (valid, compact bool) {
	valid, compact, control := scanText(text)
	if control {
		return json.Valid(text), false
	}
	return valid && validNumbers(v, 0), compact
}

// Byte classes for scanText.
const (
	plain   = iota
	control // below 0x20
	quote
	backslash
	space
)

var byteClass = func() (t [256]uint8) {
	for c := range 0x20 {
		t[c] = control
	}
	t['"'], t['\\'], t[' '] = quote, backslash, space
	return t
}()

// scanText checks, in one pass over text the parser accepted, that every
// backslash escape is valid, whether a space occurs outside strings, and
// whether any control byte occurs (then the other answers are moot).
func scanText(b []byte) (validEscapes, compact, hasControl bool) {
	validEscapes, compact = true, true
	inString := false
	for i := 0; i < len(b); i++ {
		switch byteClass[b[i]] {
		case plain:
		case control:
			return false, false, true
		case quote:
			inString = !inString
		case space:
			if !inString {
				compact = false
			}
		case backslash:
			// Backslashes occur only inside strings in text the parser
			// accepted.
			if i+1 >= len(b) {
				return false, compact, false
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i++
			case 'u':
				if i+6 > len(b) {
					return false, compact, false
				}
				for _, c := range b[i+2 : i+6] {
					if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
						return false, compact, false
					}
				}
				i += 5
			default:
				return false, compact, false
			}
		}
	}
	return validEscapes, compact, false
}

// validNumbers checks every number in v against the JSON grammar.
func validNumbers(v *fastjson.Value, depth int) bool {
	switch v.Type() {
	case fastjson.TypeNumber:
		var buf [32]byte
		return strictNumber(v.MarshalTo(buf[:0]))
	case fastjson.TypeObject:
		ok := true
		o, _ := v.Object()
		o.Visit(func(_ []byte, m *fastjson.Value) {
			ok = ok && validNumbers(m, depth+1)
		})
		return ok
	case fastjson.TypeArray:
		items, _ := v.Array()
		for _, it := range items {
			if !validNumbers(it, depth+1) {
				return false
			}
		}
	}
	return true
}

// strictNumber matches -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?.
func strictNumber(s []byte) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			i++
			n++
		}
		return n
	}
	start := i
	n := digits()
	if n == 0 || (n > 1 && s[start] == '0') {
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}
