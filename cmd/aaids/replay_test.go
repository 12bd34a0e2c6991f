package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/destinations/slack"
	"github.com/activity-aware/ids/internal/localslack"
	"github.com/activity-aware/ids/internal/sharedfixtures"
	"github.com/activity-aware/ids/internal/subscriptiontest"
)

var summaryRE = regexp.MustCompile(`files (\d+), records (\d+), activities (\d+), unrecognized (\d+), errors (\d+), posted (\d+); ` +
	`derived (\d+), messages (\d+), digests (\d+), folded (\d+), suppressed (\d+), duplicates (\d+)`)

// summary parses replay's stderr summary line.
func summary(t *testing.T, stderr string) (s replayStats) {
	t.Helper()
	m := summaryRE.FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("no summary in stderr:\n%s", stderr)
	}
	n := make([]int, 12)
	for i := range n {
		n[i], _ = strconv.Atoi(m[i+1])
	}
	return replayStats{files: n[0], records: n[1], activities: n[2], unrecognized: n[3], errors: n[4], posted: n[5],
		derived: n[6], messages: n[7], digests: n[8], folded: n[9], suppressed: n[10], duplicates: n[11]}
}

const denied = `{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDAEXAMPLE","arn":"arn:aws:iam::123456789012:user/alice","accountId":"123456789012","accessKeyId":"AKIAEXAMPLE","userName":"alice"},"eventTime":"2026-11-20T10:00:00Z","eventSource":"iam.amazonaws.com","eventName":"GetPolicy","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.7","userAgent":"<!channel> aws-cli/2.15","errorCode":"AccessDenied","errorMessage":"User: arn:aws:iam::123456789012:user/alice is not authorized to perform: iam:GetPolicy on resource: policy arn:aws:iam::aws:policy/AdministratorAccess because no identity-based policy allows the iam:GetPolicy action","requestParameters":{"policyArn":"arn:aws:iam::aws:policy/AdministratorAccess"},"eventID":"5b3c1a52-0000-4000-8000-000000000001","readOnly":true,"eventType":"AwsApiCall","recipientAccountId":"123456789012"}`

