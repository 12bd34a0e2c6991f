package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/internal/cfntemplate"
	"github.com/activity-aware/ids/internal/cloudtrailenvelope"
	"github.com/activity-aware/ids/internal/eventpattern"
	"github.com/activity-aware/ids/internal/lambdaemu"
	"github.com/activity-aware/ids/sources/awsevents"
	"github.com/activity-aware/ids/sources/cloudtrail"
	"github.com/activity-aware/ids/sources/cloudtrailevents"
)

// eventsDetections are the detections the scenario's app is synthesized
// with: the default (unauthorized-api-calls, the denials) and
// console-auth-failures, so that the rule routes console sign-ins too.
const eventsDetections = "unauthorized-api-calls,console-auth-failures"

// eventsSourceDeployment synthesizes the app with the cloudtrail-events
// source (and eventsDetections), compiles lambdas/event-source, and returns
// its function as the template configures it, with its rule's pattern as
// deployed.
func eventsSourceDeployment(t *testing.T) (fn *cfntemplate.Function, bin string, pattern *eventpattern.Pattern) {
	t.Helper()
	ctx := context.Background()
	tmp := t.TempDir()
	bin, err := lambdaemu.BuildFunction(ctx, dep.repo, "./lambdas/event-source", filepath.Join(tmp, "event-source"))
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := synthesize(ctx, dep.repo, filepath.Join(tmp, "cdk.out"),
		`"sources":"cloudtrail-logs,`+cloudtrailevents.SourceName+`"`, `"detections":"`+eventsDetections+`"`)
	if err != nil {
		t.Fatal(err)
	}
	_, vals, err := localValues(tpl)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range tpl.OfType(cfntemplate.TypeFunction) {
		f, err := tpl.Function(id, vals)
		if err != nil {
			t.Fatal(err)
		}
		if f.Env[awsevents.EnvSources] != cloudtrailevents.SourceName {
			continue
		}
		if fn != nil {
			t.Fatalf("two %s functions: %s, %s", cloudtrailevents.SourceName, fn.LogicalID, id)
		}
		fn = f
	}
	if fn == nil {
		t.Fatalf("the template has no function with %s=%s", awsevents.EnvSources, cloudtrailevents.SourceName)
	}
	if puts, err := tpl.Allowed(fn.RoleID, "events:PutEvents", vals); err != nil || !slices.Contains(puts, localBusARN) {
		t.Fatalf("the events source's role may PutEvents on %v (%v), not on the activity bus", puts, err)
	}
	rule, err := tpl.RuleTargeting(fn.LogicalID)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := tpl.ResolvePattern(rule.Pattern, nil)
	if err != nil {
		t.Fatal(err)
	}
	if pattern, err = eventpattern.Compile(raw); err != nil {
		t.Fatalf("rule %s: %v", rule.LogicalID, err)
	}
	return fn, bin, pattern
}

