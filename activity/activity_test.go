package activity

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func sample() *Activity {
	mfa := false
	ro := true
	return &Activity{
		SchemaVersion: SchemaVersion,
		ID:            "3f5e8c2a-0000-4000-8000-000000000001",
		Source:        "cloudtrail",
		Subject:       "Access denied: IAMUser alice → iam:GetPolicy",
		Severity:      Medium,
		Time:          time.Date(2026, 11, 26, 7, 0, 0, 0, time.UTC),
		Account:       Account{ID: "123456789012", Name: "prod"},
		Region:        "us-east-1",
		Actor:         &Actor{Type: "IAMUser", ARN: "arn:aws:iam::123456789012:user/alice", Name: "alice", MFA: &mfa, UserAgent: "aws-cli/2.15"},
		Action:        &Action{Service: "iam.amazonaws.com", Name: "GetPolicy", ReadOnly: &ro, ErrorCode: "AccessDenied", Outcome: Denied},
		Fields:        []Field{{Key: "Event", Value: "GetPolicy"}},
		Detail:        json.RawMessage(`{"eventName":"GetPolicy","requestParameters":{"policyArn":"arn:aws:iam::aws:policy/Admin"}}`),
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(a *Activity)
		wantErr error
		wantMsg string
	}{
		{name: "complete", mutate: func(*Activity) {}},
		{name: "no schema version", mutate: func(a *Activity) { a.SchemaVersion = "" }, wantErr: ErrInvalid, wantMsg: "schemaVersion"},
		{name: "later minor accepted", mutate: func(a *Activity) { a.SchemaVersion = "1.7" }},
		{name: "major 2 rejected", mutate: func(a *Activity) { a.SchemaVersion = "2.0" }, wantErr: ErrUnsupportedVersion, wantMsg: `"2.0"`},
		{name: "no id", mutate: func(a *Activity) { a.ID = "" }, wantErr: ErrInvalid, wantMsg: "id"},
		{name: "no source", mutate: func(a *Activity) { a.Source = "" }, wantErr: ErrInvalid, wantMsg: "source"},
		{name: "no subject", mutate: func(a *Activity) { a.Subject = "" }, wantErr: ErrInvalid, wantMsg: "subject"},
		{name: "no severity", mutate: func(a *Activity) { a.Severity = "" }, wantErr: ErrInvalid, wantMsg: "severity"},
		{name: "bad severity", mutate: func(a *Activity) { a.Severity = "urgent" }, wantErr: ErrInvalid, wantMsg: "urgent"},
		{name: "no time", mutate: func(a *Activity) { a.Time = time.Time{} }, wantErr: ErrInvalid, wantMsg: "time"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := sample()
			tt.mutate(a)
			err := a.Validate()
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("Validate() = %v, want %v mentioning %q", err, tt.wantErr, tt.wantMsg)
			}
		})
	}
}

func TestParseRoundTripAndVersions(t *testing.T) {
	enc, err := Marshal(sample())
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse(enc)
	if err != nil {
		t.Fatalf("Parse(own encoding) = %v", err)
	}
	if got.Subject != sample().Subject || got.Actor.Name != "alice" || *got.Action.ReadOnly != true || got.Action.Outcome != Denied {
		t.Fatalf("round trip lost data: %+v", got)
	}
	// A later 1.x with fields this reader does not know is accepted.
	future := strings.Replace(string(enc), `"schemaVersion":"1.0"`, `"schemaVersion":"1.9","futureField":{"x":1}`, 1)
	if _, err := Parse([]byte(future)); err != nil {
		t.Fatalf("Parse(1.9) = %v, want accepted", err)
	}
	v2 := strings.Replace(string(enc), `"schemaVersion":"1.0"`, `"schemaVersion":"2.0"`, 1)
	if _, err := Parse([]byte(v2)); !errors.Is(err, ErrUnsupportedVersion) || !strings.Contains(err.Error(), "2.0") {
		t.Fatalf("Parse(2.0) = %v, want ErrUnsupportedVersion naming 2.0", err)
	}
	if _, err := Parse([]byte(`{"schemaVersion":`)); err == nil {
		t.Fatal("Parse(truncated) = nil error")
	}
}

