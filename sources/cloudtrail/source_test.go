package cloudtrail

import (
	"encoding/json"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fastjson"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/internal/sharedfixtures"
	"github.com/activity-aware/ids/internal/sourcetest"
)

var fallbackTime = time.Date(2023, 11, 14, 22, 13, 20, 0, time.UTC)

// checkEntry asserts the activity is valid and encodes as an EventBridge
// entry within the default size limit.
func checkEntry(t *testing.T, a *activity.Activity) activity.Entry {
	t.Helper()
	if err := a.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	e, err := activity.NewEntry(a, 0)
	if err != nil {
		t.Fatalf("NewEntry: %v", err)
	}
	if e.Size() > activity.DefaultMaxEntrySize {
		t.Fatalf("entry is %d bytes", e.Size())
	}
	if e.Source != "activity-aware-ids.cloudtrail" {
		t.Fatalf("entry source %q", e.Source)
	}
	return e
}

func TestFromRecordIdentitiesAndOutcomes(t *testing.T) {
	tests := []struct {
		file      string
		actorType string
		actorName string
		subject   string
		outcome   activity.Outcome
		severity  activity.Severity
		mfa       *bool
		issuer    string
	}{
		{"iamuser.json", "IAMUser", "alice", "Access denied: IAMUser alice → iam:GetPolicy", activity.Denied, activity.Medium, nil, ""},
		{"assumedrole.json", "AssumedRole", "role/Admin (session alice@corp)", "Access denied: AssumedRole role/Admin (session alice@corp) → ec2:DescribeInstances", activity.Denied, activity.Medium, ptr(true), "arn:aws:iam::111122223333:role/Admin"},
		{"root.json", "Root", "root", "root → iam:GetPolicy", activity.Success, activity.High, ptr(false), ""},
		{"federated.json", "FederatedUser", "Bob (via user/broker)", "NoSuchEntity: FederatedUser Bob (via user/broker) → iam:GetPolicy", activity.Failed, activity.Info, nil, "arn:aws:iam::111122223333:user/broker"},
		{"awsaccount.json", "AWSAccount", "account 444455556666", "AWSAccount account 444455556666 → iam:GetPolicy", activity.Success, activity.Info, nil, ""},
		{"awsservice.json", "AWSService", "cloudtrail.amazonaws.com", "AWSService cloudtrail.amazonaws.com → cloudtrail:StopLogging", activity.Success, activity.High, nil, ""},
		{"identitycenter.json", "IdentityCenterUser", "906716b2-example", "IdentityCenterUser 906716b2-example → iam:GetPolicy", activity.Success, activity.Info, nil, ""},
		{"samluser.json", "SAMLUser", "carol (arn:aws:iam::111122223333:saml-provider/Okta)", "SAMLUser carol (arn:aws:iam::111122223333:saml-provider/Okta) → iam:GetPolicy", activity.Success, activity.Info, nil, ""},
		{"webidentity.json", "WebIdentityUser", "12345 (accounts.google.com)", "WebIdentityUser 12345 (accounts.google.com) → iam:GetPolicy", activity.Success, activity.Info, nil, ""},
		{"unknown.json", "Unknown", "dave", "Unknown dave → iam:GetPolicy", activity.Success, activity.Info, nil, ""},
		{"missing.json", "", "unknown identity", "unknown identity → iam:GetPolicy", activity.Success, activity.Info, nil, ""},
		{"empty.json", "", "unknown identity", "unknown identity → iam:GetPolicy", activity.Success, activity.Info, nil, ""},
		{"console-failure.json", "IAMUser", "alice", "Console sign-in failure: IAMUser alice", activity.Failed, activity.Medium, nil, ""},
		{"govcloud.json", "IAMUser", "erin", "Access denied: IAMUser erin → iam:GetPolicy", activity.Denied, activity.Medium, nil, ""},
		{"oddities.json", "IAMUser", "한글😀", "IAMUser 한글😀 → s3:GetObject", activity.Success, activity.Info, nil, ""},
		{"redacted-time.json", "IAMUser", "alice", "IAMUser alice → iam:GetPolicy", activity.Success, activity.Info, nil, ""},
	}
	s := New(Options{AccountNames: map[string]string{"111122223333": "production"}})
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			raw := sourcetest.Read(t, tt.file)
			a := s.FromRecord(raw, nil, fallbackTime)
			checkEntry(t, a)
			if a.Actor == nil || a.Action == nil {
				t.Fatalf("actor %v action %v", a.Actor, a.Action)
			}
			if a.Actor.Type != tt.actorType || a.Actor.Name != tt.actorName {
				t.Errorf("actor = %q %q, want %q %q", a.Actor.Type, a.Actor.Name, tt.actorType, tt.actorName)
			}
			if a.Subject != tt.subject {
				t.Errorf("subject = %q, want %q", a.Subject, tt.subject)
			}
			if a.Action.Outcome != tt.outcome || a.Severity != tt.severity {
				t.Errorf("outcome %s severity %s, want %s %s", a.Action.Outcome, a.Severity, tt.outcome, tt.severity)
			}
			if (a.Actor.MFA == nil) != (tt.mfa == nil) || (tt.mfa != nil && *a.Actor.MFA != *tt.mfa) {
				t.Errorf("mfa = %v, want %v", a.Actor.MFA, tt.mfa)
			}
			if a.Actor.SessionIssuer != tt.issuer {
				t.Errorf("session issuer = %q, want %q", a.Actor.SessionIssuer, tt.issuer)
			}
			if a.Source != SourceName || a.SchemaVersion != activity.SchemaVersion {
				t.Errorf("source %q schema %q", a.Source, a.SchemaVersion)
			}
			var orig, kept any
			if err := json.Unmarshal(raw, &orig); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(a.Detail, &kept); err != nil {
				t.Fatalf("detail is not JSON: %v", err)
			}
			// These records are small: the activity carries each whole.
			if a.Truncated || !reflect.DeepEqual(kept, orig) {
				t.Errorf("detail (truncated %v) = %s\nwant the record %s", a.Truncated, a.Detail, raw)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestFromRecordFieldsAndLinks(t *testing.T) {
	s := New(Options{AccountNames: map[string]string{"111122223333": "production"}})
	a := s.FromRecord(sourcetest.Read(t, "iamuser.json"), nil, fallbackTime)
	var keys []string
	for _, f := range a.Fields {
		keys = append(keys, f.Key)
	}
	want := []string{"Error Message", "Error Code", "Event", "Source", "Time", "Region", "Recipient Account ID",
		"User Account ID", "Username", "User ARN", "Source IP", "User Agent", "Request Parameters"}
	if !slices.Equal(keys, want) {
		t.Errorf("field keys\n got %q\nwant %q", keys, want)
	}
	for key, value := range map[string]string{
		"Request Parameters": `{"policyArn":"arn:aws:iam::111122223333:policy/Deploy"}`,
		"Time":               "2024-03-01T12:00:00Z",
		"Error Code":         "AccessDenied",
		"Source IP":          "203.0.113.7",
	} {
		if got := sourcetest.Field(a, key); got != value {
			t.Errorf("field %s = %q, want %q", key, got, value)
		}
	}
	if a.Account != (activity.Account{ID: "111122223333", Name: "production"}) {
		t.Errorf("account = %+v", a.Account)
	}
	if a.Actor.AccessKeyID != "AKIAEXAMPLE" || a.Actor.UserAgent != "aws-cli/2.15.0 Python/3.11" || a.Actor.SourceIP != "203.0.113.7" {
		t.Errorf("actor = %+v", a.Actor)
	}
	if a.Action.ReadOnly == nil || !*a.Action.ReadOnly || a.ID != "e-iamuser" || a.Region != "us-east-1" {
		t.Errorf("action %+v id %q region %q", a.Action, a.ID, a.Region)
	}

	links := []struct {
		file, url string
	}{
		{"iamuser.json", "https://us-east-1.console.aws.amazon.com/cloudtrailv2/home?region=us-east-1#/events/e-iamuser"},
		{"govcloud.json", "https://console.amazonaws-us-gov.com/cloudtrail/home?region=us-gov-west-1#/events/e-gov"},
		{"china.json", "https://console.amazonaws.cn/cloudtrail/home?region=cn-north-1#/events/e-cn"},
		{"oddities.json", "https://eu-west-1.console.aws.amazon.com/cloudtrailv2/home?region=eu-west-1#/events/e-odd"},
	}
	for _, l := range links {
		a := s.FromRecord(sourcetest.Read(t, l.file), nil, fallbackTime)
		if len(a.Links) != 1 || a.Links[0].URL != l.url {
			t.Errorf("%s: links = %+v, want %s", l.file, a.Links, l.url)
		}
	}
	if a := s.FromRecord([]byte(`{"eventID":"x","eventName":"A","awsRegion":"sagov-westsouth-1r"}`), nil, fallbackTime); len(a.Links) != 0 {
		t.Errorf("pseudonymized region got links %+v", a.Links)
	}
}

func TestFromRecordOddities(t *testing.T) {
	s := New(Options{})
	odd := s.FromRecord(sourcetest.Read(t, "oddities.json"), nil, fallbackTime)
	checkEntry(t, odd)
	if want := time.Date(2021, 10, 19, 1, 6, 59, 123456789, time.UTC); !odd.Time.Equal(want) {
		t.Errorf("time = %v, want %v", odd.Time, want)
	}
	if got := sourcetest.Field(odd, "Request Parameters"); got != `{"bucketName":"b","key":"k 😀"}` {
		t.Errorf("string requestParameters = %q", got)
	}
	if odd.Action.ReadOnly == nil || !*odd.Action.ReadOnly {
		t.Errorf(`readOnly "True" = %v`, odd.Action.ReadOnly)
	}
	// readOnly as exporters write it: a boolean, or a string in any case.
	for text, want := range map[string]string{`true`: "true", `false`: "false", `"FALSE"`: "false", `"tRuE"`: "true", `0`: "unknown", `"yes"`: "unknown", `null`: "unknown", `{}`: "unknown"} {
		got := "unknown"
		if a := s.FromRecord([]byte(`{"eventID":"x","eventName":"A","readOnly":`+text+`}`), nil, fallbackTime); a.Action.ReadOnly != nil {
			got = strconv.FormatBool(*a.Action.ReadOnly)
		}
		if got != want {
			t.Errorf("readOnly %s = %s, want %s", text, got, want)
		}
	}
	if odd.Action.ErrorCode != "200" || odd.Action.Outcome != activity.Success {
		t.Errorf("errorCode 200: %+v", odd.Action)
	}

	red := s.FromRecord(sourcetest.Read(t, "redacted-time.json"), nil, fallbackTime)
	if !red.Time.Equal(fallbackTime) || sourcetest.Field(red, "Time") != "redacted" {
		t.Errorf("redacted time: %v field %q", red.Time, sourcetest.Field(red, "Time"))
	}
	if red.Action.Outcome != activity.Success || red.Action.ErrorCode != "" {
		t.Errorf(`errorCode "": %+v`, red.Action)
	}

	om := s.FromRecord(sourcetest.Read(t, "omitted.json"), nil, fallbackTime)
	if !slices.Contains(om.Tags, TagOmitted) {
		t.Errorf("omitted record tags = %q", om.Tags)
	}

	times := map[string]time.Time{
		"2024-03-01T12:00:00Z":                 time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC),
		"2024-03-01T12:00:00.5+02:00":          time.Date(2024, 3, 1, 10, 0, 0, 5e8, time.UTC),
		"2021-10-19 01:06:59":                  time.Date(2021, 10, 19, 1, 6, 59, 0, time.UTC),
		"2021-10-19 01:06:59Z":                 time.Date(2021, 10, 19, 1, 6, 59, 0, time.UTC),
		"2021-10-19 01:06:59.123":              time.Date(2021, 10, 19, 1, 6, 59, 123e6, time.UTC),
		"2021-10-19 01:06:59.123456789":        time.Date(2021, 10, 19, 1, 6, 59, 123456789, time.UTC),
		"redacted":                             fallbackTime,
		"...":                                  fallbackTime,
		"":                                     fallbackTime,
		"2021-13-45T99:99:99Z":                 fallbackTime,
		"2021-10-19T01:06:59.123456789012345Z": time.Date(2021, 10, 19, 1, 6, 59, 123456789, time.UTC),
	}
	for in, want := range times {
		raw, _ := json.Marshal(map[string]string{"eventName": "X", "eventTime": in})
		if got := s.FromRecord(raw, nil, fallbackTime).Time; !got.Equal(want) {
			t.Errorf("eventTime %q → %v, want %v", in, got, want)
		}
	}
	absent := s.FromRecord([]byte(`{"eventName":"X"}`), nil, time.Time{})
	if absent.Time.IsZero() || time.Since(absent.Time) > time.Minute {
		t.Errorf("absent eventTime with zero fallback → %v, want now", absent.Time)
	}
}

func TestSeverityTable(t *testing.T) {
	tests := []struct {
		record string
		want   activity.Severity
	}{
		{`{"eventSource":"s3.amazonaws.com","eventName":"ListBuckets","userIdentity":{"type":"IAMUser","userName":"a"}}`, activity.Info},
		{`{"eventSource":"s3.amazonaws.com","eventName":"ListBuckets","errorCode":"AccessDenied"}`, activity.Medium},
		{`{"eventSource":"ec2.amazonaws.com","eventName":"RunInstances","errorCode":"Client.UnauthorizedOperation"}`, activity.Medium},
		{`{"eventSource":"ec2.amazonaws.com","eventName":"RunInstances","errorCode":"UnauthorizedOperation"}`, activity.Medium},
		{`{"eventSource":"kms.amazonaws.com","eventName":"Decrypt","errorCode":"AccessDeniedException"}`, activity.Medium},
		{`{"eventSource":"s3.amazonaws.com","eventName":"GetObject","errorCode":"VpceAccessDenied"}`, activity.Medium},
		{`{"eventSource":"ec2.amazonaws.com","eventName":"RunInstances","errorCode":"Client.DryRunOperation"}`, activity.Info},
		{`{"eventSource":"s3.amazonaws.com","eventName":"ListBuckets","userIdentity":{"type":"Root"}}`, activity.High},
		{`{"eventSource":"s3.amazonaws.com","eventName":"ListBuckets","userIdentity":{"type":"Root"},"errorCode":"AccessDenied"}`, activity.High},
		{`{"eventSource":"cloudtrail.amazonaws.com","eventName":"StopLogging"}`, activity.High},
		{`{"eventSource":"cloudtrail.amazonaws.com","eventName":"DeleteTrail","errorCode":"AccessDenied"}`, activity.High},
		{`{"eventSource":"cloudtrail.amazonaws.com","eventName":"UpdateTrail"}`, activity.High},
		{`{"eventSource":"cloudtrail.amazonaws.com","eventName":"PutEventSelectors"}`, activity.High},
		{`{"eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","responseElements":{"ConsoleLogin":"Failure"}}`, activity.Medium},
		{`{"eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","responseElements":"{\"ConsoleLogin\":\"Failure\"}"}`, activity.Medium},
		{`{"eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","responseElements":{"ConsoleLogin":"Success"}}`, activity.Info},
	}
	s := New(Options{})
	for _, tt := range tests {
		if got := s.FromRecord([]byte(tt.record), nil, fallbackTime).Severity; got != tt.want {
			t.Errorf("%s → %s, want %s", tt.record, got, tt.want)
		}
	}
}

func TestFromRecordUnrecognized(t *testing.T) {
	origin := &activity.Origin{LogGroup: "CloudTrail/DefaultLogGroup", LogStream: "s", LogEventID: "37000000000000000000000001"}
	tests := []struct {
		name string
		raw  string
	}{
		{"plain text", "START RequestId: 1234 Version: $LATEST"},
		{"JSON of another shape", `{"level":"info","msg":"hello"}`},
		{"lookup-events output", `{"NextToken":"x","Events":[{"eventName":"A"}]}`},
		{"JSON array", `[{"eventName":"A"}]`},
		{"invalid JSON", `{"eventName":"A",`},
		{"lenient-only JSON", `{"eventName":NaN}`},
		{"control character", "{\"eventName\":\"a\x01\"}"},
		{"invalid UTF-8", "\xff\xfe not text"},
		{"empty", ""},
	}
	s := New(Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := s.FromRecord([]byte(tt.raw), origin, fallbackTime)
			checkEntry(t, a)
			if a.Subject != "Unrecognized log event in CloudTrail/DefaultLogGroup" || a.Severity != activity.Info {
				t.Errorf("subject %q severity %s", a.Subject, a.Severity)
			}
			if a.ID != "unrecognized-37000000000000000000000001" {
				t.Errorf("id = %q, want one derived from the log event id", a.ID)
			}
			if !slices.Contains(a.Tags, TagUnrecognized) || !a.Time.Equal(fallbackTime) {
				t.Errorf("tags %q time %v", a.Tags, a.Time)
			}
			if got := sourcetest.Field(a, "Message"); got != strings.ToValidUTF8(tt.raw, "\uFFFD") {
				t.Errorf("message field = %q", got)
			}
		})
	}
	a, b := s.FromRecord([]byte("same text"), nil, fallbackTime), s.FromRecord([]byte("same text"), nil, fallbackTime)
	if a.ID != b.ID || a.Subject != "Unrecognized log event" {
		t.Errorf("ids without origin %q %q, subject %q", a.ID, b.ID, a.Subject)
	}
	long := s.FromRecord([]byte(strings.Repeat("x", 5000)), origin, fallbackTime)
	if !long.Truncated || len([]rune(sourcetest.Field(long, "Message"))) != maxUnrecognizedRunes {
		t.Errorf("long text not trimmed: truncated %v, %d runes", long.Truncated, len(sourcetest.Field(long, "Message")))
	}
}

