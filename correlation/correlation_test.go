package correlation_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/correlation"
	"github.com/activity-aware/ids/detections"
)

var t0 = time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)

// denial is a denied call by user at t0+at.
func denial(id, user string, at time.Duration, service, action string) *activity.Activity {
	return &activity.Activity{
		SchemaVersion: activity.SchemaVersion, ID: id, Source: "cloudtrail", Subject: "Access denied: " + user,
		Severity: activity.Medium, Time: t0.Add(at), Account: activity.Account{ID: "111122223333"},
		Actor:      &activity.Actor{Type: "IAMUser", Name: user, ARN: "arn:aws:iam::111122223333:user/" + user, SourceIP: "198.51.100.23", UserAgent: "enum/1.0"},
		Action:     &activity.Action{Service: service + ".amazonaws.com", Name: action, Outcome: activity.Denied, ErrorCode: "AccessDenied"},
		Detections: []activity.Detection{{ID: "unauthorized-api-calls", Title: "Unauthorized API calls", Severity: activity.Medium}},
		Links:      []activity.Link{{Title: "CloudTrail event history", URL: "https://us-east-1.console.aws.amazon.com/cloudtrailv2/home#/events/" + id}},
	}
}

func denials(user string, n int, every time.Duration) []*activity.Activity {
	svcs := []string{"iam", "s3", "ec2"}
	out := make([]*activity.Activity, n)
	for i := range out {
		out[i] = denial(fmt.Sprintf("%s-%03d", user, i), user, time.Duration(i)*every, svcs[i%3], "List")
	}
	return out
}

func detector(s correlation.Store, rules ...correlation.Rule) *correlation.Detector {
	if len(rules) == 0 {
		rules = []correlation.Rule{correlation.DenialBurst(0, 0)}
	}
	return &correlation.Detector{Store: s, Rules: rules, Now: func() time.Time { return t0 }}
}

// observe has d observe each batch in turn and returns what they derived.
func observe(t *testing.T, d *correlation.Detector, batches ...[]*activity.Activity) []*activity.Activity {
	t.Helper()
	var derived []*activity.Activity
	for _, batch := range batches {
		got, err := d.Observe(context.Background(), batch)
		if err != nil {
			t.Fatal(err)
		}
		derived = append(derived, got...)
	}
	return derived
}

func TestDenialBurst(t *testing.T) { stores(t, testDenialBurst) }

func testDenialBurst(t *testing.T, store correlation.Store) {
	ctx := context.Background()
	t.Run("twenty denials in ten minutes make one burst, once", func(t *testing.T) {
		d := detector(store)
		acts := denials("ci-deployer", 25, 5*time.Second)
		derived := observe(t, d, acts[:7], acts[7:20], acts[20:], acts[:25]) // the last batch re-delivers all
		if len(derived) != 1 {
			t.Fatalf("derived %d activities, want 1", len(derived))
		}
		b := derived[0]
		if err := b.Validate(); err != nil {
			t.Fatal(err)
		}
		if b.Severity != activity.High || b.Source != correlation.SourceName || b.Detections[0].ID != correlation.DenialBurstID {
			t.Fatalf("burst = %+v", b)
		}
		want := "Possible credential misuse: IAMUser ci-deployer, 20 denied calls in 2 min across 3 services from 1 IP"
		if b.Subject != want {
			t.Fatalf("subject %q, want %q", b.Subject, want)
		}
		if !strings.HasPrefix(b.ID, "denial-burst-") || b.Actor.ARN != "arn:aws:iam::111122223333:user/ci-deployer" {
			t.Fatalf("id %q actor %+v", b.ID, b.Actor)
		}
		fields := map[string]string{}
		for _, f := range b.Fields {
			fields[f.Key] = f.Value
		}
		if fields["Services"] != "iam 7, s3 7, ec2 6" || fields["Source IPs"] != "198.51.100.23" || fields["First"] != "2026-11-20T09:00:00Z" {
			t.Fatalf("fields %v", fields)
		}
		// The same burst derived again (another store, same input) has the same id.
		again, _ := detector(correlation.NewMemoryStore()).Observe(ctx, acts)
		if len(again) != 1 || again[0].ID != b.ID {
			t.Fatalf("id not deterministic: %v", again)
		}
	})
	t.Run("three denials in three minutes are no burst", func(t *testing.T) {
		got, err := detector(correlation.NewMemoryStore()).Observe(ctx, denials("dev", 3, time.Minute))
		if err != nil || len(got) != 0 {
			t.Fatalf("derived %v, %v", got, err)
		}
	})
	t.Run("denials spread over hours are no burst", func(t *testing.T) {
		got, _ := detector(correlation.NewMemoryStore()).Observe(ctx, denials("dev", 40, time.Minute))
		if len(got) != 0 {
			t.Fatalf("derived %d", len(got))
		}
	})
	t.Run("a threshold preset counts its detection per principal", func(t *testing.T) {
		preset := &detections.Preset{ID: "console-auth-failures", Title: "Console authentication failed", Severity: activity.High,
			Threshold: &detections.Threshold{Count: 5, Window: 15 * time.Minute}}
		rules := correlation.ThresholdRules([]*detections.Preset{preset, {ID: "no-threshold"}})
		if len(rules) != 1 {
			t.Fatalf("rules %d", len(rules))
		}
		var acts []*activity.Activity
		for i := range 6 {
			a := denial(fmt.Sprintf("login-%d", i), "mallory", time.Duration(i)*time.Minute, "signin", "ConsoleLogin")
			a.Action.Outcome = activity.Failed
			a.Detections = []activity.Detection{{ID: "console-auth-failures", Severity: activity.Info}}
			acts = append(acts, a)
		}
		got, err := detector(correlation.NewMemoryStore(), rules...).Observe(ctx, acts)
		if err != nil || len(got) != 1 {
			t.Fatalf("derived %v, %v", got, err)
		}
		if got[0].Severity != activity.High || got[0].Detections[0].ID != "console-auth-failures" {
			t.Fatalf("derived %+v", got[0])
		}
	})
}

