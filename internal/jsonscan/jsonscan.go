package cloudtrail

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math/bits"
)

// strictAfterParse reports whether text, which fastjson's (lenient) parser
// accepted, is also strictly valid JSON, and whether it is compact (no
// whitespace outside strings, so encoding/json would copy it unchanged),
// without a second parse. The parser already enforces the structure (braces,
// brackets, commas, colons); it is lenient about control characters and
// escapes in strings and about scalars (NaN, Inf, 01, 1.), so one scan checks
// those. A text with any control byte (whitespace or worse; CloudTrail writes
// compact JSON) gets encoding/json's validator: fastjson's misses a control
// character that precedes an escape.
func strictAfterParse(text []byte) (valid, compact bool) {
	valid, compact, control := scanText(text)
	if control {
		return json.Valid(text), false
	}
	return valid, compact
}

// SWAR constants: a byte-wise "has a byte equal to / less than" test on eight
// bytes at a time.
const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// stringSpecial marks, in the high bit of each byte, the bytes of x (eight
// bytes of text, little-endian) that are a quote, a backslash or a control
// byte: the only bytes that end a plain run inside a JSON string. Above the
// first marked byte the marks may be false positives (borrows), so only the
// lowest mark is exact, which is all the callers use.
func stringSpecial(x uint64) uint64 {
	q := x ^ ('"' * ones)
	bs := x ^ ('\\' * ones)
	return ((q-ones)&^q | (bs-ones)&^bs | (x-0x20*ones)&^x) & highs
}

// plainRun returns the offset of the first quote, backslash or control byte
// in b at or after i, or len(b), eight bytes at a time.
func plainRun(b []byte, i int) int {
	for i+8 <= len(b) {
		if m := stringSpecial(binary.LittleEndian.Uint64(b[i:])); m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
		i += 8
	}
	for i < len(b) && plainStringByte[b[i]] {
		i++
	}
	return i
}

// simpleEscape is the byte a one-character JSON escape (after the backslash)
// stands for; ok is false for 'u' and for anything JSON does not allow.
func simpleEscape(e byte) (c byte, ok bool) {
	switch e {
	case '"', '\\', '/':
		return e, true
	case 'b':
		return '\b', true
	case 'f':
		return '\f', true
	case 'n':
		return '\n', true
	case 'r':
		return '\r', true
	case 't':
		return '\t', true
	}
	return 0, false
}

// Classes of the bytes outside strings, for scanText.
const (
	outScalar     = iota // the start of a literal or a number
	outStructural        // { } [ ] , :
	outQuote
	outSpace
	outControl
)

var outsideClass = func() (t [256]uint8) {
	for c := range 0x20 {
		t[c] = outControl
	}
	for _, c := range []byte("{}[],:") {
		t[c] = outStructural
	}
	t['"'], t[' '] = outQuote, outSpace
	return t
}()

// scanText checks, in one pass over text the parser accepted, every string
// (escapes valid), every scalar outside strings (true, false, null or a
// number of the JSON grammar) and whether a space occurs outside strings; it
// stops at the first control byte (then the other answers are moot). Strings
// are scanned inline, eight bytes at a time: a record holds about a hundred
// short ones, and a call per string costs more than the scan.
func scanText(b []byte) (valid, compact, hasControl bool) {
	compact = true
	for i := 0; i < len(b); {
		switch outsideClass[b[i]] {
		case outStructural:
			i++
		case outQuote:
			i++
		str:
			for {
				i = plainRun(b, i)
				switch {
				case i >= len(b):
					return false, compact, false
				case b[i] == '"':
					i++
					break str
				case b[i] < 0x20:
					return false, false, true
				}
				// A backslash: the escape must be valid.
				if i+1 >= len(b) {
					return false, compact, false
				}
				switch b[i+1] {
				case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
					i += 2
				case 'u':
					if i+6 > len(b) {
						return false, compact, false
					}
					for _, h := range b[i+2 : i+6] {
						if !('0' <= h && h <= '9' || 'a' <= h && h <= 'f' || 'A' <= h && h <= 'F') {
							return false, compact, false
						}
					}
					i += 6
				default:
					return false, compact, false
				}
			}
		case outSpace:
			compact = false
			i++
		case outControl:
			return false, false, true
		default:
			j := i + 1
			for j < len(b) && !delimiter(b[j]) {
				j++
			}
			if !scalar(b[i:j]) {
				return false, compact, false
			}
			i = j
		}
	}
	return true, compact, false
}

// delimiter reports a byte that ends a scalar outside strings.
func delimiter(c byte) bool {
	return c <= ' ' || c == ',' || c == ']' || c == '}' || c == ':' || c == '"' || c == '{' || c == '['
}

// scalar reports whether tok is a JSON literal or number.
func scalar(tok []byte) bool {
	switch tok[0] {
	case 't':
		return bytes.Equal(tok, []byte("true"))
	case 'f':
		return bytes.Equal(tok, []byte("false"))
	case 'n':
		return bytes.Equal(tok, []byte("null"))
	}
	return strictNumber(tok)
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
