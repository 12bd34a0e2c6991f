package denial_test

import (
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/denial"
	"github.com/activity-aware/ids/logfile"
	"github.com/activity-aware/ids/sources/cloudtrail"
	"github.com/activity-aware/ids/test/sharedfixtures"
)

// statedAction is AWS's "not authorized to perform: svc:Action" wording.
var statedAction = regexp.MustCompile(`(?i)not authorized to perform:?\s+([a-z0-9-]+):([a-z0-9*]+)`)

// TestRecordedDenials runs every shared CloudTrail record through the real
// CloudTrail source with the Enricher and checks every denial is explained:
// the action AWS states is the one reported, every denial of a known event
// has an action. It logs the counts per reason class.
func TestRecordedDenials(t *testing.T) {
	dir := sharedfixtures.CloudTrail(t)
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
	stats, errs, stop := logfile.Read([]string{dir}, logfile.Options{}, func(it logfile.Item) error {
		switch it.Kind {
		case logfile.Record:
			check(it.Path, src.FromRecord(it.Raw, nil, now))
		case logfile.LogsData:
			for _, a := range src.FromLogsData(it.LogsData) {
				check(it.Path, a)
			}
		}
		return nil
	})
	if stop != nil {
		t.Fatal(stop)
	}
	for _, err := range errs {
		t.Errorf("read fixtures: %v", err)
	}
	if denied == 0 {
		t.Fatalf("no denied record among %d items of %d files", stats.Items, stats.Files)
	}
	t.Logf("%d items in %d files: %d denied; %d with an action (%d stated in the message), %d with a resource other than %q; %d fixable by an allow, %d refused by a guardrail",
		stats.Items, stats.Files, denied, withAction, stated, withResource, denial.AnyResource, fixable, guardrail)
	names := make([]string, 0, len(reasons))
	for r := range reasons {
		names = append(names, r)
	}
	sort.Strings(names)
	for _, r := range names {
		t.Logf("  reason %-36s %d", r, reasons[r])
	}
}