func notifier(s correlation.Store) *correlation.Notifier {
	return &correlation.Notifier{Store: s, Policy: correlation.Policy{Destination: "chan"}}
}

// decideAll decides every activity at its event time and tallies the actions.
func decideAll(t *testing.T, n *correlation.Notifier, acts []*activity.Activity) map[correlation.Action][]string {
	t.Helper()
	out := map[correlation.Action][]string{}
	for _, a := range acts {
		d, err := n.Decide(context.Background(), a, a.Time)
		if err != nil {
			t.Fatal(err)
		}
		out[d.Action] = append(out[d.Action], a.ID)
		if d.Action == correlation.Post {
			if err := n.Posted(context.Background(), d, a.Time); err != nil {
				t.Fatal(err)
			}
		}
	}
	return out
}

func TestNotifierFoldsAWindowIntoOneDigest(t *testing.T) {
	stores(t, testNotifierFoldsAWindowIntoOneDigest)
}

func testNotifierFoldsAWindowIntoOneDigest(t *testing.T, store correlation.Store) {
	ctx := context.Background()
	n := notifier(store)
	acts := denials("ci-deployer", 400, 450*time.Millisecond)
	acts = append(acts, acts[10], acts[20]) // re-deliveries
	stop := denial("stop", "admin", 90*time.Second, "cloudtrail", "StopLogging")
	stop.Severity, stop.Action.Outcome = activity.Critical, activity.Success
	stop.Actor.Name, stop.Actor.ARN = "ci-deployer", "arn:aws:iam::111122223333:user/ci-deployer" // same principal and detection
	acts = append(acts[:200], append([]*activity.Activity{stop}, acts[200:]...)...)
	got := decideAll(t, n, acts)
	if want := []string{"ci-deployer-000", "stop"}; fmt.Sprint(got[correlation.Post]) != fmt.Sprint(want) {
		t.Fatalf("posted %v, want %v (a critical activity is never folded behind lower ones)", got[correlation.Post], want)
	}
	if len(got[correlation.Fold]) != 399 || len(got[correlation.Duplicate]) != 2 {
		t.Fatalf("folded %d, duplicates %d", len(got[correlation.Fold]), len(got[correlation.Duplicate]))
	}
	// Nothing is due before the window ends; at its end, one digest.
	if ds, _ := n.Sweep(ctx, t0.Add(9*time.Minute)); len(ds) != 0 {
		t.Fatalf("digest before the window ended: %+v", ds)
	}
	ds, err := n.Sweep(ctx, t0.Add(10*time.Minute))
	if err != nil || len(ds) != 1 {
		t.Fatalf("digests %d, %v", len(ds), err)
	}
	d := ds[0]
	if d.Count != 400 || d.Folded() != 399 || d.FirstID != "ci-deployer-000" || !d.Denied || d.Span() != "3 min" {
		t.Fatalf("digest %+v", d)
	}
	if correlation.List(d.Services, 5) != "iam 134, ec2 133, s3 133" {
		t.Fatalf("services %v", d.Services)
	}
	// The digest names the group its first activity keys to (PagerDuty's
	// dedup_key of both).
	if d.Group() != correlation.GroupKey(acts[0]) || d.Group() == correlation.GroupKey(stop) {
		t.Fatalf("digest group %q, first activity's %q", d.Group(), correlation.GroupKey(acts[0]))
	}
	if err := n.Digested(ctx, d); err != nil {
		t.Fatal(err)
	}
	if ds, _ := n.Sweep(ctx, t0.Add(time.Hour)); len(ds) != 0 {
		t.Fatalf("digest written twice: %+v", ds)
	}
	// The next activity opens a new window and is posted at once.
	late := denial("late", "ci-deployer", 11*time.Minute, "iam", "GetUser")
	if got := decideAll(t, n, []*activity.Activity{late}); len(got[correlation.Post]) != 1 {
		t.Fatalf("after the window: %v", got)
	}
}

