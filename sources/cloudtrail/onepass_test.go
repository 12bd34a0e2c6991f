package cloudtrail

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/activity-aware/ids/activity"
)

// readersAgree reads text with the one-pass reader and, when it accepts it,
// with the general reader, and fails unless the general reader finds it
// strictly valid and compact and both yield the same activity (JSON and
// EventBridge entry). It reports whether the one-pass reader accepted it.
func readersAgree(t *testing.T, text []byte, origin *activity.Origin) bool {
	t.Helper()
	fallback := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	fast, general := newScratch(), newScratch()
	if !fast.readRecord(text, &fast.members, origin) {
		return false
	}
	valid, compact := general.readGeneral(text, &general.members, origin)
	if !valid || !compact {
		t.Fatalf("one-pass reader accepted %q; general reader: valid %v, compact %v", text, valid, compact)
	}
	fm, gm := &fast.members, &general.members
	if fm.recognized() != gm.recognized() {
		t.Fatalf("recognized: one-pass %v, general %v, for %q", fm.recognized(), gm.recognized(), text)
	}
	if !fm.recognized() {
		return true
	}
	got, want := fm.activity(fast, origin, fallback), gm.activity(general, origin, fallback)
	got.SetCheckedDetail(text)
	want.Detail = text
	gotJSON, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	wantJSON, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(gotJSON, wantJSON) {
		t.Fatalf("activities differ for %q:\none-pass %s\ngeneral  %s", text, gotJSON, wantJSON)
	}
	gotEntry, gotErr := activity.NewEntry(got, 0)
	wantEntry, wantErr := activity.NewEntry(want, 0)
	if (gotErr == nil) != (wantErr == nil) || !bytes.Equal(gotEntry.Detail, wantEntry.Detail) {
		t.Fatalf("entries differ for %q: %v / %v", text, gotErr, wantErr)
	}
	return true
}

var subscriptionOrigin = &activity.Origin{LogGroup: "CloudTrail/DefaultLogGroup", LogStream: "o-1_123456789012_us-east-1", LogEventID: "38240000000000000000000000000000000000000000000000000000"}

// TestReadRecordMatchesGeneralReader: every shared fixture record, compacted
// as CloudTrail writes it into CloudWatch Logs, reads the same with both
// readers, and the one-pass reader takes nearly all of them (the point of
// having it).
func TestReadRecordMatchesGeneralReader(t *testing.T) {
	recs := loadFixtureRecords(t)
	accepted := 0
	for _, r := range recs {
		var c bytes.Buffer
		if err := json.Compact(&c, r.Raw); err != nil {
			t.Fatalf("%s[%d]: %v", r.File, r.Index, err)
		}
		if readersAgree(t, c.Bytes(), subscriptionOrigin) {
			accepted++
		}
		readersAgree(t, c.Bytes(), nil)
		// As exported, often indented: the one-pass reader leaves that to
		// the general reader, which readersAgree checks.
		readersAgree(t, r.Raw, nil)
	}
	t.Logf("one-pass reader took %d of %d fixture records", accepted, len(recs))
	if accepted < len(recs)*99/100 {
		t.Errorf("one-pass reader took %d of %d fixture records, want >= 99%%", accepted, len(recs))
	}
}

