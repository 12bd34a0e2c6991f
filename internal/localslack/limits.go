package localslack

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Slack's documented Block Kit and incoming-webhook limits, in characters
// (counted here as Unicode code points).
const (
	MaxBlocks          = 50
	MaxHeaderText      = 150
	MaxText            = 3000
	MaxSectionFields   = 10
	MaxFieldText       = 2000
	MaxContextElements = 10
	MaxActionElements  = 25
	MaxButtonText      = 75
	MaxButtonURL       = 3000
	MaxButtonValue     = 2000
	MaxActionID        = 255
	MaxBlockID         = 255
	MaxMarkdownText    = 12000
	// MaxMessageText is where Slack truncates a message's top-level text.
	MaxMessageText = 40000
)

// The error codes Slack answers in the plain-text body of a refused webhook post.
const (
	CodeInvalidPayload    = "invalid_payload"
	CodeInvalidBlocks     = "invalid_blocks"
	CodeNoText            = "no_text"
	CodeRollupError       = "rollup_error"
	CodeActionProhibited  = "action_prohibited"
	CodeChannelNotFound   = "channel_not_found"
	CodeNoService         = "no_service"
	CodeChannelIsArchived = "channel_is_archived"
	CodeRateLimited       = "rate_limited"
)

// ErrLimit is wrapped by every *LimitError, for errors.Is.
var ErrLimit = errors.New("localslack: message refused")

// LimitError says why a message would be refused: Slack's error code and, for
// a human, which rule it broke and where.
type LimitError struct {
	// Code is the error code Slack answers, e.g. "invalid_blocks".
	Code string
	// Path locates the offending value, e.g. "blocks[3].fields[10]".
	Path string
	// Reason is the rule that was broken.
	Reason string
}

func (e *LimitError) Error() string {
	if e.Path == "" {
		return fmt.Sprintf("localslack: %s: %s", e.Code, e.Reason)
	}
	return fmt.Sprintf("localslack: %s: %s: %s", e.Code, e.Path, e.Reason)
}

// Unwrap makes errors.Is(err, ErrLimit) hold.
func (e *LimitError) Unwrap() error { return ErrLimit }

// messageBlockTypes are the block types Slack accepts in a message.
var messageBlockTypes = map[string]bool{
	"actions": true, "context": true, "divider": true, "file": true, "header": true,
	"image": true, "markdown": true, "rich_text": true, "section": true, "video": true,
	"table": true,
}

// CheckLimits reports whether Slack would accept the webhook payload, and if
// not, the error it would answer: invalid_payload for a body that is not a
// JSON object of the right shape, no_text for a message with neither text nor
// blocks nor attachments, invalid_blocks for any block that breaks Block
// Kit's documented limits.
func CheckLimits(payload []byte) error {
	var msg map[string]json.RawMessage
	if err := json.Unmarshal(payload, &msg); err != nil || msg == nil {
		return &LimitError{Code: CodeInvalidPayload, Reason: "body is not a JSON object"}
	}
	var text string
	if raw, ok := msg["text"]; ok {
		if err := json.Unmarshal(raw, &text); err != nil {
			return &LimitError{Code: CodeInvalidPayload, Path: "text", Reason: "not a string"}
		}
		if n := utf8.RuneCountInString(text); n > MaxMessageText {
			return &LimitError{Code: CodeInvalidPayload, Path: "text", Reason: fmt.Sprintf("%d characters, limit %d", n, MaxMessageText)}
		}
	}
	var blocks []json.RawMessage
	if raw, ok := msg["blocks"]; ok && string(raw) != "null" {
		if err := json.Unmarshal(raw, &blocks); err != nil {
			return &LimitError{Code: CodeInvalidBlocks, Path: "blocks", Reason: "not an array"}
		}
	}
	var attachments []json.RawMessage
	if raw, ok := msg["attachments"]; ok && string(raw) != "null" {
		if err := json.Unmarshal(raw, &attachments); err != nil {
			return &LimitError{Code: CodeInvalidPayload, Path: "attachments", Reason: "not an array"}
		}
	}
	if strings.TrimSpace(text) == "" && len(blocks) == 0 && len(attachments) == 0 {
		return &LimitError{Code: CodeNoText, Reason: "neither text nor blocks nor attachments"}
	}
	if len(blocks) > MaxBlocks {
		return &LimitError{Code: CodeInvalidBlocks, Path: "blocks", Reason: fmt.Sprintf("%d blocks, limit %d", len(blocks), MaxBlocks)}
	}
	seenIDs := map[string]bool{}
	for i, raw := range blocks {
		if err := checkBlock(fmt.Sprintf("blocks[%d]", i), raw, seenIDs); err != nil {
			return err
		}
	}
	return nil
}