// TestDigestGroupUnderAPolicy: under a policy's own group key, a digest's
// group is GroupKeyBy of its activities with the policy's dimensions.
func TestDigestGroupUnderAPolicy(t *testing.T) {
	ctx := context.Background()
	dims := []string{correlation.ByPrincipal, correlation.BySourceIP}
	n := &correlation.Notifier{Store: correlation.NewMemoryStore(), Policy: correlation.Policy{Destination: "pd", GroupBy: dims}}
	acts := denials("dev", 3, time.Second)
	decideAll(t, n, acts)
	ds, err := n.Sweep(ctx, t0.Add(time.Hour))
	if err != nil || len(ds) != 1 {
		t.Fatalf("digests %d, %v", len(ds), err)
	}
	if got, want := ds[0].Group(), correlation.GroupKeyBy(acts[0], dims); got != want || got == correlation.GroupKey(acts[0]) {
		t.Fatalf("group %q, want %q (not the default policy's %q)", got, want, correlation.GroupKey(acts[0]))
	}
}

func TestNotifierDigestNotWrittenUntilPosted(t *testing.T) {
	stores(t, testNotifierDigestNotWrittenUntilPosted)
}

func testNotifierDigestNotWrittenUntilPosted(t *testing.T, store correlation.Store) {
	ctx := context.Background()
	n := notifier(store)
	decideAll(t, n, denials("bob", 3, time.Second))
	ds, _ := n.Sweep(ctx, t0.Add(time.Hour))
	if len(ds) != 1 {
		t.Fatalf("digests %d", len(ds))
	}
	// The post failed (no Digested): a sweep within the lease skips it, a
	// sweep after it writes it again.
	if again, _ := n.Sweep(ctx, t0.Add(time.Hour+time.Second)); len(again) != 0 {
		t.Fatalf("swept within the lease: %d", len(again))
	}
	if again, _ := n.Sweep(ctx, t0.Add(time.Hour+correlation.DefaultLease+time.Second)); len(again) != 1 || again[0].Count != 3 {
		t.Fatalf("digest lost after a failed post: %+v", again)
	}
}

func TestNotifierFailedPostIsPostedOnRetry(t *testing.T) {
	stores(t, testNotifierFailedPostIsPostedOnRetry)
}

func testNotifierFailedPostIsPostedOnRetry(t *testing.T, store correlation.Store) {
	ctx := context.Background()
	n := notifier(store)
	a := denials("carol", 1, 0)[0]
	d, err := n.Decide(ctx, a, t0)
	if err != nil || d.Action != correlation.Post {
		t.Fatalf("%v %v", d.Action, err)
	}
	if err := n.Failed(ctx, d, t0); err != nil {
		t.Fatal(err)
	}
	d, err = n.Decide(ctx, a, t0.Add(time.Second))
	if err != nil || d.Action != correlation.Post {
		t.Fatalf("retry: %v %v, want post", d.Action, err)
	}
	if err := n.Posted(ctx, d, t0); err != nil {
		t.Fatal(err)
	}
	if d, _ = n.Decide(ctx, a, t0.Add(2*time.Second)); d.Action != correlation.Duplicate {
		t.Fatalf("after the post: %v", d.Action)
	}
	// Counted once: the window holds one activity and needs no digest.
	if ds, _ := n.Sweep(ctx, t0.Add(time.Hour)); len(ds) != 0 {
		t.Fatalf("digests %+v", ds)
	}
}

func TestNotifierBusyWhileAnotherInvocationHoldsTheActivity(t *testing.T) {
	stores(t, testNotifierBusyWhileAnotherInvocationHoldsTheActivity)
}

