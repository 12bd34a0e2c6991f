package email

import (
	"testing"

	"github.com/activity-aware/ids/internal/testactivities"
)

// FuzzRender renders activities of arbitrary strings: SNS accepts every
// subject and no text is unsafe (checkMail).
func FuzzRender(f *testing.F) {
	f.Add("Access denied", "alice", "aws-cli/2", "AccessDenied", "msg", "https://console.aws.amazon.com/", "high", 3)
	f.Add("Accès\n\u202E refusé…", "\x00", "https://evil.example", "www.evil.example", "日本語", "javascript:alert(1)", "critical", 40)
	f.Fuzz(func(t *testing.T, subject, actor, userAgent, errCode, errMsg, link, severity string, n int) {
		checkMail(t, Render(testactivities.Fuzzed(subject, actor, userAgent, errCode, errMsg, link, severity, n)))
	})
}

// FuzzRenderDigest renders digests of arbitrary event strings: SNS accepts
// the subject and no text is unsafe (checkMail).
func FuzzRenderDigest(f *testing.F) {
	f.Add("Accès\n\u202E refusé…", "s3", "GetObject", "203.0.113.1\nSeverity: INFO", "www.evil.example", "https://evil.example/", "https://us-east-1.console.aws.amazon.com/x", false)
	f.Add("", "", "", "", "", "", "javascript:alert(1)", true)
	f.Fuzz(func(t *testing.T, principal, service, action, ip, ua, subject, link string, suppressed bool) {
		checkMail(t, RenderDigest(testactivities.FuzzedDigest(principal, service, action, ip, ua, subject, link, suppressed)))
	})
}
