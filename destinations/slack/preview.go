package slack

import (
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
		b.WriteString(terminalSafe(unescape(uncode(s))))
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

// terminalSafe drops control characters other than newline and tab, so that
// no escape sequence reaches a terminal.
func terminalSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return r
		}
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) {
			return -1
		}
		return r
	}, s)
}
