package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/internal/subscriptiontest"
	"github.com/activity-aware/ids/sources/cloudtrail"
)

// TestReplayInOrderOnEveryCore: replay standardizes items ahead of printing
// them, on every core; what it prints, and the errors it reports, are in the
// order of the input all the same, each subscription batch printed from its
// own memory (not from the batch built after it), and the same on one core.
func TestReplayInOrderOnEveryCore(t *testing.T) {
	n := 0
	var want []string // event IDs, in the order of the input
	record := func() string {
		n++
		id := fmt.Sprintf("ev-%05d", n)
		want = append(want, id)
		outcome := ""
		if n%3 == 0 {
			outcome = `"errorCode":"AccessDenied","errorMessage":"denied",`
		}
		return fmt.Sprintf(`{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDA%d","arn":"arn:aws:iam::123456789012:user/u%d","accountId":"123456789012","userName":"u%d"},`+
			`"eventTime":"2026-11-20T10:%02d:%02dZ","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.%d","userAgent":"agent/%d",%s`+
			`"eventID":"%s","eventType":"AwsApiCall","recipientAccountId":"123456789012"}`, n%7, n%7, n%7, n/60%60, n%60, n%250, n, outcome, id)
	}
	dir := t.TempDir()
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// a.ndjson: subscription batches of 1 to 40 records, records of their
	// own and lines that are not JSON between them.
	var lines []string
	for i := range 60 {
		switch i % 5 {
		case 3:
			lines = append(lines, record())
		case 4:
			lines = append(lines, fmt.Sprintf(`{"broken": %d`, i))
		default:
			var batch []string
			for range 1 + i*7%40 {
				batch = append(batch, record())
			}
			line, err := json.Marshal(subscriptiontest.Event(subscriptiontest.Batch{UniqueIDs: true}.JSON(batch...)))
			if err != nil {
				t.Fatal(err)
			}
			lines = append(lines, string(line))
		}
	}
	write("a.ndjson", strings.Join(lines, "\n"))
	// b.json: a CloudTrail log file of 600 records, more than one run,
	// every seventh in an EventBridge envelope (standardized on its own
	// between records standardized together).
	var records []string
	for i := range 600 {
		if r := record(); i%7 == 3 {
			records = append(records, `{"version":"0","id":"e-`+strconv.Itoa(i)+`","detail-type":"AWS API Call via CloudTrail","source":"aws.s3","account":"123456789012","time":"2026-11-20T10:00:00Z","region":"us-east-1","resources":[],"detail":`+r+`}`)
		} else {
			records = append(records, r)
		}
	}
	write("b.json", `{"Records":[`+strings.Join(records, ",")+`]}`)
	// c.ndjson: a batch after the log file.
	line, err := json.Marshal(subscriptiontest.Event(subscriptiontest.Batch{UniqueIDs: true}.JSON(record(), record())))
	if err != nil {
		t.Fatal(err)
	}
	write("c.ndjson", string(line))

	replay := func(procs int) (out, errOut string) {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		code, out, errOut := runAaids(t, "replay", "--format", "json", dir)
		if code != exitInput { // the broken lines
			t.Fatalf("GOMAXPROCS %d: exit %d:\n%s", procs, code, errOut)
		}
		return out, errOut
	}
	out, errOut := replay(4)
	var got []string
	for line := range strings.Lines(out) {
		var e struct{ Source, Detail string }
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatal(err)
		}
		if e.Source != "activity-aware-ids.cloudtrail" {
			continue // a burst the correlation derived
		}
		a, err := activity.Parse([]byte(e.Detail))
		if err != nil {
			t.Fatal(err)
		}
		var rec struct{ EventID string }
		if err := json.Unmarshal(a.Detail, &rec); err != nil || !strings.HasSuffix(a.Subject, "s3:GetObject") {
			t.Fatalf("activity %s: subject %q, detail %.80s", a.ID, a.Subject, a.Detail)
		}
		got = append(got, rec.EventID)
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("%d activities printed, %d records read; first difference:", len(got), len(want))
		for i := range min(len(got), len(want)) {
			if got[i] != want[i] {
				t.Errorf("activity %d is %s, want %s", i, got[i], want[i])
				break
			}
		}
	}
	var broken []string
	for line := range strings.Lines(errOut) {
		if strings.Contains(line, "invalid JSON line") {
			broken = append(broken, strings.TrimSpace(line))
		}
	}
	if len(broken) != 12 || !strings.Contains(broken[0], "a.ndjson:5:") || !strings.Contains(broken[11], "a.ndjson:60:") {
		t.Errorf("errors for the 12 broken lines, in order: %q", broken)
	}
	if s := summary(t, errOut); s.files != 3 || s.records != len(want) || s.errors != 12 {
		t.Errorf("summary %+v: want 3 files, %d records, 12 errors", s, len(want))
	}
	if out1, errOut1 := replay(1); out1 != out || errOut1 != errOut {
		t.Errorf("on one core replay printed something else:\n%s", errOut1)
	}
}

