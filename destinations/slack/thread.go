package slack

import (
	"encoding/json"
	"fmt"
	"strings"

	slackapi "github.com/slack-go/slack"

	"github.com/activity-aware/ids/correlation"
)

// threadCountBlockID marks the context block WithThreadCount adds, so the
// next update replaces it instead of adding another.
const threadCountBlockID = "thread-count"

// WithThreadCount returns a copy of parent (a message Render made) whose
// last block is a context line counting what its group's window added:
// "24 more in thread", "3 more counted in the digest" for repeats that came
// before the parent could be threaded, and "window closed" once final. The
// line holds only the renderer's words and these numbers, never event text.
// An earlier count line is replaced; the block limit is kept.
func WithThreadCount(parent *slackapi.WebhookMessage, replies, folded int64, final bool) *slackapi.WebhookMessage {
	out := *parent
	var blocks []slackapi.Block
	if parent.Blocks != nil {
		for _, b := range parent.Blocks.BlockSet {
			if b.ID() != threadCountBlockID {
				blocks = append(blocks, b)
			}
		}
	}
	if len(blocks) >= maxBlocks {
		blocks = blocks[:maxBlocks-1]
	}
	var parts []string
	if replies > 0 || folded <= 0 {
		parts = append(parts, fmt.Sprintf("%d more in thread", max(replies, 0)))
	}
	if folded > 0 {
		parts = append(parts, fmt.Sprintf("%d more counted in the digest", folded))
	}
	if final {
		parts = append(parts, "window closed")
	}
	blocks = append(blocks, slackapi.NewContextBlock(threadCountBlockID,
		slackapi.NewTextBlockObject(slackapi.PlainTextType, ":thread: "+strings.Join(parts, " · "), true, false)))
	out.Blocks = &slackapi.Blocks{BlockSet: blocks}
	return &out
}

// encodeParent keeps a parent message in the correlation state, so a later
// invocation can update it (WithThreadCount) without the activity.
func encodeParent(m *slackapi.WebhookMessage) string {
	b, err := json.Marshal(m)
	if err != nil {
		return ""
	}
	return string(b)
}

// decodeParent reads what encodeParent kept.
func decodeParent(s string) (*slackapi.WebhookMessage, error) {
	var m slackapi.WebhookMessage
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, fmt.Errorf("slack: thread parent in the state: %w", err)
	}
	return &m, nil
}

// threadCounts are the numbers a parent's count line shows for a thread.
func threadCounts(t *correlation.Thread) (replies, folded int64) {
	return t.Replies, max(t.Repeats-t.Replies, 0)
}