func writeInput(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestReplayFormats(t *testing.T) {
	in := writeInput(t, "trail.json", `{"Records":[`+denied+`]}`)

	t.Run("json prints the EventBridge entry the source publishes", func(t *testing.T) {
		code, out, errOut := runAaids(t, "replay", "--format", "json", in)
		if code != exitOK {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		var e struct{ Source, DetailType, Detail string }
		if err := json.Unmarshal([]byte(out), &e); err != nil {
			t.Fatalf("not one JSON entry: %v\n%s", err, out)
		}
		if e.Source != "activity-aware-ids.cloudtrail" || e.DetailType != "Activity" {
			t.Fatalf("envelope %q %q", e.Source, e.DetailType)
		}
		a, err := activity.Parse([]byte(e.Detail))
		if err != nil {
			t.Fatalf("detail is not a valid activity: %v", err)
		}
		if a.ID != "5b3c1a52-0000-4000-8000-000000000001" || a.Action.Outcome != activity.Denied || a.Severity != activity.Medium {
			t.Fatalf("activity = %+v", a)
		}
		if a.Permission == nil || a.Permission.Action != "iam:GetPolicy" {
			t.Fatalf("denial not explained: %+v", a.Permission)
		}
		if got := summary(t, errOut); got != (replayStats{files: 1, records: 1, activities: 1}) {
			t.Fatalf("summary %+v", got)
		}
	})

	t.Run("slack prints a webhook payload Slack accepts", func(t *testing.T) {
		code, out, errOut := runAaids(t, "replay", "--format", "slack", in)
		if code != exitOK {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		if err := localslack.CheckLimits([]byte(out)); err != nil {
			t.Fatalf("Slack would refuse it: %v", err)
		}
		var text strings.Builder
		var walk func(v any)
		walk = func(v any) {
			switch v := v.(type) {
			case map[string]any:
				for _, x := range v {
					walk(x)
				}
			case []any:
				for _, x := range v {
					walk(x)
				}
			case string:
				text.WriteString(v + "\n")
			}
		}
		var payload any
		if err := json.Unmarshal([]byte(out), &payload); err != nil {
			t.Fatal(err)
		}
		walk(payload)
		if strings.Contains(text.String(), "<!channel>") || !strings.Contains(text.String(), "&lt;!channel&gt;") {
			t.Fatalf("user agent not escaped:\n%s", text.String())
		}
	})

	t.Run("text prints a readable preview", func(t *testing.T) {
		code, out, errOut := runAaids(t, "replay", in)
		if code != exitOK {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		for _, want := range []string{"alice", "iam:GetPolicy", "AccessDenied"} {
			if !strings.Contains(out, want) {
				t.Errorf("preview lacks %q:\n%s", want, out)
			}
		}
	})
}

func TestReplayPost(t *testing.T) {
	in := writeInput(t, "trail.json", `{"Records":[`+denied+`,`+denied+`]}`)
	srv := localslack.New()
	defer srv.Close()
	if code, _, errOut := runAaids(t, "replay", "--post", srv.URL(), in); code != exitUsage || !strings.Contains(errOut, "loopback host") {
		t.Fatalf("a loopback webhook without the local-testing setting: exit %d: %s", code, errOut)
	}

	code, _, errOut := runLocal(t, "replay", "--format", "json", "--post", srv.URL(), in)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	// The record is delivered twice; its activity is posted once.
	if got := len(srv.Messages()); got != 1 {
		t.Fatalf("Slack received %d messages, want 1", got)
	}
	if got := summary(t, errOut); got.posted != 1 || got.duplicates != 1 {
		t.Fatalf("summary %+v", got)
	}
	code, _, errOut = runLocal(t, "replay", "--format", "json", "--aggregate=false", "--post", srv.URL(), in)
	if code != exitOK || len(srv.Messages()) != 3 {
		t.Fatalf("--aggregate=false: exit %d, Slack holds %d messages, want 3: %s", code, len(srv.Messages()), errOut)
	}

	srv.Fail(localslack.ChannelNotFound(), 10)
	code, _, errOut = runLocal(t, "replay", "--format", "json", "--post", srv.URL(), in)
	if code != exitInput || !strings.Contains(errOut, "channel_not_found") {
		t.Fatalf("exit %d, want %d naming channel_not_found:\n%s", code, exitInput, errOut)
	}
	// One activity (its record twice): one failed post.
	if s := summary(t, errOut); s.errors != 1 || s.posted != 0 {
		t.Fatalf("summary %+v", s)
	}
	if strings.Contains(errOut, srv.URL()) {
		t.Fatal("the webhook URL (a secret) appears in the output")
	}
}

func TestReplayUsage(t *testing.T) {
	in := writeInput(t, "trail.json", `{"Records":[`+denied+`]}`)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no path", []string{"replay"}, "no PATH"},
		{"unknown format", []string{"replay", "--format", "xml", in}, `unknown --format "xml"`},
		{"unknown flag", []string{"replay", "--nope", in}, "flag provided but not defined"},
		{"plain http webhook", []string{"replay", "--post", "http://hooks.slack.com/services/T0/B0/SECRETTOKEN", in}, "--post"},
		{"unknown command", []string{"nope"}, `unknown command "nope"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := runAaids(t, tt.args...)
			if code != exitUsage || !strings.Contains(errOut, tt.want) {
				t.Fatalf("exit %d, stderr %q; want %d mentioning %q", code, errOut, exitUsage, tt.want)
			}
			if strings.Contains(errOut, "SECRETTOKEN") {
				t.Fatal("the webhook URL appears in the error")
			}
		})
	}
}

func TestReplayBadInputIsReportedAndTheRestProcessed(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"good.json":    `{"Records":[` + denied + `]}`,
		"broken.json":  "{\n\"Records\": [\n{\"a\":1}\n{\"b\":2}\n]\n}\n",
		"corrupt.json": `{"awslogs":{"data":"bm90IGd6aXA="}}`,
		"lines.ndjson": denied + "\n" + `{"some":"other shape"}` + "\n" + "not json at all\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	code, out, errOut := runAaids(t, "replay", "--format", "json", dir)
	if code != exitInput {
		t.Fatalf("exit %d, want %d:\n%s", code, exitInput, errOut)
	}
	for _, want := range []string{"broken.json", "corrupt.json", "lines.ndjson:3"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr does not report %s:\n%s", want, errOut)
		}
	}
	s := summary(t, errOut)
	// good (1) + lines.ndjson's record and the other-shaped document (2).
	if s.files != 4 || s.activities != 3 || s.unrecognized != 1 || s.errors != 3 {
		t.Fatalf("summary %+v", s)
	}
	if n := strings.Count(out, "\n"); n != 3 {
		t.Fatalf("%d entries printed, want 3", n)
	}
}

// failingWriter accepts n bytes, then fails every write.
type failingWriter struct{ n int }

func (w *failingWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		return 0, errors.New("broken pipe")
	}
	w.n -= len(p)
	return len(p), nil
}

// TestReplayWriteError: output that cannot be written (a closed pipe) is one
// error, reported once, and the replay still reads all of its input.
func TestReplayWriteError(t *testing.T) {
	var errOut bytes.Buffer
	out := &failingWriter{n: 100 << 10}
	code := run(context.Background(), []string{"replay", "--format", "json", sharedfixtures.CloudTrail(t)}, Stdio{In: strings.NewReader(""), Out: out, Err: &errOut, Getenv: func(string) string { return "" }})
	s := summary(t, errOut.String())
	if code != exitInput || strings.Count(errOut.String(), "write output: broken pipe") != 1 || s.errors != 1 {
		t.Fatalf("exit %d, want %d, and one write error:\n%s", code, exitInput, errOut.String())
	}
	if want := len(sharedfixtures.CloudTrailRecords(t)); s.records != want || out.n == 100<<10 {
		t.Fatalf("summary %+v, want %d records read (and some output written: %d bytes left)", s, want, out.n)
	}
}

// TestReplaySharedFixtures replays every recorded CloudTrail file: every record
// yields exactly one valid activity, and nothing errors; the malformed export
// is reported as unreadable without a crash.
func TestReplaySharedFixtures(t *testing.T) {
	dir := sharedfixtures.CloudTrail(t)
	wantRecords := len(sharedfixtures.CloudTrailRecords(t))

	code, out, errOut := runAaids(t, "replay", "--format", "json", dir)
	if code != exitOK {
		t.Fatalf("exit %d:\n%s", code, errOut)
	}
	s := summary(t, errOut)
	if s.records != wantRecords || s.activities != wantRecords+s.derived || s.errors != 0 {
		t.Fatalf("summary %+v, want %d records and as many activities (and the derived ones), no errors", s, wantRecords)
	}
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	lines := 0
	for ; sc.Scan(); lines++ {
		var e struct{ Source, DetailType, Detail string }
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatal(err)
		}
		if _, err := activity.Parse([]byte(e.Detail)); err != nil {
			t.Fatalf("invalid activity: %v", err)
		}
		// Each line is the entry as encoding/json writes it.
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(e); err != nil || !bytes.Equal(append(sc.Bytes(), '\n'), want.Bytes()) {
			t.Fatalf("line %d is not encoding/json's encoding of its entry (%v):\n got %s\nwant %s", lines+1, err, sc.Bytes(), want.Bytes())
		}
	}
	if lines != s.activities {
		t.Fatalf("%d lines for %d activities", lines, s.activities)
	}

	code, _, errOut = runAaids(t, "replay", sharedfixtures.Dir(t, "fixtures", "malformed"))
	if code != exitInput || !strings.Contains(errOut, "concatenated-objects.json") || !strings.Contains(errOut, "not JSON data") {
		t.Fatalf("malformed: exit %d, stderr:\n%s", code, errOut)
	}
}

func TestReplayFilterPatternAndDetections(t *testing.T) {
	success := strings.NewReplacer(`"errorCode":"AccessDenied",`, ``, `"eventID":"5b3c1a52-0000-4000-8000-000000000001"`, `"eventID":"5b3c1a52-0000-4000-8000-000000000002"`).Replace(denied)
	in := writeInput(t, "trail.json", `{"Records":[`+denied+`,`+success+`]}`)
	const pattern = `{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }`

	code, out, errOut := runAaids(t, "replay", "--format", "json", "--filter-pattern", pattern, in)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if s := summary(t, errOut); s.records != 2 || s.activities != 1 {
		t.Fatalf("summary %+v, want 2 records read and 1 selected", s)
	}
	var e struct{ Detail string }
	if err := json.Unmarshal([]byte(out), &e); err != nil {
		t.Fatal(err)
	}
	a, err := activity.Parse([]byte(e.Detail))
	if err != nil {
		t.Fatal(err)
	}
	if a.ID != "5b3c1a52-0000-4000-8000-000000000001" || len(a.Detections) != 1 || a.Detections[0].ID != "unauthorized-api-calls" {
		t.Fatalf("selected %s with detections %+v", a.ID, a.Detections)
	}

	code, _, errOut = runAaids(t, "replay", "--filter-pattern", `{ $.errorCode = }`, in)
	if code != exitUsage || !strings.Contains(errOut, "column") {
		t.Fatalf("malformed pattern: exit %d, stderr %q", code, errOut)
	}
	code, _, errOut = runAaids(t, "replay", "--detections", "no-such-preset", in)
	if code != exitUsage || !strings.Contains(errOut, "no-such-preset") {
		t.Fatalf("unknown preset: exit %d, stderr %q", code, errOut)
	}
}

// TestReplayEvents replays each event source's real fixtures, as files and
// as one event per line, through the same code the event-source function
// runs: every event becomes the source's activities.
func TestReplayEvents(t *testing.T) {
	tests := []struct {
		dir        string
		source     string
		activities int
		ids        []string
	}{{
		dir:        "../../sources/guardduty/testdata",
		source:     "activity-aware-ids.guardduty",
		activities: 3,
		ids:        []string{"guardduty-16afba5c5c43e07c9e3e5e2e544e95df@2017-10-31T23:16:23.824Z"},
	}, {
		dir:        "../../sources/securityhub/testdata",
		source:     "activity-aware-ids.securityhub",
		activities: 8, // 9 findings in 7 events, one of them resolved
		ids:        []string{"securityhub-arn:aws:securityhub:us-east-1:111111111111:subscription/aws-foundational-security-best-practices/v/1.0.0/IAM.6/finding/9edca51b-6b6e-4307-a634-541603f62fa0@2020-12-15T14:56:09.255Z"},
	}, {
		dir:        "../../sources/accessanalyzer/testdata",
		source:     "activity-aware-ids.accessanalyzer",
		activities: 5,
		ids:        []string{"accessanalyzer-b8ae0460-5d29-4922-b92a-ba956c986277@2023-09-29T17:29:18.758Z"},
	}, {
		dir:        "../../sources/cloudtrailevents/testdata",
		source:     "activity-aware-ids.cloudtrail",
		activities: 2,
		ids:        []string{"450230d4-b39e-4a18-a6a0-d07a6e2105cb", "d38ce1b3-4575-4cb8-a632-611b8243bfc3"},
	}}
	for _, tt := range tests {
		t.Run(filepath.Base(filepath.Dir(tt.dir)), func(t *testing.T) {
			files, err := filepath.Glob(filepath.Join(tt.dir, "*.json"))
			if err != nil || len(files) == 0 {
				t.Fatalf("no fixtures in %s", tt.dir)
			}
			var lines strings.Builder
			for _, f := range files {
				raw, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				var v any
				if err := json.Unmarshal(raw, &v); err != nil {
					t.Fatal(err)
				}
				line, _ := json.Marshal(v)
				lines.Write(append(line, '\n'))
			}
			ndjson := writeInput(t, "events.jsonl", lines.String())
			for _, in := range []string{tt.dir, ndjson} {
				code, out, errOut := runAaids(t, "replay", "--format", "json", in)
				if code != exitOK {
					t.Fatalf("%s: exit %d: %s", in, code, errOut)
				}
				ids, n := map[string]bool{}, 0
				sc := bufio.NewScanner(strings.NewReader(out))
				sc.Buffer(nil, 1<<20)
				for sc.Scan() {
					var e struct{ Source, DetailType, Detail string }
					if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
						t.Fatal(err)
					}
					a, err := activity.Parse([]byte(e.Detail))
					if err != nil || e.Source != tt.source {
						t.Fatalf("entry %s: %v", e.Source, err)
					}
					ids[a.ID] = true
					n++
				}
				if n != tt.activities {
					t.Errorf("%s: %d activities, want %d", in, n, tt.activities)
				}
				for _, id := range tt.ids {
					if !ids[id] {
						t.Errorf("%s: no activity %s", in, id)
					}
				}
				if got := summary(t, errOut); got.records != len(files) || got.activities != tt.activities || got.errors != 0 {
					t.Errorf("%s: summary %+v", in, got)
				}
			}
		})
	}
}

// runLocal is runAaids with the local-testing setting on, so --post may name
// a local Slack endpoint.
func runLocal(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	getenv := func(k string) string {
		if k == slack.EnvAllowLoopbackWebhook {
			return "true"
		}
		return ""
	}
	code = run(context.Background(), args, Stdio{In: strings.NewReader(""), Out: &out, Err: &errOut, Getenv: getenv})
	return code, out.String(), errOut.String()
}

// TestReplayPostApp: --post app posts as the Slack app in $SLACK_APP_SECRET,
// threading as deployed: 12 denials of one principal are one parent, 11
// replies and the digest in its thread, the parent's count final.
func TestReplayPostApp(t *testing.T) {
	const token, channel = "xoxb-1234567890-0987654321-r3playT0ken", "C0123456789"
	var records []string
	for i := range 12 {
		r := strings.Replace(denied, "5b3c1a52-0000-4000-8000-000000000001", fmt.Sprintf("5b3c1a52-0000-4000-8000-%012d", i), 1)
		r = strings.Replace(r, "2026-11-20T10:00:00Z", fmt.Sprintf("2026-11-20T10:00:%02dZ", i*4), 1)
		records = append(records, r)
	}
	in := writeInput(t, "trail.json", `{"Records":[`+strings.Join(records, ",")+`]}`)
	srv := localslack.New()
	defer srv.Close()
	srv.AddBot(token, channel)
	env := map[string]string{
		slack.EnvAllowLoopbackWebhook: "true", slack.EnvAPIURL: srv.APIURL(),
		envSlackAppSecret: `{"botToken":"` + token + `","channel":"` + channel + `"}`,
	}
	code, _, errOut := runAaidsEnv(t, env, "replay", "--format", "slack", "--post", "app", in)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	top := srv.TopLevel(channel)
	if len(top) != 1 {
		t.Fatalf("%d top-level messages, want the parent", len(top))
	}
	replies := srv.Replies(channel, top[0].TS)
	if len(replies) != 12 || !strings.HasPrefix(replies[11].Text, "Digest") {
		t.Fatalf("%d replies, want 11 and the digest", len(replies))
	}
	if parent, _ := srv.Message(channel, top[0].TS); !strings.Contains(string(parent.Blocks), "11 more in thread · window closed") {
		t.Fatalf("parent's count: %s", parent.Blocks)
	}
	if s := summary(t, errOut); s.posted != 13 || s.errors != 0 || !strings.Contains(errOut, "replies 11") {
		t.Fatalf("summary %+v: %s", s, errOut)
	}

	// Refused before anything is read or posted, never showing the token.
	for name, env := range map[string]map[string]string{
		"no secret":             {slack.EnvAllowLoopbackWebhook: "true"},
		"a webhook, not an app": {envSlackAppSecret: "https://hooks.slack.com/services/T0/B0/X"},
		"a user token":          {envSlackAppSecret: `{"botToken":"xoxp-1234567890-r3playT0ken","channel":"C0123456789"}`},
		"Web API not loopback":  {envSlackAppSecret: env[envSlackAppSecret], slack.EnvAPIURL: srv.APIURL()},
	} {
		t.Run(name, func(t *testing.T) {
			code, _, errOut := runAaidsEnv(t, env, "replay", "--post", "app", in)
			if code != exitUsage || strings.Contains(errOut, "r3playT0ken") {
				t.Fatalf("exit %d, want %d without the token: %s", code, exitUsage, errOut)
			}
		})
	}
}

// TestReplayCorrelatesAcrossBatches: a burst of denials spread over many
// subscription batches, each built in the memory of the one before, is
// derived from what its own records say, not from what took their place.
func TestReplayCorrelatesAcrossBatches(t *testing.T) {
	record := func(user, ip, agent string, i int) string {
		return fmt.Sprintf(`{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDA%s","arn":"arn:aws:iam::123456789012:user/%s","accountId":"123456789012","userName":"%s"},`+
			`"eventTime":"2026-11-20T10:00:%02dZ","eventSource":"ec2.amazonaws.com","eventName":"DescribeInstances","awsRegion":"us-east-1","sourceIPAddress":"%s","userAgent":"%s",`+
			`"errorCode":"Client.UnauthorizedOperation","errorMessage":"You are not authorized to perform this operation.","eventID":"%s-%02d","eventType":"AwsApiCall","recipientAccountId":"123456789012"}`,
			user, user, user, i, ip, agent, user, i)
	}
	// mallory's first record is where trudy's are in every later batch.
	var lines []string
	for i := range 24 {
		b := []string{record("mallory", "198.51.100.9", "scanner/1.0", i)}
		if i > 0 {
			b = append([]string{record("trudy00", "203.0.113.77", "another/9.9", i)}, b...)
		}
		line, err := json.Marshal(subscriptiontest.Event(subscriptiontest.Batch{UniqueIDs: true}.JSON(b...)))
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, string(line))
	}
	code, out, errOut := runAaids(t, "replay", "--format", "json", writeInput(t, "batches.ndjson", strings.Join(lines, "\n")))
	if code != exitOK {
		t.Fatalf("exit %d:\n%s", code, errOut)
	}
	bursts := map[string]*activity.Activity{}
	for line := range strings.Lines(out) {
		var e struct{ Source, Detail string }
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatal(err)
		}
		if e.Source == "activity-aware-ids.correlation" {
			a, err := activity.Parse([]byte(e.Detail))
			if err != nil {
				t.Fatal(err)
			}
			bursts[a.Actor.Name] = a
		}
	}
	for user, want := range map[string][2]string{"mallory": {"198.51.100.9", "scanner/1.0"}, "trudy00": {"203.0.113.77", "another/9.9"}} {
		a := bursts[user]
		if a == nil {
			t.Fatalf("no burst for %s; bursts %v\n%s", user, bursts, errOut)
		}
		fields := map[string]string{}
		for _, f := range a.Fields {
			fields[f.Key] = f.Value
		}
		if a.Actor.ARN != "arn:aws:iam::123456789012:user/"+user || a.Actor.SourceIP != want[0] ||
			fields["Source IPs"] != want[0] || fields["User agents"] != want[1] {
			t.Errorf("burst of %s: actor %+v, fields %v; want its own IP %s and agent %s", user, a.Actor, fields, want[0], want[1])
		}
	}
}
