package teams

import (
	"testing"
	"time"

	"github.com/activity-aware/ids/activity"
)

// FuzzRender renders activities of arbitrary strings: Teams accepts every
// message, within MaxMessage, and no event text is live (checkMessage).
func FuzzRender(f *testing.F) {
	f.Add("Access denied", "alice", "aws-cli/2", "AccessDenied", "msg", "https://console.aws.amazon.com/", 3)
	f.Add("**x** [a](https://e)", "- item", "1. one", "# h", "a@b.example\n> q", "javascript:alert(1)", 60)
	f.Fuzz(func(t *testing.T, subject, actor, userAgent, errCode, errMsg, link string, n int) {
		n = min(max(n, 0), 60)
		a := &activity.Activity{
			SchemaVersion: "1.0", ID: errCode, Source: actor, Subject: subject, Severity: activity.Severity(errCode),
			Time:       time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC),
			Account:    activity.Account{ID: errCode, Name: actor},
			Region:     userAgent,
			Actor:      &activity.Actor{Name: actor, ARN: subject, UserAgent: userAgent, SourceIP: errMsg},
			Action:     &activity.Action{Service: userAgent, Name: subject, ErrorCode: errCode, ErrorMessage: errMsg},
			Permission: &activity.Permission{Action: actor, Resource: errMsg, ReasonText: userAgent, Guardrail: n%2 == 0},
		}
		for i := range n {
			a.Links = append(a.Links, activity.Link{Title: errMsg, URL: link})
			a.Resources = append(a.Resources, activity.Resource{ARN: errMsg + string(rune('a'+i%26))})
			a.Detections = append(a.Detections, activity.Detection{ID: subject, Title: errMsg})
		}
		checkMessage(t, Render(a))
	})
}
