package slack

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// ellipsis ends a value that was cut.
const ellipsis = "…"

// escapedRune is how one rune of event text appears in Slack text: &, < and >
// become the entities Slack requires, so no event can write a mention or a
// link; control characters become U+FFFD; bidirectional controls (which can
// make "gpj.exe" read as "exe.jpg") and invisible characters (zero-width
// spaces and joiners, word joiner, byte order mark, line and paragraph
// separators, which can hide text or break a line Slack would not count) become
// a visible [U+202E] marker.
func escapedRune(r rune, oneLine bool) string {
	switch {
	case r == '&':
		return "&amp;"
	case r == '<':
		return "&lt;"
	case r == '>':
		return "&gt;"
	case r == '\n' || r == '\t':
		if oneLine {
			return " "
		}
		return string(r)
	case r == '\r':
		if oneLine {
			return " "
		}
		return ""
	case r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f):
		return "\uFFFD"
	case isBidiControl(r) || isInvisible(r):
		return fmt.Sprintf("[U+%04X]", r)
	}
	return string(r)
}

func isBidiControl(r rune) bool {
	return r == 0x061C || r == 0x200E || r == 0x200F ||
		(r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069)
}

// isInvisible reports the characters that show nothing or break a line by
// themselves: U+200B–U+200D, U+2060, U+FEFF, U+2028 and U+2029.
func isInvisible(r rune) bool {
	return (r >= 0x200B && r <= 0x200D) || r == 0x2060 || r == 0xFEFF || r == 0x2028 || r == 0x2029
}

// escape makes event text safe for Slack and cuts it to at most max runes
// (counted after escaping, as Slack counts what it receives), ending a cut
// value with "…". It never cuts inside an entity, and it separates
// consecutive backticks with a zero-width space so event text can neither
// open a code block nor close the fence it is shown in.
func escape(s string, max int) string { return escapeText(s, max, false) }

// escapeLine is escape for one-line contexts: line breaks and tabs become
// spaces.
func escapeLine(s string, max int) string { return escapeText(s, max, true) }

func escapeText(s string, max int, oneLine bool) string {
	if max <= 0 || s == "" {
		return ""
	}
	if len(s) <= max && plainText(s, oneLine) {
		return s
	}
	var b strings.Builder
	b.Grow(min(len(s), 4*max) + 8)
	n, cut := 0, -1
	prev := rune(0)
	for _, r := range s { // invalid UTF-8 decodes as U+FFFD
		var piece string
		pn := 1
		if !plainRune(r, oneLine) {
			piece = escapedRune(r, oneLine)
			pn = utf8.RuneCountInString(piece)
		}
		if r == '`' && prev == '`' {
			// No run of backticks may open or close a code block.
			piece, pn = zeroWidthSpace+"`", 2
		}
		prev = r
		if cut < 0 && n+pn > max-1 {
			cut = b.Len() // where a cut value ends, leaving room for "…"
		}
		if n+pn > max {
			return b.String()[:cut] + ellipsis
		}
		if piece == "" && pn == 1 {
			b.WriteRune(r)
		} else {
			b.WriteString(piece)
		}
		n += pn
	}
	return b.String()
}

// plainRune reports whether r appears in Slack text as itself.
func plainRune(r rune, oneLine bool) bool {
	switch {
	case r == '&' || r == '<' || r == '>' || r == utf8.RuneError:
		return false
	case r == '\n' || r == '\t':
		return !oneLine
	case r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f):
		return false
	}
	return !isBidiControl(r) && !isInvisible(r)
}

// plainText reports whether every rune of s appears as itself and no two
// backticks meet, so s needs no escaping.
func plainText(s string, oneLine bool) bool {
	prev := rune(0)
	for _, r := range s {
		if !plainRune(r, oneLine) || (r == '`' && prev == '`') {
			return false
		}
		prev = r
	}
	return true
}

// zeroWidthSpace separates consecutive backticks, so that no run of them in
// event text can open or close a code block.
const zeroWidthSpace = "\u200b"

// codeBlock is a mrkdwn label followed by event text in a ``` fence, the
// whole at most max runes. It is "" when the content is empty.
func codeBlock(label, content string, max int) string {
	content = strings.TrimSpace(content)
	if content == "" {
		return ""
	}
	const open, close = "\n```\n", "\n```"
	budget := max - utf8.RuneCountInString(label) - utf8.RuneCountInString(open) - utf8.RuneCountInString(close)
	return label + open + escape(content, budget) + close
}

// inlineCode shows a short event value as `code` on one line, at most max
// runes with the backticks, and "" when the value is blank.
//
// Slack has no escape for its formatting characters (* _ ~ ` and a leading >),
// so event text that reaches a mrkdwn object goes into a code span or a code
// block, where Slack formats nothing (the entities &amp; &lt; &gt; are still
// decoded, so the text reads as it was). The value cannot close its span: a
// backtick in it becomes the look-alike ˋ (U+02CB); line breaks become spaces,
// so a value never starts a line of its own; white space at either end is
// dropped, as Slack would not show a span that starts with it.
func inlineCode(s string, max int) string {
	s = strings.TrimSpace(strings.ReplaceAll(s, "`", "ˋ"))
	if s == "" || max < 3 {
		return ""
	}
	inner := strings.TrimSpace(escapeLine(s, max-2))
	if inner == "" {
		return ""
	}
	return "`" + inner + "`"
}

// codeLines shows multi-line event text in mrkdwn: each non-blank line of s
// is its own code span (see inlineCode), one per line, the whole at most max
// runes. Every line it writes starts with a backtick, so no line of the value
// can pass for one of the renderer's (a bold label, "Missing:", a quote).
func codeLines(s string, max int) string {
	var b strings.Builder
	n := 0
	lines := strings.Split(strings.ReplaceAll(s, "\r", ""), "\n")
	for _, line := range lines {
		if strings.TrimSpace(line) == "" {
			continue
		}
		sep := 0
		if b.Len() > 0 {
			sep = 1
		}
		room := max - n - sep
		if room < 4 {
			break
		}
		c := inlineCode(line, room)
		if c == "" {
			continue
		}
		if sep == 1 {
			b.WriteByte('\n')
		}
		b.WriteString(c)
		n += sep + runes(c)
	}
	return b.String()
}

// label is the renderer's bold label for a name that came with the event (a
// display field's key): on one line, without Slack's formatting characters,
// so it can neither end the bold early nor format what follows.
func label(s string, max int) string {
	s = strings.Map(func(r rune) rune {
		if strings.ContainsRune("*_~`", r) {
			return -1
		}
		return r
	}, s)
	s = strings.TrimSpace(escapeLine(s, max))
	if s == "" {
		s = "Field"
	}
	return "*" + s + "*"
}

// unescape reverses the entity escaping, for terminal previews.
func unescape(s string) string {
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(s)
}

// runes is the length Slack measures.
func runes(s string) int { return utf8.RuneCountInString(s) }
