package slack

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	slackapi "github.com/slack-go/slack"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/correlation"
	"github.com/activity-aware/ids/internal/testactivities"
)

// FuzzRender renders activities made of arbitrary strings and checks that
// every message stays within Slack's limits (as localslack enforces them)
// and carries no unescaped <, > or & from event data, no live mention or
// link, no code fence broken open, no invisible character, and no formatting
// from event data in any mrkdwn text (checkNoEventFormatting).
func FuzzRender(f *testing.F) {
	h := hostileActivity()
	f.Add("Access denied: IAMUser alice → iam:GetPolicy", "alice", "aws-cli/2.15.30", "AccessDenied", "User: x is not authorized",
		`{"policyArn":"arn:aws:iam::123456789012:policy/Admin"}`, "Unauthorized API calls", "Error Code", "https://console.aws.amazon.com/", "arn:aws:iam::123456789012:policy/Admin", `{"Effect":"Allow"}`, 3)
	f.Add(h.Subject, h.Actor.Name, "<!channel>&<@U123>", "<!here>", "\u202Etxt.exe &amp; &lt;",
		"```\n<!here>\n```", "<https://evil.example|click>", "<!channel>", "javascript:alert(1)", "<@U999>", "```", 40)
	f.Add("", "", "", "", "", "", "", "", "", "", "", 0)
	f.Add("*URGENT*", "_alice_", "~ua~", "`x`", "Access Denied\n*Missing:* nothing — benign\n> quote",
		"*b*\n```", "*Det*", "*Key*", "https://x/", "\u200b\u2028*r*\u2029", "{}", 4)
	f.Add(strings.Repeat("🙂", 200), strings.Repeat("&", 3000), strings.Repeat("`", 4000), strings.Repeat("<", 2500), "\x00\x1b[31m\xff",
		strings.Repeat("``", 2000), strings.Repeat("x, ", 1500), strings.Repeat("k", 500), "https://a/"+strings.Repeat("b", 3000), strings.Repeat(">", 3000), "not json", 200)
	f.Fuzz(func(t *testing.T, subject, actor, userAgent, errCode, errMsg, params, detection, fieldKey, link, resource, statement string, n int) {
		n = min(max(n, 0), 200)
		a := &activity.Activity{
			SchemaVersion: "1.0", ID: errCode + "-id", Source: fieldKey, Subject: subject, Severity: activity.Severity(errCode),
			Time:    time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC),
			Account: activity.Account{ID: resource, Name: actor},
			Region:  fieldKey,
			Actor:   &activity.Actor{Type: errCode, Name: actor, ARN: resource, UserAgent: userAgent, SourceIP: errMsg, SessionIssuer: detection, InvokedBy: params},
			Action:  &activity.Action{Service: fieldKey, Name: subject, ErrorCode: errCode, ErrorMessage: errMsg},
			Permission: &activity.Permission{
				Action: detection, Resource: resource, ReasonText: errMsg, Guardrail: n%2 == 0, Fixable: n%3 == 0, Encoded: n%5 == 0,
			},
			Origin:    &activity.Origin{LogGroup: userAgent},
			Truncated: n%2 == 1,
		}
		if json.Valid([]byte(statement)) {
			a.Permission.Statement = json.RawMessage(statement)
		}
		for i := range n {
			a.Fields = append(a.Fields, activity.Field{Key: fieldKey, Value: errMsg + string(rune('a'+i%26))})
			a.Detections = append(a.Detections, activity.Detection{ID: detection, Title: detection, Severity: activity.Severity(actor)})
			a.Resources = append(a.Resources, activity.Resource{ARN: resource, Type: detection})
			a.Links = append(a.Links, activity.Link{Title: detection, URL: link})
		}
		a.Fields = append(a.Fields, activity.Field{Key: requestParametersKey, Value: params})
		msg := Render(a)
		checkMessage(t, encode(t, msg))
		_ = Preview(msg)
	})
}