// oddRecords are records a real pipeline meets, and worse; fast says whether
// the one-pass reader must take it when it came with a log event id (false:
// it must leave it to the general reader).
var oddRecords = []struct {
	name, text string
	fast       bool
}{
	{"lower-case keys", `{"eventversion":"1.08","useridentity":{"type":"IAMUser","username":"alice","arn":"arn:aws:iam::123456789012:user/alice"},"eventsource":"iam.amazonaws.com","eventname":"GetPolicy","awsregion":"us-east-1","errorcode":"AccessDenied","eventid":"e1"}`, true},
	{"duplicate keys", `{"eventName":"A","eventname":"B","EventName":"C","eventID":"x","eventID":"y","userIdentity":{"type":"Root","Type":"IAMUser"},"userIdentity":{"type":"IAMUser"},"resources":"no","resources":[{"ARN":"a"}]}`, true},
	{"duplicate nested keys", `{"eventID":"e","userIdentity":{"type":"AssumedRole","sessionContext":{"sessionIssuer":{"arn":"a1","arn":"a2","userName":"r1"},"sessionIssuer":{"arn":"a3"},"attributes":{"mfaAuthenticated":"false","mfaAuthenticated":"true"}}},"insightDetails":{"state":"Start","state":"End","eventName":"X"},"responseElements":{"ConsoleLogin":"Success","ConsoleLogin":"Failure"},"eventName":"ConsoleLogin"}`, true},
	{"escapes", `{"eventID":"e\"1\\\/","eventName":"Get\tObject","userAgent":"a\u00e9b\ud83d\ude00c\n","errorMessage":"User: arn:aws:iam::1:user/x is not authorized to perform: s3:GetObject on \"bucket\"","userIdentity":{"type":"IAMUser","userName":"al\u0069ce"}}`, true},
	{"lone surrogates", `{"eventID":"e","userAgent":"a\ud800b","errorCode":"\udc00x","errorMessage":"\ud800\u0041","sourceIPAddress":"\ud800\ud800\udc00","eventName":"x\ud83d"}`, true},
	{"NUL escape", `{"eventID":"e\u0000","eventName":"\u0000","userAgent":"a\u0000b","requestParameters":{"k":"v\u0000","a":{"k\u0000":1}}}`, true},
	{"escaped key", `{"eventID":"e","event\u004eame":"GetPolicy"}`, false},
	{"escaped key in requestParameters", `{"eventID":"e","eventName":"x","requestParameters":{"omi\u0074ted":true}}`, false},
	{"escaped key deep in requestParameters", `{"eventID":"e","eventName":"x","requestParameters":{"a":{"\u0062":1,"omitted":true}}}`, true},
	{"deep nesting taken", `{"eventID":"e","eventName":"x","requestParameters":` + strings.Repeat(`{"a":[`, 30) + `1` + strings.Repeat(`]}`, 30) + `}`, true},
	{"deep nesting left", `{"eventID":"e","eventName":"x","requestParameters":` + strings.Repeat(`[`, 100) + strings.Repeat(`]`, 100) + `}`, false},
	{"huge numbers", `{"eventID":123456789012345678901234567890,"eventName":"x","recipientAccountId":1e999,"awsRegion":-0.5E-3,"readOnly":0,"requestParameters":{"n":1E+400,"m":[-0,0.0]}}`, true},
	{"number requestParameters", `{"eventID":"e","eventName":"x","requestParameters":12.5e3}`, true},
	{"string requestParameters", `{"eventID":"e","eventName":"x","requestParameters":"{\"bucketName\":\"b\"}"}`, true},
	{"boolean requestParameters", `{"eventID":"e","eventName":"x","requestParameters":false,"responseElements":true}`, true},
	{"null members", `{"eventID":"e","eventName":null,"userIdentity":null,"requestParameters":null,"resources":null,"insightDetails":null,"omitted":null}`, true},
	{"invalid UTF-8", "{\"eventID\":\"e\",\"eventName\":\"x\",\"userAgent\":\"a\xff\xfeb\",\"errorMessage\":\"\xe2\x82\"}", true},
	{"truncated", `{"eventID":"e","eventName":"x","userAgent":"abc`, false},
	{"truncated escape", `{"eventID":"e","eventName":"\u00`, false},
	{"trailing garbage", `{"eventID":"e","eventName":"x"}x`, false},
	{"trailing comma", `{"eventID":"e","eventName":"x",}`, false},
	{"whitespace", `{"eventID": "e", "eventName": "x"}`, false},
	{"control byte", "{\"eventID\":\"e\",\"eventName\":\"a\tb\"}", false},
	{"NaN", `{"eventID":"e","eventName":"x","n":NaN}`, false},
	{"leading zero", `{"eventID":"e","eventName":"x","n":01}`, false},
	{"bad literal", `{"eventID":"e","eventName":"x","n":tru}`, false},
	{"bad escape", `{"eventID":"e","eventName":"\x"}`, false},
	{"array record", `[{"eventID":"e"}]`, false},
	{"string record", `"eventID"`, false},
	{"empty object", `{}`, true},
	{"no eventID", `{"eventName":"x","userIdentity":{"type":"Root"}}`, true},
	{"empty eventID", `{"eventID":"","eventName":"x"}`, true},
	{"not CloudTrail", `{"level":"info","msg":"hello"}`, true},
	{"console failure string", `{"eventID":"e","eventName":"ConsoleLogin","responseElements":"{\"ConsoleLogin\":\"Failure\"}","userIdentity":{"type":"IAMUser","userName":"bob"}}`, true},
	{"identity shapes", `{"eventID":"e","eventName":"x","userIdentity":{"type":"IdentityCenterUser","onBehalfOf":{"userId":"u-1","userId":"u-2"},"sessionContext":"s","identityProvider":"idp"}}`, true},
	{"saml", `{"eventID":"e","eventName":"x","userIdentity":{"type":"SAMLUser","userName":"al\u0069ce","identityProvider":"Okt\u0061","sessionContext":{"attributes":"x","sessionIssuer":[1]}}}`, true},
	{"mfa in any case", `{"eventID":"e","eventName":"x","userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::1:assumed-role/R/s","sessionContext":{"attributes":{"mfaAuthenticated":"TRUE"}}}}`, true},
	{"resources mixed", `{"eventID":"e","eventName":"x","resources":[1,"a",{"type":"AWS::S3::Bucket","arn":"arn:aws:s3:::b"},{},{"ARN":"A","arn":"a","accountId":7}],"omitted":false}`, true},
	{"insight", `{"eventID":"e","eventType":"AwsCloudTrailInsight","insightDetails":{"state":"Start","eventSource":"ec2.amazonaws.com","eventName":"RunInstances"}}`, true},
	{"omitted", `{"eventID":"e","eventName":"x","requestParameters":{"omitted":true},"responseElements":{"omitted":true}}`, true},
}

func TestReadRecordOddities(t *testing.T) {
	for _, tt := range oddRecords {
		t.Run(tt.name, func(t *testing.T) {
			readersAgree(t, []byte(tt.text), nil)
			if got := readersAgree(t, []byte(tt.text), subscriptionOrigin); got != tt.fast {
				t.Errorf("one-pass reader took it: %v, want %v", got, tt.fast)
			}
			// Through the Source, nothing is lost whichever reader reads it.
			a := New(Options{}).FromRecord([]byte(tt.text), subscriptionOrigin, time.Time{})
			if err := a.Validate(); err != nil {
				t.Errorf("activity: %v", err)
			}
		})
	}
}

// FuzzReadRecord: whatever the one-pass reader accepts, the general reader
// finds strictly valid and compact, and both yield the same activity.
func FuzzReadRecord(f *testing.F) {
	for _, tt := range oddRecords {
		f.Add([]byte(tt.text))
	}
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		var c bytes.Buffer
		if json.Compact(&c, b) == nil {
			f.Add(c.Bytes())
		}
	}
	f.Fuzz(func(t *testing.T, text []byte) {
		readersAgree(t, text, nil)
		readersAgree(t, text, subscriptionOrigin)
	})
}
