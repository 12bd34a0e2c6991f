package teams

import (
	"testing"

	"github.com/activity-aware/ids/internal/testactivities"
)

// FuzzRender renders activities of arbitrary strings: Teams accepts every
// message, within MaxMessage, and no event text is live (checkMessage).
func FuzzRender(f *testing.F) {
	f.Add("Access denied", "alice", "aws-cli/2", "AccessDenied", "msg", "https://console.aws.amazon.com/", 3)
	f.Add("**x** [a](https://e)", "- item", "1. one", "# h", "a@b.example\n> q", "javascript:alert(1)", 60)
	f.Fuzz(func(t *testing.T, subject, actor, userAgent, errCode, errMsg, link string, n int) {
		// The severity is the error code, as arbitrary as the rest.
		checkMessage(t, Render(testactivities.Fuzzed(subject, actor, userAgent, errCode, errMsg, link, errCode, min(n, 60))))
	})
}

// FuzzRenderDigest renders digests of arbitrary event strings: Teams
// accepts the card, within MaxMessage, and no event text is live
// (checkMessage); its button goes to the AWS console only.
func FuzzRenderDigest(f *testing.F) {
	f.Add("*IAMUser* _ci_", "s3", "GetObject`x`", "203.0.113.1\n**Missing:** x", "@here ~ua~", "- [a](https://e)", "https://evil.example/", false)
	f.Add("", "", "", "", "", "", "https://us-east-1.console.aws.amazon.com/x", true)
	f.Fuzz(func(t *testing.T, principal, service, action, ip, ua, subject, link string, suppressed bool) {
		checkMessage(t, RenderDigest(testactivities.FuzzedDigest(principal, service, action, ip, ua, subject, link, suppressed)))
	})
}
