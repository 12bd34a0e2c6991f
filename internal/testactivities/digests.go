package testactivities

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/correlation"
)

// Digests returns the digests a destination renders, by name, each made
// by the real notification policy (package correlation, in memory) from
// activities: "sample-burst", 40 repeats of the iam-getpolicy-denied sample
// across three services and two addresses; "hostile", 5 repeats of the
// hostile activity (its principal, subject, user agent and link are the
// digest's); "suppressed", 12 of the sample under a suppression whose reason
// is hostile too.
func Digests(tb testing.TB) map[string]*correlation.Digest {
	tb.Helper()
	sample := Samples(tb)["iam-getpolicy-denied"]
	if sample == nil {
		tb.Fatal("testactivities: no iam-getpolicy-denied sample")
	}
	services := []string{"iam.amazonaws.com", "s3.amazonaws.com", "ec2.amazonaws.com"}
	burst := func(base *activity.Activity, n int) []*activity.Activity {
		var out []*activity.Activity
		for i := range n {
			a := *base
			act, actor := *base.Action, *base.Actor
			a.ID, a.Time = fmt.Sprintf("%s-%03d", base.ID, i), base.Time.Add(time.Duration(i)*3*time.Second)
			act.Service = services[i%len(services)]
			actor.SourceIP = []string{"198.51.100.23", "203.0.113.7"}[i%2]
			a.Action, a.Actor = &act, &actor
			out = append(out, &a)
		}
		return out
	}
	hostile := Hostile()
	hostile.Action.Outcome = activity.Denied
	suppression := correlation.Suppression{ID: "sup-0123456789ab", Principal: sample.Actor.ARN,
		Until:  sample.Time.Add(24 * time.Hour),
		Reason: "CI probe <!channel> [ok](https://evil.example)\nSeverity: INFO", Created: sample.Time.Add(-time.Hour)}
	out := map[string]*correlation.Digest{}
	for name, c := range map[string]struct {
		acts []*activity.Activity
		sup  *correlation.Suppression
	}{
		"sample-burst": {acts: burst(sample, 40)},
		"hostile":      {acts: burst(hostile, 5)},
		"suppressed":   {acts: burst(sample, 12), sup: &suppression},
	} {
		out[name] = digestOf(tb, c.acts, c.sup)
	}
	return out
}

// digestOf runs acts through a notifier in memory and returns the one
// digest its window's end produces.
func digestOf(tb testing.TB, acts []*activity.Activity, sup *correlation.Suppression) *correlation.Digest {
	tb.Helper()
	ctx := context.Background()
	store := correlation.NewMemoryStore()
	if sup != nil {
		if err := store.PutSuppression(ctx, *sup); err != nil {
			tb.Fatal(err)
		}
	}
	n := &correlation.Notifier{Store: store, Policy: correlation.Policy{Destination: "test"}}
	for _, a := range acts {
		d, err := n.Decide(ctx, a, a.Time)
		if err != nil {
			tb.Fatal(err)
		}
		if d.Action == correlation.Post {
			if err := n.Posted(ctx, d, a.Time); err != nil {
				tb.Fatal(err)
			}
		}
	}
	ds, err := n.Sweep(ctx, acts[0].Time.Add(time.Hour))
	if err != nil || len(ds) != 1 {
		tb.Fatalf("testactivities: %d digests (%v), want 1", len(ds), err)
	}
	return &ds[0]
}

// FuzzedDigest is the digest a renderer's fuzz target builds from arbitrary
// strings: every text an event reaches (principal and label, services,
// actions, addresses, user agents, the first subject, id and link, the
// severity and a suppression's reason) carries one of them.
func FuzzedDigest(principal, service, action, ip, ua, subject, link string, suppressed bool) *correlation.Digest {
	return &correlation.Digest{
		Label: principal, Principal: principal, Severity: activity.Severity(service), BySuppression: suppressed, Reason: ua,
		Denied: true, Start: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), End: time.Date(2024, 1, 2, 3, 9, 5, 0, time.UTC),
		FirstID: action, FirstSubject: subject, FirstLink: link,
		Breakdown: correlation.Breakdown{Count: 400, Suppressed: 3,
			Services: []correlation.Count{{Name: service, N: 90}}, Actions: []correlation.Count{{Name: action, N: 50}},
			SourceIPs: []string{ip, ip}, UserAgents: []string{ua, subject}},
	}
}
