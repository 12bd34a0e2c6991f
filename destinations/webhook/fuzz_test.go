package webhook

import (
	"testing"
	"time"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/destinations/webhook/signature"
	"github.com/activity-aware/ids/internal/testactivities"
)

// FuzzRender renders activities of arbitrary strings: an invalid activity is
// refused, a valid one's payload is always JSON carrying the activity unchanged, the id never holds the separator of
// the signed content, and the signature over it verifies.
func FuzzRender(f *testing.F) {
	f.Add("id-1", "cloudtrail", "Access denied", "alice", "AccessDenied", "k", "v")
	f.Add("a.b.c", "x\x00y", "\u202Egpj.exe\n- item", "<!channel>", "\xff\xfe", "**k**", "[x](https://evil.example)")
	key, err := signature.NewSigner(signature.GenerateSecret())
	if err != nil {
		f.Fatal(err)
	}
	at := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	f.Fuzz(func(t *testing.T, id, source, subject, actor, errCode, fieldKey, fieldValue string) {
		a := &activity.Activity{
			SchemaVersion: "1.0", ID: id, Source: source, Subject: subject, Severity: activity.Medium, Time: at,
			Actor:  &activity.Actor{Name: actor, UserAgent: fieldValue},
			Action: &activity.Action{ErrorCode: errCode},
			Fields: []activity.Field{{Key: fieldKey, Value: fieldValue}},
		}
		body, msgID, err := Render(a)
		if invalid := a.Validate(); invalid != nil || err != nil {
			if invalid == nil || err == nil {
				t.Fatalf("Render error %v for an activity whose Validate says %v", err, invalid)
			}
			return // never sent: receivers could not parse it
		}
		checkPayload(t, a, body, msgID)
		h := key.Headers(msgID, at, body)
		if err := key.Verify(h, body, at); err != nil {
			t.Fatalf("own signature does not verify: %v", err)
		}
	})
}

// FuzzRenderDigest renders digests of arbitrary event strings: the payload
// is always the digest document with its counts, a link only to the AWS
// console, an id stable for the window, and its signature verifies.
func FuzzRenderDigest(f *testing.F) {
	f.Add("ci-deployer", "s3", "GetObject", "203.0.113.1", "aws-cli/2", "Access denied", "https://evil.example/", false)
	f.Add("a.b\x00", "\xff", "\u202E", "\n", "<!channel>", "", "https://us-east-1.console.aws.amazon.com/x", true)
	key, err := signature.NewSigner(signature.GenerateSecret())
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, principal, service, action, ip, ua, subject, link string, suppressed bool) {
		d := testactivities.FuzzedDigest(principal, service, action, ip, ua, subject, link, suppressed)
		body, id, err := RenderDigest(d)
		if err != nil {
			t.Fatal(err)
		}
		checkDigest(t, d, body, id)
		if err := key.Verify(key.Headers(id, d.End, body), body, d.End); err != nil {
			t.Fatalf("own signature does not verify: %v", err)
		}
	})
}