// block is the union of the block members this checker reads.
type block struct {
	Type     *string           `json:"type"`
	BlockID  *string           `json:"block_id"`
	Text     json.RawMessage   `json:"text"`
	Fields   []json.RawMessage `json:"fields"`
	Elements []json.RawMessage `json:"elements"`
}

func invalidBlock(path, format string, args ...any) error {
	return &LimitError{Code: CodeInvalidBlocks, Path: path, Reason: fmt.Sprintf(format, args...)}
}

func checkBlock(path string, raw json.RawMessage, seenIDs map[string]bool) error {
	var b block
	if err := json.Unmarshal(raw, &b); err != nil {
		return invalidBlock(path, "not a block object")
	}
	if b.Type == nil || !messageBlockTypes[*b.Type] {
		return invalidBlock(path, "missing or unknown block type")
	}
	if b.BlockID != nil {
		if *b.BlockID == "" || utf8.RuneCountInString(*b.BlockID) > MaxBlockID {
			return invalidBlock(path+".block_id", "empty or longer than %d", MaxBlockID)
		}
		if seenIDs[*b.BlockID] {
			return invalidBlock(path+".block_id", "duplicate block_id")
		}
		seenIDs[*b.BlockID] = true
	}
	switch *b.Type {
	case "header":
		if b.Text == nil {
			return invalidBlock(path, "header without text")
		}
		return checkText(path+".text", b.Text, MaxHeaderText, "plain_text")
	case "section":
		if b.Text == nil && b.Fields == nil {
			return invalidBlock(path, "section needs text or fields")
		}
		if b.Text != nil {
			if err := checkText(path+".text", b.Text, MaxText, "plain_text", "mrkdwn"); err != nil {
				return err
			}
		}
		if b.Fields != nil {
			if len(b.Fields) == 0 || len(b.Fields) > MaxSectionFields {
				return invalidBlock(path+".fields", "%d fields, want 1 to %d", len(b.Fields), MaxSectionFields)
			}
			for j, f := range b.Fields {
				if err := checkText(fmt.Sprintf("%s.fields[%d]", path, j), f, MaxFieldText, "plain_text", "mrkdwn"); err != nil {
					return err
				}
			}
		}
	case "context":
		if len(b.Elements) == 0 || len(b.Elements) > MaxContextElements {
			return invalidBlock(path+".elements", "%d elements, want 1 to %d", len(b.Elements), MaxContextElements)
		}
		for j, e := range b.Elements {
			p := fmt.Sprintf("%s.elements[%d]", path, j)
			if elementType(e) == "image" {
				continue
			}
			if err := checkText(p, e, MaxText, "plain_text", "mrkdwn"); err != nil {
				return err
			}
		}
	case "actions":
		if len(b.Elements) == 0 || len(b.Elements) > MaxActionElements {
			return invalidBlock(path+".elements", "%d elements, want 1 to %d", len(b.Elements), MaxActionElements)
		}
		actionIDs := map[string]bool{}
		for j, e := range b.Elements {
			if err := checkActionElement(fmt.Sprintf("%s.elements[%d]", path, j), e, actionIDs); err != nil {
				return err
			}
		}
	case "markdown":
		var s string
		if err := json.Unmarshal(b.Text, &s); err != nil || s == "" || utf8.RuneCountInString(s) > MaxMarkdownText {
			return invalidBlock(path+".text", "markdown text must be a string of 1 to %d characters", MaxMarkdownText)
		}
	}
	return nil
}

func elementType(raw json.RawMessage) string {
	var e struct {
		Type string `json:"type"`
	}
	_ = json.Unmarshal(raw, &e)
	return e.Type
}

