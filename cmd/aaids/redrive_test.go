package main

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/internal/lambdaemu"
	"github.com/activity-aware/ids/internal/localeventbridge"
	"github.com/activity-aware/ids/internal/locallambda"
	"github.com/activity-aware/ids/internal/localsqs"
)

const destARN = "arn:aws:lambda:us-east-1:111122223333:function:SlackDestination"

// destination stands in for the destination function behind the local
// Lambda endpoint (the end-to-end suite runs the real one): it records the
// activity ids it accepted and refuses those listed in refuse once each.
type destination struct {
	mu       sync.Mutex
	accepted []string
	refuse   map[string]bool
}

func (d *destination) Invoke(_ context.Context, payload []byte) (*lambdaemu.Result, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var ev events.EventBridgeEvent
	var a struct{ ID string }
	_ = json.Unmarshal(payload, &ev)
	_ = json.Unmarshal(ev.Detail, &a)
	if d.refuse[a.ID] {
		delete(d.refuse, a.ID)
		return &lambdaemu.Result{Payload: []byte(`{"errorMessage":"slack: deliver: webhook answered 500","errorType":"wrapError"}`),
			Err: &lambdaemu.FunctionError{Message: "slack: deliver: webhook answered 500", Type: "wrapError"}}, nil
	}
	d.accepted = append(d.accepted, a.ID)
	return &lambdaemu.Result{Payload: []byte("null")}, nil
}