func testNotifierBusyWhileAnotherInvocationHoldsTheActivity(t *testing.T, store correlation.Store) {
	ctx := context.Background()
	n := notifier(store)
	a := denials("dave", 1, 0)[0]
	if _, err := n.Decide(ctx, a, t0); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Decide(ctx, a, t0.Add(time.Second)); err == nil || !strings.Contains(err.Error(), "handled elsewhere") {
		t.Fatalf("second decision while the first holds it: %v", err)
	}
}

func TestSuppressions(t *testing.T) { stores(t, testSuppressions) }

func testSuppressions(t *testing.T, store correlation.Store) {
	ctx := context.Background()
	s := store
	sup := correlation.Suppression{ID: "sup-1", Principal: "arn:aws:iam::111122223333:user/scanner", Until: t0.Add(time.Hour), Reason: "approved scanner"}
	if err := sup.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := s.PutSuppression(ctx, sup); err != nil {
		t.Fatal(err)
	}
	n := notifier(s)
	acts := denials("scanner", 12, time.Second)
	crit := denial("crit", "scanner", 20*time.Second, "cloudtrail", "StopLogging")
	crit.Severity = activity.Critical
	other := denial("other", "alice", 0, "iam", "GetUser")
	expired := denial("expired", "scanner", 2*time.Hour, "iam", "GetUser")
	got := decideAll(t, n, append(acts, crit, other, expired))
	if len(got[correlation.Suppress]) != 12 {
		t.Fatalf("suppressed %v", got[correlation.Suppress])
	}
	if fmt.Sprint(got[correlation.Post]) != "[crit other expired]" {
		t.Fatalf("posted %v: a suppression never applies to critical activities unless it names their detection, nor after it expires", got[correlation.Post])
	}
	ds, _ := n.Sweep(ctx, t0.Add(3*time.Hour))
	var suppressed int64
	for _, d := range ds {
		if d.BySuppression {
			suppressed += d.Suppressed
		}
	}
	if suppressed != 12 {
		t.Fatalf("digests count %d suppressed, want 12: %+v", suppressed, ds)
	}

	byDetection := correlation.Suppression{ID: "sup-2", Detection: "unauthorized-api-calls", Until: t0.Add(time.Hour), Reason: "noisy"}
	if !byDetection.Matches(crit, t0) {
		t.Fatal("a suppression naming a critical activity's detection must apply to it")
	}
	for _, bad := range []correlation.Suppression{
		{ID: "x", Until: t0, Reason: "r"},
		{ID: "x", Principal: "p", Reason: "r"},
		{ID: "x", Principal: "p", Until: t0},
		{ID: "x", SourceIP: "not-an-ip", Until: t0, Reason: "r"},
		{ID: "x", Principal: "p", Account: "12", Until: t0, Reason: "r"},
	} {
		if bad.Validate() == nil {
			t.Errorf("%+v validated", bad)
		}
	}
	cidr := correlation.Suppression{ID: "x", SourceIP: "198.51.100.0/24", Until: t0.Add(time.Hour), Reason: "r"}
	if !cidr.Matches(other, t0) {
		t.Fatal("CIDR suppression does not match an address in it")
	}
}

// TestNotifierConcurrentInvocations races invocations over one group with
// every activity delivered twice: each activity is posted or counted
// exactly once, and only the group's first is posted.
func TestNotifierConcurrentInvocations(t *testing.T) {
	testConcurrent(t, correlation.NewMemoryStore())
}

func testConcurrent(t *testing.T, s correlation.Store) {
	t.Helper()
	ctx := context.Background()
	acts := denials("racer", 60, 100*time.Millisecond)
	var mu sync.Mutex
	tally := map[correlation.Action]int{}
	var wg sync.WaitGroup
	for w := range 2 {
		n := notifier(s) // two invocations, each its own notifier
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range acts {
				a := acts[(i+w*30)%len(acts)]
				var d correlation.Decision
				var err error
				for {
					d, err = n.Decide(ctx, a, t0.Add(time.Minute))
					if err == nil || !strings.Contains(err.Error(), "handled elsewhere") {
						break
					}
					time.Sleep(time.Millisecond)
				}
				if err != nil {
					t.Error(err)
					return
				}
				if d.Action == correlation.Post {
					if err := n.Posted(ctx, d, t0); err != nil {
						t.Error(err)
					}
				}
				mu.Lock()
				tally[d.Action]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if tally[correlation.Post] != 1 || tally[correlation.Fold] != 59 || tally[correlation.Duplicate] != 60 {
		t.Fatalf("tally %v, want 1 post, 59 folded, 60 duplicates", tally)
	}
	ds, err := notifier(s).Sweep(ctx, t0.Add(time.Hour))
	if err != nil || len(ds) != 1 || ds[0].Count != 60 {
		t.Fatalf("digests %+v, %v", ds, err)
	}
}