func TestMarshalDoesNotEscapeHTML(t *testing.T) {
	a := sample()
	a.Actor.UserAgent = "<!channel> & <b>"
	enc, err := Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(enc), `"userAgent":"<!channel> & <b>"`) {
		t.Fatalf("want text kept as data, got %s", enc)
	}
}

func TestNewEntryFitsAndKeepsEnvelope(t *testing.T) {
	a := sample()
	e, err := NewEntry(a, 0)
	if err != nil {
		t.Fatal(err)
	}
	if e.Source != "activity-aware-ids.cloudtrail" || e.DetailType != "Activity" {
		t.Fatalf("envelope = %q %q", e.Source, e.DetailType)
	}
	want := 14 + len(e.Source) + len(e.DetailType) + len(e.Detail)
	if e.Size() != want {
		t.Fatalf("Size() = %d, want %d", e.Size(), want)
	}
	if _, err := Parse(e.Detail); err != nil {
		t.Fatalf("detail does not parse: %v", err)
	}
	bad := sample()
	bad.ID = ""
	if _, err := NewEntry(bad, 0); !errors.Is(err, ErrInvalid) {
		t.Fatalf("NewEntry(invalid) = %v, want ErrInvalid", err)
	}
}

func TestBoundTrims(t *testing.T) {
	huge := strings.Repeat("x", 300*1024)
	tests := []struct {
		name  string
		build func() *Activity
		limit int
		check func(t *testing.T, got *Activity)
	}{
		{
			name: "large request parameters in detail become a preview, other members kept",
			build: func() *Activity {
				a := sample()
				a.Detail = json.RawMessage(`{"eventID":"e1","requestParameters":{"policy":"` + huge + `"},"eventName":"PutBucketPolicy"}`)
				return a
			},
			limit: DefaultMaxEntrySize - 100,
			check: func(t *testing.T, got *Activity) {
				var d map[string]json.RawMessage
				if err := json.Unmarshal(got.Detail, &d); err != nil {
					t.Fatalf("trimmed detail is not an object: %v", err)
				}
				if string(d["eventID"]) != `"e1"` || string(d["eventName"]) != `"PutBucketPolicy"` {
					t.Fatalf("small members lost: %s", got.Detail[:200])
				}
			},
		},
		{
			name: "detail that is not an object becomes a text preview",
			build: func() *Activity {
				a := sample()
				a.Detail = json.RawMessage(`"` + huge + `"`)
				return a
			},
			limit: 64 * 1024,
			check: func(t *testing.T, got *Activity) {
				var s string
				if err := json.Unmarshal(got.Detail, &s); err != nil || !strings.HasSuffix(s, "…") {
					t.Fatalf("want a string preview ending in …, got %v", err)
				}
			},
		},
		{
			name: "hostile 300 KB user agent and field are trimmed, actor kept",
			build: func() *Activity {
				a := sample()
				a.Actor.UserAgent = strings.Repeat("é<", 150*1024)
				a.Fields = append(a.Fields, Field{Key: "User Agent", Value: a.Actor.UserAgent})
				return a
			},
			limit: DefaultMaxEntrySize - 100,
			check: func(t *testing.T, got *Activity) {
				if got.Actor == nil || got.Actor.Name != "alice" || !utf8.ValidString(got.Actor.UserAgent) {
					t.Fatalf("actor lost or broken: %+v", got.Actor)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := tt.build()
			before, _ := Marshal(a)
			enc, err := Bound(a, tt.limit)
			if err != nil {
				t.Fatalf("Bound = %v", err)
			}
			if len(enc) > tt.limit {
				t.Fatalf("encoded %d bytes, limit %d", len(enc), tt.limit)
			}
			got, err := Parse(enc)
			if err != nil {
				t.Fatalf("bounded activity does not parse: %v", err)
			}
			if !got.Truncated {
				t.Fatal("truncated not set")
			}
			if got.ID != a.ID || got.Subject != a.Subject || got.Action == nil || got.Action.Name != "GetPolicy" {
				t.Fatalf("id/subject/action lost: %+v", got)
			}
			after, _ := Marshal(a)
			if string(before) != string(after) {
				t.Fatal("Bound modified its input")
			}
			tt.check(t, got)
		})
	}
}

func TestBoundTooLarge(t *testing.T) {
	a := sample()
	if _, err := Bound(a, 100); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Bound(100 bytes) = %v, want ErrTooLarge", err)
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"hello", 10, "hello"},
		{"hello", 5, "hello"},
		{"hello!", 5, "hell…"},
		{"한국어텍스트", 4, "한국어…"},
		{"😀😀😀", 2, "😀…"},
		{"abc", 0, ""},
	}
	for _, tt := range tests {
		if got := Truncate(tt.in, tt.n); got != tt.want {
			t.Errorf("Truncate(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
		if got := Truncate(tt.in, tt.n); utf8.RuneCountInString(got) > tt.n {
			t.Errorf("Truncate(%q, %d) has %d runes", tt.in, tt.n, utf8.RuneCountInString(got))
		}
	}
}

func TestSeverity(t *testing.T) {
	if Medium.Max(High) != High || High.Max(Low) != High || Info.Max("bogus") != Info {
		t.Fatal("Max ordering wrong")
	}
}

// TestBoundShedsResources: a denial naming 2,500 resources (a
// DeleteObjects of thousands of keys, say) is still one entry within the
// limit, a denial with its actor, action and severity, the resources shed
// with their count kept. Before, trimming strings alone left it too large
// and the activity was lost.
func TestBoundShedsResources(t *testing.T) {
	a := &Activity{
		SchemaVersion: SchemaVersion, ID: "del-objects", Source: "cloudtrail", Subject: "Access denied: s3:DeleteObjects",
		Severity: High, Time: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), Account: Account{ID: "123456789012"},
		Actor:  &Actor{Type: "AssumedRole", ARN: "arn:aws:sts::123456789012:assumed-role/ci/run", Name: "ci"},
		Action: &Action{Service: "s3.amazonaws.com", Name: "DeleteObjects", ErrorCode: "AccessDenied", Outcome: Denied},
		Fields: []Field{{Key: "Bucket", Value: "prod-bucket"}},
		Tags:   []string{"denied"},
	}
	for i := range 2500 {
		a.Resources = append(a.Resources, Resource{Type: "AWS::S3::Object",
			ARN: fmt.Sprintf("arn:aws:s3:::prod-bucket/exports/2024/01/02/part-%05d-%s.parquet", i, strings.Repeat("x", 60))})
	}
	e, err := NewEntry(a, DefaultMaxEntrySize)
	if err != nil {
		t.Fatalf("NewEntry: %v", err)
	}
	if e.Size() > DefaultMaxEntrySize {
		t.Fatalf("entry is %d bytes, limit %d", e.Size(), DefaultMaxEntrySize)
	}
	got, err := Parse(e.Detail)
	if err != nil {
		t.Fatal(err)
	}
	if got.Severity != High || got.Action == nil || got.Action.Outcome != Denied || got.Actor == nil || got.Actor.ARN != a.Actor.ARN || !got.Truncated {
		t.Fatalf("bounded activity lost what matters: %+v", got)
	}
	if len(got.Resources) == 0 || len(got.Resources) >= 2500 {
		t.Errorf("%d resources kept, want some shed and some kept", len(got.Resources))
	}
	want := fmt.Sprintf("%d of 2500", 2500-len(got.Resources))
	if len(got.Fields) == 0 || got.Fields[0].Key != ResourcesNotShownKey || got.Fields[0].Value != want {
		t.Errorf("fields %+v, want first %s: %s", got.Fields, ResourcesNotShownKey, want)
	}
	if len(a.Resources) != 2500 || len(a.Fields) != 1 {
		t.Error("Bound modified its input")
	}
	t.Logf("2,500 resources: one entry of %d bytes (limit %d), %d resources kept, %s", e.Size(), DefaultMaxEntrySize, len(got.Resources), got.Fields[0].Value+" not shown")
}