// activityEvent is the EventBridge event of an activity with id and subject.
func activityEvent(t *testing.T, id, subject string) []byte {
	t.Helper()
	detail, err := json.Marshal(map[string]any{"schemaVersion": "1.0", "id": id, "source": "cloudtrail", "subject": subject, "severity": "medium", "time": "2026-11-28T12:00:00Z"})
	if err != nil {
		t.Fatal(err)
	}
	ev, err := json.Marshal(map[string]any{"version": "0", "id": "ev-" + id, "detail-type": "Activity", "source": "activity-aware-ids.cloudtrail",
		"account": "111122223333", "time": "2026-11-28T12:00:01Z", "region": "us-east-1", "resources": []string{}, "detail": json.RawMessage(detail)})
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// onFailure is the record Lambda sends to an on-failure destination.
func onFailure(t *testing.T, fn string, payload []byte) string {
	t.Helper()
	last := &lambdaemu.Result{Payload: []byte(`{"errorMessage":"slack: deliver: webhook answered 404 channel_not_found","errorType":"wrapError"}`)}
	b, err := lambdaemu.OnFailureRecord(fn, payload, last, 3, time.Date(2026, 11, 28, 12, 1, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// deadLetter is the attributes an EventBridge rule sets on a dead letter.
func deadLetter(code, msg string) map[string]localsqs.Attribute {
	return map[string]localsqs.Attribute{
		"RULE_ARN":      localsqs.StringAttribute("arn:aws:events:us-east-1:111122223333:rule/bus/SlackRule"),
		"TARGET_ARN":    localsqs.StringAttribute(destARN),
		"ERROR_CODE":    localsqs.StringAttribute(code),
		"ERROR_MESSAGE": localsqs.StringAttribute(msg),
	}
}

type redriveEnv struct {
	now   time.Time
	sqs   *localsqs.Server
	queue string
	eb    *localeventbridge.Server
	fn    *destination
	lam   *locallambda.Server
}

func newRedriveEnv(t *testing.T) *redriveEnv {
	e := &redriveEnv{sqs: localsqs.New("parked"), eb: localeventbridge.New(localeventbridge.Options{BusName: "bus"}), fn: &destination{refuse: map[string]bool{}}}
	e.lam = locallambda.New(map[string]locallambda.Function{"SlackDestination": e.fn})
	t.Cleanup(e.sqs.Close)
	t.Cleanup(e.eb.Close)
	t.Cleanup(e.lam.Close)
	e.queue = e.sqs.QueueURL("parked")
	e.now = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	e.sqs.Now = func() time.Time { return e.now }
	e.sqs.Setenv(t)
	t.Setenv("AWS_ENDPOINT_URL_EVENTBRIDGE", e.eb.URL())
	t.Setenv("AWS_ENDPOINT_URL_LAMBDA", e.lam.URL())
	return e
}

func (e *redriveEnv) advance(d time.Duration) { e.now = e.now.Add(d) }

func (e *redriveEnv) park(t *testing.T, body string, attrs map[string]localsqs.Attribute) {
	t.Helper()
	if _, err := e.sqs.Send(e.queue, body, attrs); err != nil {
		t.Fatal(err)
	}
}

func TestRedriveToFunction(t *testing.T) {
	e := newRedriveEnv(t)
	hostile := "evil\x1b[2J\u202e<!channel>\nredriven fake line"
	e.park(t, onFailure(t, destARN, activityEvent(t, "act-1", "first")), nil)
	e.park(t, onFailure(t, destARN, activityEvent(t, "act-2", hostile)), nil)
	e.park(t, string(activityEvent(t, "act-3", "third")), deadLetter("SDK_CLIENT_ERROR", "Lambda rate exceeded"))

	// A dry run shows all three and leaves them parked and visible.
	code, out, errOut := runAaids(t, "redrive", e.queue, "--dry-run")
	if code != exitOK || strings.Count(out, "parked ") != 3 || !strings.Contains(out, kindDeadLetter) || !strings.Contains(out, "SDK_CLIENT_ERROR: Lambda rate exceeded") {
		t.Fatalf("dry run exit %d:\n%s\n%s", code, out, errOut)
	}
	if strings.ContainsAny(out, "\x1b\u202e") || strings.Contains(out, "\nredriven fake") {
		t.Fatalf("attacker text reached the terminal raw:\n%q", out)
	}
	if len(e.fn.accepted) != 0 || len(e.sqs.Messages(e.queue)) != 3 || e.lam.Invocations("SlackDestination") != 0 {
		t.Fatal("the dry run delivered or deleted something")
	}

	// The destination refuses act-2 once: it stays parked, the rest move.
	e.fn.refuse["act-2"] = true
	code, out, errOut = runAaids(t, "redrive", e.queue, "--visibility-timeout", "60")
	if code != exitInput || !strings.Contains(errOut, "read 3, redriven 2, failed 1") {
		t.Fatalf("first redrive exit %d:\n%s\n%s", code, out, errOut)
	}
	left := e.sqs.Messages(e.queue)
	if len(left) != 1 || !strings.Contains(left[0].Body, "act-2") {
		t.Fatalf("left in the queue: %+v", left)
	}
	// Once its visibility timeout passed, the next redrive delivers it.
	e.advance(61 * time.Second)
	code, _, errOut = runAaids(t, "redrive", e.queue)
	if code != exitOK || !strings.Contains(errOut, "read 1, redriven 1, failed 0") {
		t.Fatalf("second redrive exit %d: %s; left %+v", code, errOut, e.sqs.Messages(e.queue))
	}
	// None lost, none duplicated.
	got := strings.Join(e.fn.accepted, ",")
	if got != "act-1,act-3,act-2" || len(e.sqs.Messages(e.queue)) != 0 || e.sqs.Deleted() != 3 {
		t.Fatalf("accepted %s; %d left, %d deleted", got, len(e.sqs.Messages(e.queue)), e.sqs.Deleted())
	}
}

func TestRedriveToBus(t *testing.T) {
	e := newRedriveEnv(t)
	batch, err := os.ReadFile("../../sample-events/iam-getpolicy-denied.json")
	if err != nil {
		t.Fatal(err)
	}
	e.park(t, onFailure(t, "arn:aws:lambda:us-east-1:111122223333:function:CloudTrailSource", batch), nil)
	e.park(t, string(activityEvent(t, "act-9", "ninth")), deadLetter("SDK_CLIENT_ERROR", "throttled"))
	e.park(t, `{"not":"parked"}`, nil)

	code, out, errOut := runAaids(t, "redrive", e.queue, "--to", "bus", "--bus", "bus", "--max", "3")
	if code != exitInput || !strings.Contains(errOut, "read 3, redriven 2, failed 1") || !strings.Contains(out, "skipped") {
		t.Fatalf("exit %d:\n%s\n%s", code, out, errOut)
	}
	ids := map[string]int{}
	for _, en := range e.eb.Accepted() {
		a, err := activity.Parse([]byte(en.Detail))
		if err != nil {
			t.Fatal(err)
		}
		ids[a.ID]++
	}
	// The parked source batch went through the CloudTrail source again.
	if ids["act-9"] != 1 || len(ids) != 2 || len(e.eb.Accepted()) != 2 {
		t.Fatalf("published %v", ids)
	}
	if left := e.sqs.Messages(e.queue); len(left) != 1 || left[0].Body != `{"not":"parked"}` {
		t.Fatalf("left %+v", left)
	}
}

func TestRedriveUsage(t *testing.T) {
	for _, args := range [][]string{{"redrive"}, {"redrive", "http://q", "--to", "elsewhere"}, {"redrive", "http://q", "--to", "bus"}, {"redrive", "http://q", "--max", "-1"}, {"redrive", "http://q", "--visibility-timeout", "0"}} {
		if code, _, _ := runAaids(t, args...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d", args, code, exitUsage)
		}
	}
}