// checkText checks a text composition object: an allowed type and a text of 1
// to max characters.
func checkText(path string, raw json.RawMessage, max int, types ...string) error {
	var t struct {
		Type *string `json:"type"`
		Text *string `json:"text"`
	}
	if err := json.Unmarshal(raw, &t); err != nil {
		return invalidBlock(path, "not a text object")
	}
	if t.Type == nil || !contains(types, *t.Type) {
		return invalidBlock(path+".type", "want one of %s", strings.Join(types, ", "))
	}
	if t.Text == nil || *t.Text == "" {
		return invalidBlock(path+".text", "empty text")
	}
	if n := utf8.RuneCountInString(*t.Text); n > max {
		return invalidBlock(path+".text", "%d characters, limit %d", n, max)
	}
	return nil
}

func checkActionElement(path string, raw json.RawMessage, actionIDs map[string]bool) error {
	var e struct {
		Type     string          `json:"type"`
		Text     json.RawMessage `json:"text"`
		ActionID *string         `json:"action_id"`
		URL      *string         `json:"url"`
		Value    *string         `json:"value"`
	}
	if err := json.Unmarshal(raw, &e); err != nil || e.Type == "" {
		return invalidBlock(path, "not an element object")
	}
	if e.ActionID != nil {
		if *e.ActionID == "" || utf8.RuneCountInString(*e.ActionID) > MaxActionID {
			return invalidBlock(path+".action_id", "empty or longer than %d", MaxActionID)
		}
		if actionIDs[*e.ActionID] {
			return invalidBlock(path+".action_id", "duplicate action_id")
		}
		actionIDs[*e.ActionID] = true
	}
	if e.Type != "button" {
		return nil
	}
	if e.Text == nil {
		return invalidBlock(path, "button without text")
	}
	if err := checkText(path+".text", e.Text, MaxButtonText, "plain_text"); err != nil {
		return err
	}
	if e.URL != nil && (*e.URL == "" || utf8.RuneCountInString(*e.URL) > MaxButtonURL) {
		return invalidBlock(path+".url", "empty or longer than %d", MaxButtonURL)
	}
	if e.Value != nil && utf8.RuneCountInString(*e.Value) > MaxButtonValue {
		return invalidBlock(path+".value", "longer than %d", MaxButtonValue)
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// liveMarkupPrefixes start Slack's control sequences: special mentions
// (<!channel>, <!here>), user and channel mentions, and links.
var liveMarkupPrefixes = []string{"<!", "<@", "<#", "<http", "<mailto:"}

// Markup is a live Slack control sequence found in a message.
type Markup struct {
	// Path locates the string, e.g. "blocks[2].fields[0].text".
	Path string
	// Snippet is the sequence, cut to at most 40 bytes.
	Snippet string
}

// FindLiveMarkup returns every live mention or link (`<!…`, `<@…`, `<#…`,
// `<http…`, `<mailto:…`) in any string of the payload. A renderer that
// escapes event text yields none unless it adds links itself; the e2e suite
// calls it on every accepted message.
func FindLiveMarkup(payload []byte) ([]Markup, error) {
	var v any
	if err := json.Unmarshal(payload, &v); err != nil {
		return nil, fmt.Errorf("localslack: find markup: %w", err)
	}
	var found []Markup
	walkStrings("", v, func(path, s string) {
		for i := strings.IndexByte(s, '<'); i >= 0; {
			rest := s[i:]
			for _, p := range liveMarkupPrefixes {
				if len(rest) >= len(p) && strings.EqualFold(rest[:len(p)], p) {
					snippet := rest
					if len(snippet) > 40 {
						snippet = snippet[:40]
					}
					found = append(found, Markup{Path: path, Snippet: strings.ToValidUTF8(snippet, "")})
					break
				}
			}
			next := strings.IndexByte(s[i+1:], '<')
			if next < 0 {
				break
			}
			i += next + 1
		}
	})
	return found, nil
}

// walkStrings calls fn for every string value in v, with its path.
func walkStrings(path string, v any, fn func(path, s string)) {
	switch x := v.(type) {
	case string:
		fn(path, x)
	case []any:
		for i, e := range x {
			walkStrings(fmt.Sprintf("%s[%d]", path, i), e, fn)
		}
	case map[string]any:
		for k, e := range x {
			p := k
			if path != "" {
				p = path + "." + k
			}
			walkStrings(p, e, fn)
		}
	}
}
