// Package jsonscan is the project's one hand-written JSON scanning: a strict
// validity and compactness check, the summarizing of nesting too deep for a
// parser, and a fast path for decoding a CloudWatch Logs subscription batch
// of the shape CloudWatch Logs writes, which checks each message as it
// unescapes it. The CloudTrail source uses it to decode its batches
// (DecodeLogsData, or goccy/go-json for anything else), to vouch for the
// records it copies into activities (fastjson, which parses them, is
// lenient) and to keep the activity of a record nested beyond
// fastjson's depth limit; the activity encoder uses Check for raw members it
// has not been told are checked. Fuzz targets hold each to encoding/json.
package jsonscan

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math/bits"
	"unicode/utf16"
	"unicode/utf8"
)

// Check reports whether text is strictly valid JSON (RFC 8259, as
// encoding/json validates it) and whether it is compact (no whitespace
// outside strings, so encoding/json copies it unchanged), in one pass. Text
// with a control byte (whitespace or worse; compact JSON has none) gets
// encoding/json's validator.
func Check(text []byte) (valid, compact bool) {
	valid, compact, undecided := scan(text, nil, false)
	if undecided {
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

// escape returns the length of the valid escape at b[i] (a backslash), 2 or
// 6, or 0 when it is not one JSON allows.
func escape(b []byte, i int) int {
	switch {
	case i+1 >= len(b):
		return 0
	case simple[b[i+1]] != 0:
		return 2
	case b[i+1] == 'u':
		if _, ok := hex4(b, i+2); ok {
			return 6
		}
	}
	return 0
}

// simple maps the letter of each two-byte escape to the byte it stands for.
var simple = [256]byte{'"': '"', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'}

// pair returns the rune of the surrogate pair whose high half r1 is the
// \u escape at b[i], when a low half's escape follows it.
func pair(b []byte, i int, r1 rune) (rune, bool) {
	if i+12 > len(b) || b[i+6] != '\\' || b[i+7] != 'u' {
		return 0, false
	}
	r2, ok := hex4(b, i+8)
	if rn := utf16.DecodeRune(r1, r2); ok && rn != utf8.RuneError {
		return rn, true
	}
	return 0, false
}

// hex4 reads four hex digits at b[i:].
func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// scan checks every string (escapes valid), every scalar outside strings
// (true, false, null or a number of the JSON grammar), the nesting of
// brackets and the separators, and whether a space occurs outside strings;
// it stops undecided at the first control byte (then the other answers are
// moot).
//
// When plain is set, b has no backslash or control byte and quotes holds the
// offset of each of its quotes, in order: a string is then known to be valid
// and to end at the next quote, and is skipped at once. Quotes that do not
// fall where strings start leave it undecided too, for the caller to decide
// otherwise.
func scan(b []byte, quotes []int32, plain bool) (valid, compact, undecided bool) {
	compact = true
	// stack holds the open containers, want what may come next.
	var stack []byte
	const (
		wantValue = iota // a value (after '[', ':', ',' in an array, or at the top)
		wantKey          // a member name (after '{' or ',' in an object)
		wantColon
		wantEnd // ',' or the container's end
	)
	want := wantValue
	for i := 0; i < len(b); {
		c := b[i]
		switch c {
		case '"':
			if want != wantValue && want != wantKey {
				return false, compact, false
			}
			if plain {
				switch {
				case len(quotes) == 0 || int(quotes[0]) != i:
					return false, false, true // not where quotes said
				case len(quotes) == 1:
					return false, compact, false // unterminated
				}
				i, quotes = int(quotes[1])+1, quotes[2:]
			} else {
				for i++; ; {
					// To the first quote, backslash or control byte, eight bytes
					// at a time (above the lowest byte the SWAR test marks, its
					// marks may be false, so only the lowest is used).
					for i+8 <= len(b) {
						x := binary.LittleEndian.Uint64(b[i:])
						q, bs := x^('"'*ones), x^('\\'*ones)
						if m := ((q-ones)&^q | (bs-ones)&^bs | (x-0x20*ones)&^x) & highs; m != 0 {
							i += bits.TrailingZeros64(m) >> 3
							break
						}
						i += 8
					}
					for i < len(b) && b[i] >= 0x20 && b[i] != '"' && b[i] != '\\' {
						i++
					}
					if i >= len(b) {
						return false, compact, false
					}
					if b[i] == '"' {
						i++
						break
					}
					if b[i] < 0x20 {
						return false, false, true
					}
					n := escape(b, i)
					if n == 0 {
						return false, compact, false
					}
					i += n
				}
			}
			if want == wantValue {
				want = wantEnd
				break
			}
			// A member name is followed by its colon (in compact text).
			want = wantColon
			if i < len(b) && b[i] == ':' {
				want, i = wantValue, i+1
			}
			continue
		case ':':
			if want != wantColon {
				return false, compact, false
			}
			want, i = wantValue, i+1
		case '{', '[':
			if want != wantValue {
				return false, compact, false
			}
			stack = append(stack, c)
			want, i = wantValue, i+1
			if c == '{' {
				want = wantKey
			}
			// An empty container closes at once.
			if j := skipSpaces(b, i); j < len(b) && b[j] == c+2 {
				compact = compact && j == i
				stack, want, i = stack[:len(stack)-1], wantEnd, j+1
			}
		case '}', ']':
			if want != wantEnd || len(stack) == 0 || stack[len(stack)-1]+2 != c {
				return false, compact, false
			}
			stack, i = stack[:len(stack)-1], i+1
		case ',':
			if want != wantEnd || len(stack) == 0 {
				return false, compact, false
			}
			want, i = wantValue, i+1
			if stack[len(stack)-1] == '{' {
				want = wantKey
			}
			continue
		case ' ':
			compact = false
			i++
			continue
		default:
			if c < 0x20 {
				return false, false, true
			}
			if want != wantValue {
				return false, compact, false
			}
			j := i + 1
			for j < len(b) && !delimiter(b[j]) {
				j++
			}
			if !scalar(b[i:j]) {
				return false, compact, false
			}
			want, i = wantEnd, j
		}
		if want == wantEnd && len(stack) == 0 {
			// The value is complete: only spaces may follow.
			for ; i < len(b); i++ {
				switch {
				case b[i] == ' ':
					compact = false
				case b[i] < 0x20:
					return false, false, true
				default:
					return false, compact, false
				}
			}
			return true, compact, false
		}
	}
	return false, compact, false
}

// skipSpaces returns the offset of the first byte at or after i that is not
// a space.
func skipSpaces(b []byte, i int) int {
	for i < len(b) && b[i] == ' ' {
		i++
	}
	return i
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
	return number(tok)
}

// number matches -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?.
func number(s []byte) bool {
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

// Summarize returns text, strictly valid JSON, with every object or array
// nested deeper than maxDepth replaced by a JSON string holding the start of
// its text (at most previewBytes bytes of it), and whether it replaced any.
// A parser with a depth limit (fastjson's is 300) reads the result; the
// members above the limit keep their values.
func Summarize(text []byte, maxDepth, previewBytes int) ([]byte, bool) {
	var out []byte
	depth, last, deep := 0, 0, -1 // deep: where the container being cut opened
	for i := 0; i < len(text); i++ {
		switch text[i] {
		case '"':
			for i++; i < len(text) && text[i] != '"'; i++ {
				if text[i] == '\\' {
					i++
				}
			}
		case '{', '[':
			if depth++; depth == maxDepth+1 {
				deep = i
			}
		case '}', ']':
			if depth--; depth == maxDepth && deep >= 0 {
				// json.Marshal writes a rune cut in two as U+FFFD.
				s, _ := json.Marshal(string(text[deep:min(i+1, deep+previewBytes)]) + "…")
				out = append(append(out, text[last:deep]...), s...)
				last, deep = i+1, -1
			}
		}
	}
	if out == nil {
		return text, false
	}
	return append(out, text[last:]...), true
}

// FixLoneSurrogates returns text, strictly valid JSON, with every escaped
// UTF-16 surrogate that has no partner (\ud800 alone, \udc00 first) written
// \ufffd, and whether it changed anything: encoding/json reads such an
// escape as U+FFFD, fastjson keeps its six bytes as text, and the activity
// must read as encoding/json does. The escapes keep their length, so nothing
// else moves; text is returned as it is (no copy) when there is none.
func FixLoneSurrogates(text []byte) ([]byte, bool) {
	if !bytes.Contains(text, []byte(`\u`)) {
		return text, false
	}
	var out []byte
	for i := bytes.IndexByte(text, '\\'); i >= 0 && i+1 < len(text); {
		n := 2
		if text[i+1] == 'u' {
			n = 6
			r, _ := hex4(text, i+2)
			if utf16.IsSurrogate(r) {
				if _, ok := pair(text, i, r); ok {
					n = 12
				} else {
					if out == nil {
						out = bytes.Clone(text)
					}
					copy(out[i+2:i+6], "fffd")
				}
			}
		}
		next := bytes.IndexByte(text[i+n:], '\\')
		if next < 0 {
			break
		}
		i += n + next
	}
	if out == nil {
		return text, false
	}
	return out, true
}
