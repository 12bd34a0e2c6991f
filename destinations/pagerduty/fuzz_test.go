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

// FuzzRenderDigest renders digests of arbitrary event strings: PagerDuty
// accepts the event and no text is unsafe (checkEvent); a suppression's
// digest is never sent.
func FuzzRenderDigest(f *testing.F) {
	f.Add("<!channel>\n- x", "s3", "GetObject", "203.0.113.1", "www.evil.example", "\u202E", "https://evil.example/", false)
	f.Add("", "", "", "", "", "", "https://us-east-1.console.aws.amazon.com/x", true)
	f.Fuzz(func(t *testing.T, principal, service, action, ip, ua, subject, link string, suppressed bool) {
		e := RenderDigest(testactivities.FuzzedDigest(principal, service, action, ip, ua, subject, link, suppressed))
		if (e == nil) != suppressed {
			t.Fatalf("suppressed %v, event %v", suppressed, e)
		}
		if e != nil {
			checkEvent(t, e)
		}
	})
}
