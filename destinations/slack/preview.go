package slack

import (
	"fmt"
	"regexp"
	"strings"

	slackapi "github.com/slack-go/slack"
)

// Preview is a readable terminal rendering of a rendered message, for
// `aaids replay --format text`: the header underlined, sections and fields as
// lines, buttons as "[title] url", the context line last. Entities are shown
// as the characters they stand for; control characters never reach it (the
// renderer replaced them), and any that a hand-built message carries are
// dropped.
func Preview(msg *slackapi.WebhookMessage) string {
	if msg == nil {
		return ""
	}
	var b strings.Builder
	line := func(s string) {
		b.WriteString(TerminalSafe(unescape(uncode(s))))
		b.WriteByte('\n')
	}
	if msg.Blocks == nil || len(msg.Blocks.BlockSet) == 0 {
		line(msg.Text)
		return b.String()
	}
	for _, blk := range msg.Blocks.BlockSet {
		switch blk := blk.(type) {
		case *slackapi.HeaderBlock:
			if blk.Text != nil {
				line(blk.Text.Text)
				line(strings.Repeat("=", min(runes(blk.Text.Text), 72)))
			}
		case *slackapi.SectionBlock:
			if blk.Text != nil {
				line(blk.Text.Text)
			}
			for _, f := range blk.Fields {
				label, value, ok := strings.Cut(f.Text, "\n")
				if !ok {
					line("  " + f.Text)
					continue
				}
				label = strings.Trim(label, "*")
				value = strings.ReplaceAll(value, "\n", "\n    ")
				line("  " + label + ": " + value)
			}
		case *slackapi.ContextBlock:
			parts := make([]string, 0, len(blk.ContextElements.Elements))
			for _, e := range blk.ContextElements.Elements {
				if t, ok := e.(*slackapi.TextBlockObject); ok {
					parts = append(parts, t.Text)
				}
			}
			line(strings.Join(parts, " · "))
		case *slackapi.ActionBlock:
			if blk.Elements == nil {
				continue
			}
			for _, e := range blk.Elements.ElementSet {
				if btn, ok := e.(*slackapi.ButtonBlockElement); ok && btn.Text != nil {
					line("[" + btn.Text.Text + "] " + btn.URL)
				}
			}
		case *slackapi.DividerBlock:
			line("---")
		}
	}
	return b.String()
}

// codeSpan matches the renderer's one-line code spans; their backticks are
// the renderer's (event text cannot carry one, see inlineCode).
var codeSpan = regexp.MustCompile("`([^`\n]+)`")

// uncode shows code spans as their text: a terminal has no code style.
func uncode(s string) string { return codeSpan.ReplaceAllString(s, "$1") }

// TerminalSafe makes text safe to print on a terminal: control characters
// other than newline and tab (ESC, BEL, carriage return, C1 controls) are
// dropped, so no escape sequence or overwritten line reaches the reader, and
// bidirectional and invisible characters are shown as a [U+202E] marker, as
// in Slack. It is the one sanitizer for everything aaids prints that came
// with an event: the text preview and every line on stderr.
func TerminalSafe(s string) string {
	clean := true
	for _, r := range s {
		if terminalUnsafe(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r == '\n' || r == '\t':
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f):
		case isBidiControl(r) || isInvisible(r):
			fmt.Fprintf(&b, "[U+%04X]", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func terminalUnsafe(r rune) bool {
	return (r < 0x20 && r != '\n' && r != '\t') || r == 0x7f || (r >= 0x80 && r <= 0x9f) || isBidiControl(r) || isInvisible(r)
}
