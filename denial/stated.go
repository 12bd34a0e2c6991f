package denial

import (
	"strings"
	"unicode/utf8"
)

// notAuthorized is the phrase before the action in AWS's access-denied
// wording.
const notAuthorized = "not authorized to perform"

// statedMatch is what statedIn finds: the action and, when the message names
// it, the resource, quoted (S3), as an ARN after an optional type word (IAM's
// "policy arn:…") or as any other word.
type statedMatch struct {
	action, quoted, arn, other string
}

// statedIn finds the action and resource in AWS's wording: "is not
// authorized to perform: iam:GetPolicy on resource: arn:…", S3's quoted
// resource, IAM's typed one ("on resource: policy arn:…") and STS's "Not
// authorized to perform sts:AssumeRoleWithWebIdentity". It finds what the
// regular expression
//
//	(?i)not authorized to perform:?\s+([a-z0-9-]+:[a-z0-9*]+)(?:\s+on\s+resource:?\s+(?:"([^"]*)"|(?:[a-z-]+\s+)?(arn:\S+)|(\S+)))?
//
// finds, submatch for submatch (FuzzStatedIn holds it to that), at a
// fraction of its cost: the denial explanation runs on every denied record.
func statedIn(s string) (statedMatch, bool) {
	for j := 0; j+len(notAuthorized) <= len(s); j++ {
		if s[j]|0x20 != 'n' {
			continue
		}
		if m, ok := statedAt(s, j); ok {
			return m, true
		}
	}
	return statedMatch{}, false
}

// statedAt is statedIn's match starting at s[j], if there is one.
func statedAt(s string, j int) (statedMatch, bool) {
	var m statedMatch
	i, ok := foldPrefix(s, j, notAuthorized)
	if !ok {
		return m, false
	}
	if i, ok = colonSpace(s, i); !ok {
		return m, false
	}
	service := classRun(s, i, true, '-')
	if service == i || service == len(s) || s[service] != ':' {
		return m, false
	}
	end := classRun(s, service+1, true, '*')
	if end == service+1 {
		return m, false
	}
	m.action = s[i:end]
	// The resource is optional: any mismatch below leaves it out.
	i = spaces(s, end)
	if i == end {
		return m, true
	}
	if i, ok = foldPrefix(s, i, "on"); !ok {
		return m, true
	}
	if at := spaces(s, i); at == i {
		return m, true
	} else if i, ok = foldPrefix(s, at, "resource"); !ok {
		return m, true
	}
	if i, ok = colonSpace(s, i); !ok {
		return m, true
	}
	if i < len(s) && s[i] == '"' {
		if q := strings.IndexByte(s[i+1:], '"'); q >= 0 {
			m.quoted = s[i+1 : i+1+q]
			return m, true
		}
	}
	if word := classRun(s, i, false, '-'); word > i {
		if at := spaces(s, word); at > word {
			if end, ok := arnAt(s, at); ok {
				m.arn = s[at:end]
				return m, true
			}
		}
	}
	if end, ok := arnAt(s, i); ok {
		m.arn = s[i:end]
		return m, true
	}
	m.other = s[i:nonSpaces(s, i)]
	return m, true
}

// isSpace reports whether b is a space as a regular expression's \s means
// it.
func isSpace(b byte) bool {
	return b == ' ' || b == '\t' || b == '\n' || b == '\f' || b == '\r'
}

// spaces returns the end of the run of spaces at s[i:].
func spaces(s string, i int) int {
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	return i
}

// nonSpaces returns the end of the run of non-spaces at s[i:].
func nonSpaces(s string, i int) int {
	for i < len(s) && !isSpace(s[i]) {
		i++
	}
	return i
}

// colonSpace matches `:?\s+` at s[i:], returning its end.
func colonSpace(s string, i int) (int, bool) {
	if i < len(s) && s[i] == ':' {
		i++
	}
	end := spaces(s, i)
	return end, end > i
}

// arnAt matches `(?i)arn:\S+` at s[i:], returning its end.
func arnAt(s string, i int) (int, bool) {
	at, ok := foldPrefix(s, i, "arn:")
	if !ok {
		return 0, false
	}
	end := nonSpaces(s, at)
	return end, end > at
}

// foldPrefix matches the lower-case ASCII literal lit at s[i:] as a regular
// expression's (?i) does (with Unicode's simple case folding, so "ſ" matches
// an s and the Kelvin sign a k), returning its end.
func foldPrefix(s string, i int, lit string) (int, bool) {
	for n := 0; n < len(lit); n++ {
		if i >= len(s) {
			return 0, false
		}
		c, b := lit[n], s[i]
		if b < utf8.RuneSelf {
			if b != c && !('a' <= c && c <= 'z' && b == c-'a'+'A') {
				return 0, false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if !foldsTo(r, c) {
			return 0, false
		}
		i += size
	}
	return i, true
}

// foldsTo reports whether the non-ASCII rune r matches the ASCII letter c
// under simple case folding: only the long s and the Kelvin sign do.
func foldsTo(r rune, c byte) bool {
	return r == 'ſ' && c == 's' || r == '\u212a' && c == 'k'
}

// classRun returns the end of the run at s[i:] of the characters
// (?i)[a-z0-9-] or (?i)[a-z0-9*] match (digits and the extra character
// extra), or of (?i)[a-z-] (no digits).
func classRun(s string, i int, digits bool, extra byte) int {
	for i < len(s) {
		b := s[i]
		switch {
		case 'a' <= b|0x20 && b|0x20 <= 'z', b == extra, digits && '0' <= b && b <= '9':
			i++
		case b >= utf8.RuneSelf:
			r, size := utf8.DecodeRuneInString(s[i:])
			if !foldsTo(r, 's') && !foldsTo(r, 'k') {
				return i
			}
			i += size
		default:
			return i
		}
	}
	return i
}
