package cloudtrailevents_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/internal/cloudtrailenvelope"
	"github.com/activity-aware/ids/internal/sharedfixtures"
	"github.com/activity-aware/ids/sources/awsevents"
	"github.com/activity-aware/ids/sources/cloudtrail"
	"github.com/activity-aware/ids/sources/cloudtrailevents"
)

// logTime is when the test's log events were ingested, and the time of an
// envelope whose record has no usable eventTime.
var logTime = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// envelope wraps a record as EventBridge delivers it (cloudtrailenvelope).
func envelope(t *testing.T, i int, raw json.RawMessage) ([]byte, bool) {
	ev, ok, err := cloudtrailenvelope.Wrap(i, raw, logTime)
	if err != nil {
		t.Fatal(err)
	}
	return ev, ok
}

// comparable is an activity without what only the log-group path has (its
// origin), and its detail as a JSON value (EventBridge may escape and lay
// out the record differently from the log).
func comparable(t *testing.T, a *activity.Activity) (activity.Activity, any) {
	c := *a
	c.Origin = nil
	c.Detail = nil
	var detail any
	if err := json.Unmarshal(a.Detail, &detail); err != nil {
		t.Fatalf("detail of %s: %v", a.ID, err)
	}
	return c, detail
}

// TestSameActivityAsLogGroup wraps every shared CloudTrail record in the
// envelope EventBridge delivers and checks that the EventBridge path gives
// the activity the log-group path gives for the same record: same id,
// subject, severity, fields, detections, permission and the rest.
func TestSameActivityAsLogGroup(t *testing.T) {
	cfg := cloudtrail.Config{Detections: []string{"all"}}
	records, err := cfg.NewSource()
	if err != nil {
		t.Fatal(err)
	}
	router := &awsevents.Router{Sources: []awsevents.Source{cloudtrailevents.New(records, nil)}}
	all := sharedfixtures.CloudTrailRecords(t)
	var compared, withoutID, unrecognized int
	for i, rec := range all {
		ev, ok := envelope(t, i, rec.Raw)
		if !ok {
			t.Fatalf("%s #%d: not a JSON object", rec.Path, i)
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, rec.Raw); err != nil {
			t.Fatal(err)
		}
		logs := records.FromLogsData(&events.CloudwatchLogsData{
			MessageType: "DATA_MESSAGE", Owner: "111122223333",
			LogGroup: "CloudTrail/DefaultLogGroup", LogStream: "111122223333_CloudTrail_us-east-1",
			SubscriptionFilters: []string{"aaids"},
			LogEvents: []events.CloudwatchLogsLogEvent{{
				ID: fmt.Sprintf("%056d", i), Timestamp: logTime.UnixMilli(), Message: compact.String(),
			}},
		})
		acts, err := router.FromEvent(ev)
		if err != nil || len(acts) != 1 || len(logs) != 1 {
			t.Fatalf("%s #%d: %v, %d activities from the event, %d from the log", rec.Path, i, err, len(acts), len(logs))
		}
		if !bytes.Equal(acts[0].Detail, compact.Bytes()) && !slices.Contains(acts[0].Tags, cloudtrail.TagUnrecognized) {
			t.Fatalf("%s #%d: detail is not the record on one line: %.200s", rec.Path, i, acts[0].Detail)
		}
		got, gotDetail := comparable(t, acts[0])
		want, wantDetail := comparable(t, logs[0])
		if slices.Contains(want.Tags, cloudtrail.TagUnrecognized) {
			// Not a CloudTrail record (a documentation page's CLI output, say):
			// unrecognized on both paths, the log path naming its log group.
			if !slices.Contains(got.Tags, cloudtrail.TagUnrecognized) || got.Severity != activity.Info {
				t.Fatalf("%s #%d: unrecognized in the log, %+v from the event", rec.Path, i, got)
			}
			unrecognized++
			compared++
			continue
		}
		if strings.HasPrefix(want.ID, "logevent-") {
			// A record without eventID takes its id from where it was read:
			// the log event there, a hash of the record here.
			withoutID++
			if got.ID == "" || got.ID == want.ID {
				t.Fatalf("%s #%d: ids %q and %q", rec.Path, i, got.ID, want.ID)
			}
			got.ID, want.ID = "", ""
			for j := range got.Links {
				got.Links[j].URL = ""
			}
			for j := range want.Links {
				want.Links[j].URL = ""
			}
		}
		if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(gotDetail, wantDetail) {
			gj, _ := json.Marshal(got)
			wj, _ := json.Marshal(want)
			t.Fatalf("%s #%d: the EventBridge path differs from the log-group path\n got %s\nwant %s", rec.Path, i, gj, wj)
		}
		if got.Source != cloudtrail.SourceName {
			t.Fatalf("source %q", got.Source)
		}
		compared++
	}
	t.Logf("%d records compared (%d without eventID, ids aside; %d not CloudTrail records, unrecognized on both paths)", compared, withoutID, unrecognized)
	if compared != len(all) {
		t.Errorf("%d of %d records compared", compared, len(all))
	}
}

// TestAcceptsBothSignInSpellings: the detail-type CloudTrail sends and the
// EventBridge User Guide's spelling both read.
func TestAcceptsBothSignInSpellings(t *testing.T) {
	s := cloudtrailevents.New(cloudtrail.New(cloudtrail.Options{}), nil)
	for _, dt := range []string{cloudtrailevents.ConsoleSignIn, cloudtrailevents.ConsoleSignin, cloudtrailevents.APICall} {
		if !s.Accepts("aws.signin", dt) {
			t.Errorf("%q refused", dt)
		}
	}
	if s.Accepts("activity-aware-ids.cloudtrail", cloudtrailevents.APICall) || s.Accepts("aws.iam", "Activity") {
		t.Error("accepts what CloudTrail does not send")
	}
}

// TestKeep: behind a broad rule only what a detection labels is kept.
func TestKeep(t *testing.T) {
	records, err := cloudtrail.Config{Detections: []string{"unauthorized-api-calls"}}.NewSource()
	if err != nil {
		t.Fatal(err)
	}
	r := &awsevents.Router{Sources: []awsevents.Source{cloudtrailevents.New(records, cloudtrail.KeepLabelled)}}
	const denied = `{"version":"0","id":"e1","detail-type":"AWS API Call via CloudTrail","source":"aws.iam","account":"123456789012","time":"2026-11-20T10:00:00Z","region":"us-east-1","resources":[],"detail":{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::123456789012:user/alice","accountId":"123456789012","userName":"alice"},"eventTime":"2026-11-20T10:00:00Z","eventSource":"iam.amazonaws.com","eventName":"GetPolicy","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.7","errorCode":"AccessDenied","eventID":"5b3c1a52-0000-4000-8000-000000000001","eventType":"AwsApiCall","recipientAccountId":"123456789012"}}`
	for _, tt := range []struct {
		event string
		want  int
	}{{denied, 1}, {strings.Replace(denied, `"errorCode":"AccessDenied",`, "", 1), 0}} {
		acts, err := r.FromEvent([]byte(tt.event))
		if err != nil || len(acts) != tt.want {
			t.Errorf("%v: %d activities, want %d", err, len(acts), tt.want)
		}
	}
}
