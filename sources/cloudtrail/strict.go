package cloudtrail

import (
	"bytes"
	"encoding/json"

	"github.com/valyala/fastjson"
)

// strictAfterParse reports whether text, which fastjson's (lenient) parser
// accepted as v, is also strictly valid JSON, without a second full pass in
// the common case. The parser already enforces the structure and literals;
// it is lenient only about control characters and escapes in strings and
// about number syntax, so only those are checked. A text with any control
// byte (whitespace or worse; CloudTrail writes compact JSON) gets
// encoding/json's validator: fastjson's misses a control character that
// precedes an escape.
func strictAfterParse(text []byte, v *fastjson.Value) bool {
	for _, c := range text {
		if c < 0x20 {
			return json.Valid(text)
		}
	}
	return validEscapes(text) && validNumbers(v, 0)
}

// validEscapes checks every backslash escape. In text the parser accepted,
// backslashes occur only inside strings.
func validEscapes(b []byte) bool {
	for {
		i := bytes.IndexByte(b, '\\')
		if i < 0 {
			return true
		}
		if i+1 >= len(b) {
			return false
		}
		switch b[i+1] {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			b = b[i+2:]
		case 'u':
			if i+6 > len(b) {
				return false
			}
			for _, c := range b[i+2 : i+6] {
				if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
					return false
				}
			}
			b = b[i+6:]
		default:
			return false
		}
	}
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
