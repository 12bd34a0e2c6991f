// Package eventtext makes attacker-controlled text (user agents, session and
// resource names, error messages: anything an activity carries) safe for the
// plain-text and light-markup formats of the destinations other than Slack
// (PagerDuty summaries, Adaptive Card text, e-mail subjects and bodies).
//
// Line is the one walker: it keeps every value on one line (line breaks and
// tabs become spaces, so no value can start a line that looks like ours),
// shows control characters as U+FFFD and bidirectional, zero-width and
// line-separator characters as a visible [U+XXXX] marker, defangs URL schemes
// ("https://" → "https[:]//"), "www." and bare host names ending in a
// top-level domain ("evil[.]com") so no client turns them into links, lets the format map its own special characters (Escape), and cuts by
// runes with "…" within the format's limit, counted on what is sent.
package eventtext

import (
	"fmt"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"golang.org/x/net/publicsuffix"
)

// Ellipsis ends a value that was cut.
const Ellipsis = "…"

// Escape maps one rune special to a format to what the format shows instead;
// ok false keeps the rune.
type Escape func(r rune) (replacement string, ok bool)

// Invisible reports the runes that change how text reads without being seen:
// bidirectional controls, zero-width characters, line and paragraph
// separators, the byte-order mark.
func Invisible(r rune) bool {
	switch {
	case r == 0x061C, r == 0x180E, r == 0xFEFF:
		return true
	case r >= 0x200B && r <= 0x200F, r >= 0x2028 && r <= 0x202E, r >= 0x2060 && r <= 0x2069:
		return true
	}
	return false
}

// Defang breaks every URL scheme separator (":/" → "[:]/", so "https://",
// "hxxp://" and "0https://" alike), every "www." host ("www[.]", any case,
// even inside a word) and every bare host name ending in a top-level domain
// of ICANN's public suffix list: the dot before each such label becomes
// "[.]" ("evil.com" → "evil[.]com", "a.com.b.org" → "a[.]com.b[.]org"), so
// no client links them. Names whose last label is no TLD ("alice.smith",
// "gpj.exe", "aws-cli/2.15.0") stay as they are.
func Defang(s string) string {
	if !strings.ContainsAny(s, ".:") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == ':' && i+1 < len(s) && s[i+1] == '/':
			b.WriteString("[:]")
		case s[i] == '.' && (i >= 3 && strings.EqualFold(s[i-3:i], "www") || tldFollows(s, i)):
			b.WriteString("[.]")
		default:
			b.WriteByte(s[i])
		}
	}
	if b.Len() == len(s) {
		return s
	}
	return b.String()
}

// tldFollows reports whether the dot at s[i] ends a host label and starts a
// label that is an ICANN top-level domain ("com", "zip", "рф").
func tldFollows(s string, i int) bool {
	if i == 0 {
		return false
	}
	if r, _ := utf8.DecodeLastRuneInString(s[:i]); !hostRune(r) {
		return false
	}
	j := i + 1
	for j < len(s) {
		r, n := utf8.DecodeRuneInString(s[j:])
		if !hostRune(r) {
			break
		}
		j += n
	}
	label := s[i+1 : j]
	if len(label) < 2 || strings.ContainsAny(label, "-0123456789") && !strings.HasPrefix(strings.ToLower(label), "xn--") {
		return false
	}
	tld, err := idna.Lookup.ToASCII(label)
	if err != nil {
		return false
	}
	suffix, icann := publicsuffix.PublicSuffix(strings.ToLower(tld))
	return icann && suffix == strings.ToLower(tld)
}

// hostRune reports the runes a host label is made of, in any script.
func hostRune(r rune) bool {
	return r == '-' || unicode.IsLetter(r) || unicode.IsDigit(r)
}

// Line returns s as one line of safe text of at most max runes (0 or less:
// ""), with esc (nil: none) applied to the format's special runes.
func Line(s string, max int, esc Escape) string {
	if max <= 0 || s == "" {
		return ""
	}
	var b strings.Builder
	b.Grow(min(len(s), 4*max) + 8)
	for _, r := range s { // invalid UTF-8 decodes as U+FFFD
		switch {
		case r == '\n' || r == '\r' || r == '\t' || r == 0x0B || r == 0x0C || r == 0x85:
			b.WriteByte(' ')
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f):
			b.WriteRune(utf8.RuneError)
		case Invisible(r):
			fmt.Fprintf(&b, "[U+%04X]", r)
		default:
			if esc != nil {
				if rep, ok := esc(r); ok {
					b.WriteString(rep)
					continue
				}
			}
			b.WriteRune(r)
		}
		if b.Len() > 8*max+64 {
			break // far beyond the limit: the rest is cut anyway
		}
	}
	return Cut(Defang(b.String()), max)
}

// Cut returns s within max runes, ending a cut value with Ellipsis.
func Cut(s string, max int) string {
	if max <= 0 {
		return ""
	}
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	n := 0
	for i := range s {
		if n == max-1 {
			return s[:i] + Ellipsis
		}
		n++
	}
	return s
}

// consoleHosts are the AWS Management Console's hosts per partition; a
// region's console is a subdomain.
var consoleHosts = []string{"console.aws.amazon.com", "console.amazonaws-us-gov.com", "console.amazonaws.cn"}

// ConsoleURL reports whether raw is an https link to the AWS Management
// Console, the only links a destination shows: a link from the bus may come
// from any producer.
func ConsoleURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.User != nil || u.Port() != "" || len(raw) > 3000 || strings.ContainsAny(raw, " \t\r\n<>\"") {
		return false
	}
	host := strings.ToLower(u.Hostname())
	for _, h := range consoleHosts {
		if host == h || strings.HasSuffix(host, "."+h) {
			return true
		}
	}
	return false
}
