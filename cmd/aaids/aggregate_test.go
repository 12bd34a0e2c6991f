package main

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/internal/localslack"
	"github.com/activity-aware/ids/internal/probe"
)

var eventIDRE = regexp.MustCompile(`Event ID: ([^"\s]+)`)

// TestReplayCredentialProbe is the probe scenario: 451 records (400 denied
// calls by one IAM user in three minutes, 30 of them delivered twice, ten
// other people with two denials each, one StopLogging by an admin) make at
// most 24 messages, with the StopLogging posted at once, the burst named
// once with its count, no event posted twice and every activity published.
func TestReplayCredentialProbe(t *testing.T) {
	in := writeInput(t, "probe.json", string(probe.Log()))
	dets := "unauthorized-api-calls,self-trail-or-log-group-stopped"

	code, out, errOut := runAaids(t, "replay", "--format", "slack", "--detections", dets, in)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	msgs := strings.Split(strings.TrimSpace(out), "\n")
	if len(msgs) > 24 {
		t.Fatalf("%d messages, want at most 24", len(msgs))
	}
	seen := map[string]int{}
	var bursts, digests int
	stopAt := -1
	for i, m := range msgs {
		if err := localslack.CheckLimits([]byte(m)); err != nil {
			t.Fatalf("message %d refused: %v", i, err)
		}
		if strings.Contains(m, "Possible credential misuse") {
			bursts++
			if !strings.Contains(m, "20 denied calls") {
				t.Errorf("burst without its count: %s", m)
			}
		}
		if strings.Contains(m, `"Digest: `) {
			digests++
			if strings.Contains(m, "ci-deployer") && !strings.Contains(m, "400 denied calls in 3 min") {
				t.Errorf("the probe's digest does not state its total: %s", m)
			}
			continue
		}
		id := eventIDRE.FindStringSubmatch(m)
		if id == nil {
			t.Fatalf("message %d has no event id: %s", i, m)
		}
		seen[id[1]]++
		if id[1] == probe.StopLoggingID {
			stopAt = i
		}
	}
	for id, n := range seen {
		if n > 1 {
			t.Errorf("event %s posted %d times", id, n)
		}
	}
	if bursts != 1 {
		t.Errorf("burst named in %d messages, want 1", bursts)
	}
	if stopAt < 0 || stopAt >= len(msgs)-digests {
		t.Errorf("StopLogging posted at message %d of %d (digests %d): it must be posted at once", stopAt, len(msgs), digests)
	}
	st := summary(t, errOut)
	if st.records != probe.Records || st.activities != probe.Records+1 {
		t.Fatalf("summary %+v", st)
	}
	t.Logf("%d records → %d messages (%d digests); %s", st.records, len(msgs), digests, strings.TrimSpace(errOut))

	// Every activity is published, the derived burst with them.
	code, out, errOut = runAaids(t, "replay", "--format", "json", "--detections", dets, in)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	entries := strings.Split(strings.TrimSpace(out), "\n")
	if len(entries) != probe.Records+1 {
		t.Fatalf("%d entries published, want %d", len(entries), probe.Records+1)
	}
	var derived int
	for _, line := range entries {
		var e struct{ Source, Detail string }
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatal(err)
		}
		if e.Source == activity.SourcePrefix+"correlation" {
			derived++
		}
	}
	if derived != 1 {
		t.Fatalf("%d derived entries, want 1", derived)
	}

	// --aggregate=false is one message per activity.
	code, out, errOut = runAaids(t, "replay", "--format", "slack", "--aggregate=false", "--detections", dets, in)
	if code != exitOK || strings.Count(out, "\n") != probe.Records+1 {
		t.Fatalf("exit %d, %d messages without aggregation: %s", code, strings.Count(out, "\n"), errOut)
	}
}

// TestReplayProbeOtherFormats: the other destinations apply the same
// policy as deployed: the probe's 400 denials by ci-deployer are one
// webhook at once and one signed digest counting all 400, every activity
// the rule passes is delivered once or counted in a digest (a re-delivered
// record is a duplicate); PagerDuty pages
// only for what is high or above, the burst and the StopLogging.
func TestReplayProbeOtherFormats(t *testing.T) {
	in := writeInput(t, "probe.json", string(probe.Log()))
	dets := "unauthorized-api-calls,self-trail-or-log-group-stopped"

	code, out, errOut := runAaids(t, "replay", "--format", "webhook", "--detections", dets, in)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var delivered, folded int64
	var probeDigest bool
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var p struct {
			Type string `json:"type"`
			Data struct {
				ID        string `json:"id"`
				Principal string `json:"principal"`
				Count     int64  `json:"count"`
			} `json:"data"`
		}
		if err := json.Unmarshal([]byte(line), &p); err != nil {
			t.Fatalf("not JSON: %v: %.200s", err, line)
		}
		switch p.Type {
		case "activity-aware-ids.activity":
			delivered++
		case "activity-aware-ids.digest":
			folded += p.Data.Count - 1
			probeDigest = probeDigest || (strings.Contains(p.Data.Principal, "ci-deployer") && p.Data.Count == 400)
		default:
			t.Fatalf("type %q", p.Type)
		}
	}
	st := summary(t, errOut)
	// Each activity once: the re-delivered records are duplicates.
	if !probeDigest || delivered+folded != int64(st.activities-st.duplicates) || st.duplicates != 30 || delivered > 24 {
		t.Errorf("%d delivered + %d folded for %d activities, %d duplicates (probe's digest of 400: %v)", delivered, folded, st.activities, st.duplicates, probeDigest)
	}

	code, out, errOut = runAaids(t, "replay", "--format", "pagerduty", "--detections", dets, in)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if events := strings.Split(strings.TrimSpace(out), "\n"); len(events) != 2 ||
		!strings.Contains(out, "Possible credential misuse") || !strings.Contains(out, `"severity":"critical"`) {
		t.Errorf("PagerDuty events:\n%s", out)
	}
}