// withDetailType returns the envelope ev with its detail-type replaced.
func withDetailType(t *testing.T, ev []byte, detailType string) []byte {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(ev, &m); err != nil {
		t.Fatal(err)
	}
	m["detail-type"], _ = json.Marshal(detailType)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// cloudTrailEventsScenario hands CloudTrail records, each in the envelope
// EventBridge delivers it in, to the compiled EventBridge-source function as
// the template with the cloudtrail-events source configures it, each event
// its rule's pattern matches as one invocation (as the rule's target is
// invoked): the repository's denials and a console sign-in failure in both
// detail-type spellings. Every activity is published and posted once, with
// the id (and severity and detections) the log-group path gives the same
// record.
func cloudTrailEventsScenario(t *testing.T, r *row) {
	fn, bin, pattern := eventsSourceDeployment(t)
	var signin struct {
		Detail json.RawMessage `json:"detail"`
	}
	data, err := os.ReadFile(filepath.Join(dep.repo, "sources", "cloudtrailevents", "testdata", "console-signin-failure.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &signin); err != nil {
		t.Fatal(err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, signin.Detail); err != nil {
		t.Fatal(err)
	}
	records := repoDenials(t)
	denials := len(records)
	// The sign-in twice, the second copy (an eventID of its own) in the
	// "Signin" spelling of the detail-type.
	records = append(records, compact.String(), withEventID(t, compact.String(), "d38ce1b3-4575-4cb8-a632-611b8243bfc4"))
	fallback := time.Date(2026, 11, 26, 7, 0, 0, 0, time.UTC)

	p := newPipeline(t, options{source: fn, sourceBin: bin, sourceName: "CloudTrailEventsSource"})
	// What the log-group path gives for the same records, with the
	// detections the template gives the function: the activities of the
	// records the rule routes to the function.
	cfg, err := cloudtrail.ConfigFromEnv(func(k string) string { return fn.Env[k] })
	if err != nil {
		t.Fatal(err)
	}
	logPath, err := cfg.NewSource()
	if err != nil {
		t.Fatal(err)
	}
	type expected struct{ severity, detections string }
	wantByID := map[string]expected{}
	spellings := map[string]int{}
	var unrouted []string
	for i, rec := range records {
		ev, ok, err := cloudtrailenvelope.Wrap(i, json.RawMessage(rec), fallback)
		if err != nil || !ok {
			t.Fatalf("record %d: wrap: %v", i, err)
		}
		if i == len(records)-1 {
			ev = withDetailType(t, ev, cloudtrailevents.ConsoleSignin)
		}
		var env struct {
			DetailType string `json:"detail-type"`
		}
		_ = json.Unmarshal(ev, &env)
		spellings[env.DetailType]++
		m, err := pattern.Match(ev)
		if err != nil {
			t.Fatalf("record %d: match the source's rule: %v", i, err)
		}
		if !m {
			// EventBridge never hands it to the function.
			unrouted = append(unrouted, errorCodeOf(t, rec))
			continue
		}
		a := logPath.FromRecord([]byte(rec), nil, fallback)
		wantByID[a.ID] = expected{string(a.Severity), detectionsOf(t, a)}
		requireOK(t, "source", p.invokeSource(ev, 1))
	}
	if spellings[cloudtrailevents.ConsoleSignIn] != 1 || spellings[cloudtrailevents.ConsoleSignin] != 1 || spellings[cloudtrailevents.APICall] != denials {
		t.Fatalf("detail-types %v, want %d API calls and one sign-in in each spelling", spellings, denials)
	}
	// One recorded record is a failed call that is no denial
	// (EntityTemporarilyUnmodifiable): the rule, narrowed to the detections,
	// leaves it out; every other record is routed.
	if len(unrouted) != 1 || unrouted[0] != "EntityTemporarilyUnmodifiableException" {
		t.Fatalf("records the rule does not route: error codes %q, want only the one that is no denial", unrouted)
	}
	routed := len(records) - len(unrouted)
	if len(wantByID) != routed {
		t.Fatalf("%d routed records give %d activity ids on the log-group path", routed, len(wantByID))
	}
	requireOK(t, "destination", p.deliver(0)...)
	r.tally = p.tally()
	want(t, r.tally, routed, routed, "0")
	got := map[string]expected{}
	for _, a := range p.published() {
		got[a.ID] = expected{string(a.Severity), detectionsOf(t, a)}
	}
	for id, w := range wantByID {
		if g, ok := got[id]; !ok {
			t.Errorf("activity %s of the log-group path was not published", id)
		} else if g != w {
			t.Errorf("activity %s: severity and detections %v, the log-group path's %v", id, g, w)
		}
	}
	for id := range got {
		if _, ok := wantByID[id]; !ok {
			t.Errorf("published activity %s is none of the log-group path's", id)
		}
	}
	r.inputs = fmt.Sprintf("%d CloudTrail records in EventBridge's envelope: the %d of test/e2e/testdata/denials.json as “%s”, 1 console sign-in failure as “%s” and as “%s”; one invocation per event the source's rule matches; app synthesized with sources cloudtrail-logs,cloudtrail-events and detections %s",
		len(records), denials, cloudtrailevents.APICall, cloudtrailevents.ConsoleSignIn, cloudtrailevents.ConsoleSignin, eventsDetections)
	r.outcome = fmt.Sprintf("success; the rule routed %d events (not the failed call that is no denial, %s), each published and posted once; the %d activity ids (and severities and detections) equal the log-group path's for the same records", routed, unrouted[0], len(wantByID))
	t.Log(r.inputs)
	t.Log(r.outcome)
}

// detectionsOf is the activity's detections as JSON, for comparison.
func detectionsOf(t *testing.T, a *activity.Activity) string {
	t.Helper()
	b, err := json.Marshal(a.Detections)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// errorCodeOf is the record's errorCode.
func errorCodeOf(t *testing.T, record string) string {
	t.Helper()
	var r struct {
		ErrorCode string `json:"errorCode"`
	}
	if err := json.Unmarshal([]byte(record), &r); err != nil {
		t.Fatal(err)
	}
	return r.ErrorCode
}