// TestReplayLogFileAsRecords checks that the records of a log file, read
// together in a run's batch with the file's check vouching for those it can,
// become what FromRecord makes of each alone: a record with a lone surrogate
// escape (which the file's check cannot vouch for: encoding/json reads
// U+FFFD), and the records of a file laid out with whitespace (whose Detail
// is compacted).
func TestReplayLogFileAsRecords(t *testing.T) {
	rec := func(id, agent string) string {
		return `{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::123456789012:user/u","accountId":"123456789012","userName":"u"},` +
			`"eventTime":"2026-11-20T10:00:00Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"us-east-1","userAgent":"` + agent + `","eventID":"` + id + `"}`
	}
	compact := `{"Records":[` + rec("c1", "plain") + `,` + rec("c2", `lone\ud800`) + `]}`
	var spaced bytes.Buffer
	if err := json.Indent(&spaced, []byte(`{"Records":[`+rec("s1", "plain")+`,`+rec("s2", `tab\t`)+`]}`), "", "  "); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	src := cloudtrail.New(cloudtrail.Options{})
	for _, doc := range []string{compact, spaced.String()} {
		var f struct{ Records []json.RawMessage }
		if err := json.Unmarshal([]byte(doc), &f); err != nil {
			t.Fatal(err)
		}
		for _, r := range f.Records {
			a := src.FromRecord(r, nil, time.Now())
			var detail bytes.Buffer // as it is encoded
			if err := json.Compact(&detail, a.Detail); err != nil {
				t.Fatal(err)
			}
			want[a.ID] = a.Actor.UserAgent + " " + detail.String()
		}
	}
	for name, doc := range map[string]string{"compact.json": compact, "spaced.json": spaced.String()} {
		in := writeInput(t, name, doc)
		code, out, errOut := runAaids(t, "replay", "--format", "json", in)
		if code != exitOK {
			t.Fatalf("%s: exit %d: %s", name, code, errOut)
		}
		n := 0
		for line := range strings.Lines(out) {
			var e struct{ Source, Detail string }
			if err := json.Unmarshal([]byte(line), &e); err != nil {
				t.Fatal(err)
			}
			a, err := activity.Parse([]byte(e.Detail))
			if err != nil || e.Source != "activity-aware-ids.cloudtrail" {
				continue // a correlation's
			}
			n++
			if got := a.Actor.UserAgent + " " + string(a.Detail); got != want[a.ID] {
				t.Errorf("%s: activity %s is\n%s\nwant\n%s", name, a.ID, got, want[a.ID])
			}
		}
		if n != 2 {
			t.Errorf("%s: %d activities, want 2", name, n)
		}
	}
	if !strings.Contains(want["c2"], "lone\uFFFD ") || strings.Contains(want["s1"], " \"") {
		t.Fatalf("the reference is not what the test needs: %q", want)
	}
}