// tagEnricher tags every activity, adding "+parsed" when it was given the
// parsed record.
type tagEnricher struct{ tag string }

func (e tagEnricher) Enrich(a *activity.Activity, raw []byte, rec *fastjson.Value) {
	tag := e.tag
	if rec != nil && rec.Type() == fastjson.TypeObject && json.Valid(raw) {
		tag += "+parsed"
	}
	a.Tags = append(a.Tags, tag)
}

// TestEnrichersRunInOrder: every enricher runs, in order, on every activity;
// a record's enrichers get its parse, an unrecognized log event's none.
func TestEnrichersRunInOrder(t *testing.T) {
	s := New(Options{Enrichers: []Enricher{tagEnricher{"first"}, tagEnricher{"second"}}})
	for _, tt := range []struct{ raw, suffix string }{{string(sourcetest.Read(t, "iamuser.json")), "+parsed"}, {"not json", ""}} {
		a := s.FromRecord([]byte(tt.raw), nil, fallbackTime)
		if n := len(a.Tags); n < 2 || a.Tags[n-2] != "first"+tt.suffix || a.Tags[n-1] != "second"+tt.suffix {
			t.Errorf("%.20q: tags = %q", tt.raw, a.Tags)
		}
	}
}

// TestReplayEveryFixtureRecord standardizes every record of the shared
// recorded CloudTrail data: one valid activity per record, each encodable
// within EventBridge's entry limit.
func TestReplayEveryFixtureRecord(t *testing.T) {
	recs := loadFixtureRecords(t)
	if len(recs) < 300 || (sharedfixtures.Full() && len(recs) < 1400) {
		t.Fatalf("only %d fixture records", len(recs))
	}
	s := New(Options{})
	ids := map[string]string{}
	var unrecognized []string
	for _, r := range recs {
		a := s.FromRecord(r.Raw, nil, fallbackTime)
		if a == nil {
			t.Fatalf("%s[%d]: nil activity", r.File, r.Index)
		}
		if err := a.Validate(); err != nil {
			t.Errorf("%s[%d]: %v", r.File, r.Index, err)
			continue
		}
		e, err := activity.NewEntry(a, 0)
		if err != nil || e.Size() > activity.DefaultMaxEntrySize {
			t.Errorf("%s[%d]: entry %d bytes, %v", r.File, r.Index, e.Size(), err)
		}
		if slices.Contains(a.Tags, TagUnrecognized) {
			unrecognized = append(unrecognized, r.File)
		}
		ids[a.ID] = r.File
	}
	// Not CloudTrail records: a lookup-events response and two Panther
	// enrichment stubs (p_* members only).
	want := []string{
		"awsdocs/aws-cloudtrail-user-guide__view-insights-events-cli__1.json",
		"panther/rules__standard_rules__greynoise_malicious_ip.json",
		"panther/rules__standard_rules__otx_malicious_indicator.json",
	}
	if !slices.Equal(unrecognized, want) {
		t.Errorf("unrecognized records in %q, want %q", unrecognized, want)
	}
	t.Logf("%d records, %d distinct ids, %d unrecognized", len(recs), len(ids), len(unrecognized))
}