// FuzzRenderDigest renders digests made of arbitrary event strings (the
// principal, services, actions, addresses, user agents, first subject and
// link) and checks them as FuzzRender checks messages.
func FuzzRenderDigest(f *testing.F) {
	f.Add("*IAMUser* _ci_", "s3", "GetObject`x`", "203.0.113.1\n*Missing:* x", "<!channel> ~ua~", "```", "https://evil.example/", false)
	f.Add("", "", "", "", "", "", "https://us-east-1.console.aws.amazon.com/x", true)
	f.Fuzz(func(t *testing.T, principal, service, action, ip, ua, subject, link string, suppressed bool) {
		d := testactivities.FuzzedDigest(principal, service, action, ip, ua, subject, link, suppressed)
		msg := RenderDigest(d)
		payload := encode(t, msg)
		checkMessage(t, payload)
		if strings.Contains(string(payload), "evil.example") {
			t.Fatal("a digest links outside the AWS console")
		}
		// The same digest in its thread (app mode), with any reply count.
		d.Thread = &correlation.Thread{Channel: "C0123456789", TS: "1700000000.000100", Parent: subject,
			Replies: int64(len(principal)) - 3, Repeats: d.Count - 1}
		threaded := encode(t, RenderDigest(d))
		checkMessage(t, threaded)
		if !suppressed {
			replies := min(max(d.Thread.Replies, 0), d.Folded())
			if want := fmt.Sprintf("1 posted, %d in this thread", replies); !strings.Contains(string(threaded), want) {
				t.Fatalf("threaded digest does not say %q: %s", want, threaded)
			}
		}
	})
}

// FuzzThreadCount renders a parent from arbitrary event strings, keeps it
// as the correlation state keeps it, and updates it with arbitrary counts,
// as often as a thread would: the message stays within Slack's limits and
// free of event formatting, carries exactly one count line, last, stating
// the counts given and nothing from the event, and keeps every other block
// of the parent.
func FuzzThreadCount(f *testing.F) {
	f.Add("Access denied: IAMUser alice → iam:GetPolicy", "alice", ":thread: 99 more in thread", int64(24), int64(0), uint8(3), true)
	f.Add("<!channel>", "*bold*", strings.Repeat("x", 3000), int64(0), int64(5), uint8(60), false)
	f.Add("", "", "", int64(-3), int64(-1), uint8(0), true)
	f.Fuzz(func(t *testing.T, subject, actor, value string, replies, folded int64, fields uint8, final bool) {
		a := &activity.Activity{
			SchemaVersion: "1.0", ID: "id-" + actor, Source: "cloudtrail", Subject: subject, Severity: activity.High,
			Time:  time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC),
			Actor: &activity.Actor{Type: "IAMUser", Name: actor, UserAgent: value},
		}
		// Enough detail sections to reach the block limit.
		for i := range int(fields) {
			a.Fields = append(a.Fields, activity.Field{Key: value + string(rune('a'+i%26)), Value: value})
		}
		parent := Render(a)
		kept, err := decodeParent(encodeParent(parent))
		if err != nil {
			t.Fatal(err)
		}
		var msg = kept
		for range 3 { // each reply's update replaces the line
			msg = WithThreadCount(msg, replies, folded, final)
		}
		checkMessage(t, encode(t, msg))
		blocks := msg.Blocks.BlockSet
		last, ok := blocks[len(blocks)-1].(*slackapi.ContextBlock)
		if !ok || last.BlockID != threadCountBlockID {
			t.Fatalf("last block is not the count line: %#v", blocks[len(blocks)-1])
		}
		counted := 0
		for _, b := range blocks {
			if b.ID() == threadCountBlockID {
				counted++
			}
		}
		if counted != 1 {
			t.Fatalf("%d count lines", counted)
		}
		line := last.ContextElements.Elements[0].(*slackapi.TextBlockObject).Text
		want := ":thread: "
		switch {
		case replies > 0 || folded <= 0:
			want += fmt.Sprintf("%d more in thread", max(replies, 0))
			if folded > 0 {
				want += fmt.Sprintf(" · %d more counted in the digest", folded)
			}
		default:
			want += fmt.Sprintf("%d more counted in the digest", folded)
		}
		if final {
			want += " · window closed"
		}
		if line != want {
			t.Fatalf("count line %q, want %q", line, want)
		}
		// Every block of the parent but those the limit drops is kept, in order.
		orig := parent.Blocks.BlockSet
		keep := min(len(orig), maxBlocks-1)
		for i := range keep {
			if orig[i].BlockType() != blocks[i].BlockType() {
				t.Fatalf("block %d: %s became %s", i, orig[i].BlockType(), blocks[i].BlockType())
			}
		}
		if len(blocks) != keep+1 {
			t.Fatalf("%d blocks, want %d kept and the count line", len(blocks), keep)
		}
	})
}
