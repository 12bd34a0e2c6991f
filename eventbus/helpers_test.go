package eventbus_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/eventbus"
	"github.com/activity-aware/ids/internal/localeventbridge"
	"github.com/activity-aware/ids/internal/sharedfixtures"
)

const testBus = "activity-bus"

// newServer starts a local EventBridge that checks every Detail is an
// activity.
func newServer(t *testing.T, maxRequestBytes int) *localeventbridge.Server {
	t.Helper()
	srv := localeventbridge.New(localeventbridge.Options{
		BusName:         testBus,
		MaxRequestBytes: maxRequestBytes,
		ValidateDetail:  func(b []byte) error { _, err := activity.Parse(b); return err },
	})
	t.Cleanup(srv.Close)
	return srv
}

// newClient is the real SDK client, built by eventbus.NewClient, pointed at
// srv, with the SDK's backoff shortened so that tests run fast.
func newClient(srv *localeventbridge.Server) *eventbridge.Client {
	return eventbus.NewClient(srv.AWSConfig(), func(o *eventbridge.Options) {
		o.Retryer = retry.AddWithMaxBackoffDelay(o.Retryer, time.Millisecond)
	})
}

func newPublisher(t *testing.T, srv *localeventbridge.Server, cfg eventbus.Config) *eventbus.Publisher {
	t.Helper()
	cfg.BusName = testBus
	cfg.Logger = slog.New(slog.DiscardHandler)
	if cfg.BaseDelay == 0 {
		cfg.BaseDelay, cfg.MaxDelay = time.Millisecond, 5*time.Millisecond
	}
	p, err := eventbus.NewPublisher(newClient(srv), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// ctRecord holds the CloudTrail fields the tests' activities are made from.
type ctRecord struct {
	EventID      string `json:"eventID"`
	EventTime    string `json:"eventTime"`
	EventSource  string `json:"eventSource"`
	EventName    string `json:"eventName"`
	AWSRegion    string `json:"awsRegion"`
	ErrorCode    string `json:"errorCode"`
	ErrorMessage string `json:"errorMessage"`
	UserIdentity struct {
		Type      string `json:"type"`
		ARN       string `json:"arn"`
		AccountID string `json:"accountId"`
	} `json:"userIdentity"`
}

// fromRecord makes an activity of a CloudTrail record, keeping the record as
// its detail, as the CloudTrail source does.
func fromRecord(raw json.RawMessage, fallbackID string) (*activity.Activity, error) {
	var r ctRecord
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, err
	}
	id := r.EventID
	if id == "" {
		id = fallbackID
	}
	ts, err := time.Parse(time.RFC3339, r.EventTime)
	if err != nil {
		ts = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	}
	outcome := activity.Success
	if r.ErrorCode != "" {
		outcome = activity.Denied
	}
	return &activity.Activity{
		SchemaVersion: activity.SchemaVersion,
		ID:            id,
		Source:        "cloudtrail",
		Subject:       fmt.Sprintf("%s %s:%s", r.UserIdentity.Type, strings.TrimSuffix(r.EventSource, ".amazonaws.com"), r.EventName),
		Severity:      activity.Medium,
		Time:          ts,
		Account:       activity.Account{ID: r.UserIdentity.AccountID},
		Region:        r.AWSRegion,
		Actor:         &activity.Actor{Type: r.UserIdentity.Type, ARN: r.UserIdentity.ARN},
		Action:        &activity.Action{Service: r.EventSource, Name: r.EventName, ErrorCode: r.ErrorCode, ErrorMessage: r.ErrorMessage, Outcome: outcome},
		Detail:        raw,
	}, nil
}

// loadLogFile reads a CloudTrail log file ({"Records":[...]}) as activities.
func loadLogFile(t testing.TB, path string) []*activity.Activity {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var file struct{ Records []json.RawMessage }
	if err := json.Unmarshal(data, &file); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	out := make([]*activity.Activity, 0, len(file.Records))
	for i, raw := range file.Records {
		a, err := fromRecord(raw, fmt.Sprintf("%s#%d", filepath.Base(path), i))
		if err != nil {
			t.Fatalf("%s record %d: %v", path, i, err)
		}
		out = append(out, a)
	}
	return out
}

// denials are the project's own realistic denied-call records.
func denials(t testing.TB) []*activity.Activity {
	return loadLogFile(t, filepath.Join("testdata", "denials.json"))
}

// activities returns n distinct activities, copies of the denials with ids
// made unique.
func activities(t testing.TB, n int) []*activity.Activity {
	base := denials(t)
	out := make([]*activity.Activity, n)
	for i := range out {
		a := *base[i%len(base)]
		a.ID = fmt.Sprintf("%s-%03d", a.ID, i)
		out[i] = &a
	}
	return out
}

// large returns n distinct activities whose detail (the original record) is
// about size bytes: a denial with long base64 user data in its request.
func large(t testing.TB, n, size int) []*activity.Activity {
	out := activities(t, n)
	for _, a := range out {
		var rec map[string]any
		if err := json.Unmarshal(a.Detail, &rec); err != nil {
			t.Fatal(err)
		}
		rec["requestParameters"] = map[string]any{"userData": strings.Repeat("IyEvYmluL2Jhc2gKY3VybCAtcyBodHRwczovL2V4YW1wbGUuY29tL3NldHVwLnNoIHwgYmFzaAo", size/76)}
		raw, err := json.Marshal(rec)
		if err != nil {
			t.Fatal(err)
		}
		a.Detail = raw
	}
	return out
}

// fixtureActivities is every record of ../shared/fixtures/cloudtrail as an
// activity, ids made unique (some records share an eventID).
func fixtureActivities(t testing.TB) []*activity.Activity {
	root := sharedfixtures.CloudTrail(t)
	var out []*activity.Activity
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".json") {
			return err
		}
		for _, a := range loadLogFile(t, path) {
			a.ID = fmt.Sprintf("%s/%05d", a.ID, len(out))
			out = append(out, a)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// acceptedIDs counts the accepted entries per activity id.
func acceptedIDs(t *testing.T, srv *localeventbridge.Server) map[string]int {
	t.Helper()
	got := map[string]int{}
	for _, e := range srv.Accepted() {
		a, err := activity.Parse([]byte(e.Detail))
		if err != nil {
			t.Fatalf("accepted entry is not an activity: %v", err)
		}
		if e.Source != activity.SourcePrefix+a.Source || e.DetailType != activity.DetailType || e.EventBusName != testBus {
			t.Errorf("entry %s: source %q, detail-type %q, bus %q", a.ID, e.Source, e.DetailType, e.EventBusName)
		}
		got[a.ID]++
	}
	return got
}

// wantPublishedOnce fails unless each of ids was accepted exactly once and
// nothing else was.
func wantPublishedOnce(t *testing.T, srv *localeventbridge.Server, ids []string) {
	t.Helper()
	got := acceptedIDs(t, srv)
	for _, id := range ids {
		if got[id] != 1 {
			t.Errorf("activity %s accepted %d times, want 1", id, got[id])
		}
		delete(got, id)
	}
	for id, n := range got {
		t.Errorf("unexpected activity %s accepted %d times", id, n)
	}
}

func ids(acts []*activity.Activity) []string {
	out := make([]string, len(acts))
	for i, a := range acts {
		out[i] = a.ID
	}
	return out
}

func withTimeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
