package pagerduty

import (
	"testing"

	"github.com/activity-aware/ids/internal/testactivities"
)

// FuzzRender renders activities of arbitrary strings: PagerDuty accepts every
// event and no text is unsafe (checkEvent).
func FuzzRender(f *testing.F) {
	f.Add("Access denied", "alice", "aws-cli/2", "AccessDenied", "msg", "https://console.aws.amazon.com/", "high", 3)
	f.Add("<!channel>\n- x", "\u202E", "https://evil.example", "\x00", "www.evil.example", "javascript:alert(1)", "critical", 40)
	f.Fuzz(func(t *testing.T, subject, actor, userAgent, errCode, errMsg, link, severity string, n int) {
		checkEvent(t, Render(testactivities.Fuzzed(subject, actor, userAgent, errCode, errMsg, link, severity, n)))
	})
}
