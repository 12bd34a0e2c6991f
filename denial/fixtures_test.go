package denial_test

import (
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fastjson"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/denial"
	"github.com/activity-aware/ids/internal/sharedfixtures"
	"github.com/activity-aware/ids/sources/cloudtrail"
)

// statedAction is AWS's "not authorized to perform: svc:Action" wording.
var statedAction = regexp.MustCompile(`(?i)not authorized to perform:?\s+([a-z0-9-]+):([a-z0-9*]+)`)

// TestRecordedDenials runs every shared CloudTrail record through the real
// CloudTrail source with the Enricher and checks every denial is explained:
// the action AWS states is the one reported, every denial of a known event
// has an action. It logs the counts per reason class.
func TestRecordedDenials(t *testing.T) {
	src := cloudtrail.New(cloudtrail.Options{Enrichers: []cloudtrail.Enricher{denial.Enricher{}}})
	now := time.Now().UTC()

	var denied, withAction, stated, withResource, fixable, guardrail int
	reasons := map[string]int{}
	check := func(path string, a *activity.Activity) {
		if a.Action == nil || a.Action.Outcome != activity.Denied {
			return
		}
		denied++
		p := a.Permission
		if p == nil {
			t.Errorf("%s: denied activity %s has no permission", path, a.ID)
			return
		}
		reasons[p.Reason]++
		if p.Action != "" {
			withAction++
		} else if a.Action.Service != "" && a.Action.Name != "" {
			t.Errorf("%s: %s %s denied without an action", path, a.Action.Service, a.Action.Name)
		}
		if m := statedAction.FindStringSubmatch(a.Action.ErrorMessage); m != nil {
			stated++
			if want := strings.ToLower(m[1]) + ":" + m[2]; p.Action != want {
				t.Errorf("%s: action %q, message states %q", path, p.Action, want)
			}
		}
		if p.Resource != denial.AnyResource {
			withResource++
		}
		if p.Fixable {
			fixable++
		}
		if p.Guardrail {
			guardrail++
		}
	}
	records := sharedfixtures.CloudTrailRecords(t)
	for _, r := range records {
		check(r.Path, src.FromRecord(r.Raw, nil, now))
	}
	if denied == 0 {
		t.Fatalf("no denied record among %d records", len(records))
	}
	t.Logf("%d records: %d denied; %d with an action (%d stated in the message), %d with a resource other than %q; %d fixable by an allow, %d refused by a guardrail",
		len(records), denied, withAction, stated, withResource, denial.AnyResource, fixable, guardrail)
	names := make([]string, 0, len(reasons))
	for r := range reasons {
		names = append(names, r)
	}
	sort.Strings(names)
	for _, r := range names {
		t.Logf("  reason %-36s %d", r, reasons[r])
	}
}

// BenchmarkExplainRecorded explains every denial among the shared CloudTrail
// records, as the source's enricher does: the cost of the denial
// explanation per denied record.
func BenchmarkExplainRecorded(b *testing.B) {
	src := cloudtrail.New(cloudtrail.Options{})
	now := time.Now().UTC()
	type denied struct {
		a   *activity.Activity
		rec *fastjson.Value
	}
	var all []denied
	for _, r := range sharedfixtures.CloudTrailRecords(b) {
		a := src.FromRecord(r.Raw, nil, now)
		if a.Action == nil || a.Action.Outcome != activity.Denied {
			continue
		}
		rec, err := fastjson.ParseBytes(r.Raw)
		if err != nil {
			b.Fatalf("%s: %v", r.Path, err)
		}
		all = append(all, denied{a, rec})
	}
	if len(all) == 0 {
		b.Fatal("no denied record")
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d := all[i%len(all)]
		if denial.Explain(d.a, d.rec) == nil {
			b.Fatal("a denial not explained")
		}
	}
}
