package email

import (
	"testing"
	"time"

	"github.com/activity-aware/ids/activity"
)

// FuzzRender renders activities of arbitrary strings: SNS accepts every
// subject and no text is unsafe (checkMail).
func FuzzRender(f *testing.F) {
	f.Add("Access denied", "alice", "aws-cli/2", "AccessDenied", "msg", "https://console.aws.amazon.com/", "high", 3)
	f.Add("Accès\n\u202E refusé…", "\x00", "https://evil.example", "www.evil.example", "日本語", "javascript:alert(1)", "critical", 40)
	f.Fuzz(func(t *testing.T, subject, actor, userAgent, errCode, errMsg, link, severity string, n int) {
		n = min(max(n, 0), 100)
		a := &activity.Activity{
			SchemaVersion: "1.0", ID: errCode, Source: actor, Subject: subject, Severity: activity.Severity(severity),
			Time:       time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC),
			Account:    activity.Account{ID: errCode, Name: actor},
			Region:     userAgent,
			Actor:      &activity.Actor{Name: actor, ARN: subject, UserAgent: userAgent, SourceIP: errMsg},
			Action:     &activity.Action{Service: userAgent, Name: subject, ErrorCode: errCode, ErrorMessage: errMsg},
			Permission: &activity.Permission{Action: errMsg, Resource: subject, ReasonText: actor},
		}
		for i := range n {
			a.Links = append(a.Links, activity.Link{Title: errMsg, URL: link})
			a.Resources = append(a.Resources, activity.Resource{ARN: errMsg + string(rune('a'+i%26))})
			a.Detections = append(a.Detections, activity.Detection{ID: subject})
		}
		checkMail(t, Render(a))
	})
}
