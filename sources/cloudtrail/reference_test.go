package cloudtrail

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/activity-aware/ids/activity"
)

// reference reads the members the source reads with encoding/json, the
// reference decoder: the first member of each name in any case, at the top
// level and in userIdentity. ok is false when text is not a JSON object.
func reference(text []byte) (top, identity map[string]any, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, nil, false
	}
	if _, isObject := v.(map[string]any); !isObject {
		return nil, nil, false
	}
	top = firstMembers(text)
	if id, isObject := top["useridentity"]; isObject {
		raw, _ := json.Marshal(id)
		identity = firstMembers(rawMember(text, "useridentity", raw))
	}
	return top, identity, true
}

// firstMembers decodes an object's members in order, keeping the first of
// each lower-cased name.
func firstMembers(text []byte) map[string]any {
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.UseNumber()
	out := map[string]any{}
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return out
	}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return out
		}
		var v any
		if err := dec.Decode(&v); err != nil {
			return out
		}
		name := strings.ToLower(k.(string))
		if _, seen := out[name]; !seen {
			out[name] = v
		}
	}
	return out
}

// rawMember returns the raw text of the first top-level member of text
// named name in any case; fallback when it is not found.
func rawMember(text []byte, name string, fallback []byte) []byte {
	dec := json.NewDecoder(bytes.NewReader(text))
	if _, err := dec.Token(); err != nil {
		return fallback
	}
	for dec.More() {
		k, _ := dec.Token()
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return fallback
		}
		if strings.EqualFold(k.(string), name) {
			return v
		}
	}
	return fallback
}

// scalarText is the source's text of a scalar: a string, a number as
// written, true or false; "" for anything else.
func scalarText(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case json.Number:
		return string(v)
	case bool:
		if v {
			return "true"
		}
		return "false"
	}
	return ""
}

// loneSurrogate finds the escapes fastjson and encoding/json read
// differently: an unpaired surrogate stays escaped in fastjson's text and is
// U+FFFD in encoding/json's.
var loneSurrogate = regexp.MustCompile(`\\u[dD][89abAB]`)

// agreesWithReference fails unless the source's activity of text carries
// what encoding/json reads from it: recognized exactly when text is a JSON
// object with a CloudTrail member, with the same id, action, actor, region,
// and a Detail encoding/json finds equal to text.
func agreesWithReference(t *testing.T, s *Source, text []byte) {
	t.Helper()
	a := s.FromRecord(text, subscriptionOrigin, time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC))
	if err := a.Validate(); err != nil {
		t.Fatalf("%q: %v", text, err)
	}
	if _, err := activity.NewEntry(a, 0); err != nil {
		t.Fatalf("%q: entry: %v", text, err)
	}
	top, id, ok := reference(text)
	recognized := false
	for _, k := range []string{"eventversion", "eventid", "eventname", "eventsource", "eventtype", "useridentity"} {
		_, has := top[k]
		recognized = recognized || has
	}
	if unrecognized := a.Action == nil; unrecognized == (ok && recognized) {
		t.Fatalf("recognized %v, encoding/json: object %v, CloudTrail member %v, for %q", !unrecognized, ok, recognized, text)
	}
	if a.Action == nil || loneSurrogate.Match(text) {
		return
	}
	// The activity's strings as its JSON carries them (invalid UTF-8 as
	// U+FFFD, as encoding/json decodes it).
	norm := func(s string) string { return string([]rune(s)) }
	want := map[string]string{
		"id": scalarText(top["eventid"]), "service": scalarText(top["eventsource"]), "name": scalarText(top["eventname"]),
		"errorCode": scalarText(top["errorcode"]), "errorMessage": scalarText(top["errormessage"]), "region": scalarText(top["awsregion"]),
		"type": scalarText(id["type"]), "arn": scalarText(id["arn"]), "principalId": scalarText(id["principalid"]),
		"sourceIp": scalarText(top["sourceipaddress"]), "userAgent": scalarText(top["useragent"]),
	}
	got := map[string]string{
		"id": a.ID, "service": a.Action.Service, "name": a.Action.Name, "errorCode": a.Action.ErrorCode,
		"errorMessage": a.Action.ErrorMessage, "region": a.Region, "type": a.Actor.Type, "arn": a.Actor.ARN,
		"principalId": a.Actor.PrincipalID, "sourceIp": a.Actor.SourceIP, "userAgent": a.Actor.UserAgent,
	}
	if want["id"] == "" {
		want["id"] = "logevent-" + subscriptionOrigin.LogEventID
	}
	if _, insight := top["insightdetails"].(map[string]any); insight {
		delete(want, "service")
		delete(want, "name")
	}
	for k, w := range want {
		if norm(got[k]) != w {
			t.Errorf("%s = %q, encoding/json reads %q, in %q", k, got[k], w, text)
		}
	}
	var g, w bytes.Buffer
	if json.Compact(&g, a.Detail) != nil || json.Compact(&w, text) != nil || !bytes.Equal(g.Bytes(), w.Bytes()) {
		t.Fatalf("Detail differs from the record:\n%s\n%s", a.Detail, text)
	}
}

var subscriptionOrigin = &activity.Origin{LogGroup: "CloudTrail/DefaultLogGroup", LogStream: "o-1_123456789012_us-east-1", LogEventID: "38240000000000000000000000000000000000000000000000000000"}

// TestFixturesAgreeWithReference: every shared fixture record, compacted as
// CloudTrail writes it into CloudWatch Logs and as exported (indented), reads
// as encoding/json reads it.
func TestFixturesAgreeWithReference(t *testing.T) {
	s := deployedSource(t)
	for _, r := range loadFixtureRecords(t) {
		var c bytes.Buffer
		if err := json.Compact(&c, r.Raw); err != nil {
			t.Fatalf("%s[%d]: %v", r.File, r.Index, err)
		}
		agreesWithReference(t, s, c.Bytes())
		var ind bytes.Buffer
		_ = json.Indent(&ind, r.Raw, "", "  ")
		agreesWithReference(t, s, ind.Bytes())
	}
}

// oddRecords are records a real pipeline meets, and worse.
var oddRecords = []string{
	`{"eventversion":"1.08","useridentity":{"type":"IAMUser","username":"alice","arn":"arn:aws:iam::123456789012:user/alice"},"eventsource":"iam.amazonaws.com","eventname":"GetPolicy","awsregion":"us-east-1","errorcode":"AccessDenied","eventid":"e1"}`,
	`{"eventName":"A","eventname":"B","EventName":"C","eventID":"x","eventID":"y","userIdentity":{"type":"Root","Type":"IAMUser"},"userIdentity":{"type":"IAMUser"},"resources":"no","resources":[{"ARN":"a"}]}`,
	`{"eventID":"e","userIdentity":{"type":"AssumedRole","sessionContext":{"sessionIssuer":{"arn":"a1","arn":"a2","userName":"r1"},"sessionIssuer":{"arn":"a3"},"attributes":{"mfaAuthenticated":"false","mfaAuthenticated":"true"}}},"insightDetails":{"state":"Start","state":"End","eventName":"X"},"responseElements":{"ConsoleLogin":"Success","ConsoleLogin":"Failure"},"eventName":"ConsoleLogin"}`,
	`{"eventID":"e\"1\\\/","eventName":"Get\tObject","userAgent":"a\u00e9b\ud83d\ude00c\n","errorMessage":"User: arn:aws:iam::1:user/x is not authorized to perform: s3:GetObject on \"bucket\"","userIdentity":{"type":"IAMUser","userName":"al\u0069ce"}}`,
	`{"eventID":"e","userAgent":"a\ud800b","errorCode":"\udc00x","errorMessage":"\ud800\u0041","sourceIPAddress":"\ud800\ud800\udc00","eventName":"x\ud83d"}`,
	`{"eventID":"e\u0000","eventName":"\u0000","userAgent":"a\u0000b","requestParameters":{"k":"v\u0000","a":{"k\u0000":1}}}`,
	`{"eventID":"e","event\u004eame":"GetPolicy"}`,
	`{"eventID":"e","eventName":"x","requestParameters":{"omi\u0074ted":true}}`,
	`{"eventID":"e","eventName":"x","requestParameters":` + strings.Repeat(`{"a":[`, 30) + `1` + strings.Repeat(`]}`, 30) + `}`,
	`{"eventID":"e","eventName":"x","requestParameters":` + strings.Repeat(`[`, 100) + strings.Repeat(`]`, 100) + `}`,
	`{"eventID":123456789012345678901234567890,"eventName":"x","recipientAccountId":1e999,"awsRegion":-0.5E-3,"readOnly":0,"requestParameters":{"n":1E+400,"m":[-0,0.0]}}`,
	`{"eventID":"e","eventName":"x","requestParameters":12.5e3}`,
	`{"eventID":"e","eventName":"x","requestParameters":"{\"bucketName\":\"b\"}"}`,
	`{"eventID":"e","eventName":"x","requestParameters":false,"responseElements":true}`,
	`{"eventID":"e","eventName":null,"userIdentity":null,"requestParameters":null,"resources":null,"insightDetails":null,"omitted":null}`,
	"{\"eventID\":\"e\",\"eventName\":\"x\",\"userAgent\":\"a\xff\xfeb\",\"errorMessage\":\"\xe2\x82\"}",
	`{"eventID":"e","eventName":"x","userAgent":"abc`,
	`{"eventID":"e","eventName":"\u00`,
	`{"eventID":"e","eventName":"x"}x`,
	`{"eventID":"e","eventName":"x",}`,
	`{"eventID": "e", "eventName": "x"}`,
	"{\"eventID\":\"e\",\"eventName\":\"a\tb\"}",
	`{"eventID":"e","eventName":"x","n":NaN}`,
	`{"eventID":"e","eventName":"x","n":01}`,
	`{"eventID":"e","eventName":"x","n":tru}`,
	`{"eventID":"e","eventName":"\x"}`,
	`[{"eventID":"e"}]`,
	`"eventID"`,
	`{}`,
	`{"eventName":"x","userIdentity":{"type":"Root"}}`,
	`{"eventID":"","eventName":"x"}`,
	`{"level":"info","msg":"hello"}`,
	`{"eventID":"e","eventName":"ConsoleLogin","responseElements":"{\"ConsoleLogin\":\"Failure\"}","userIdentity":{"type":"IAMUser","userName":"bob"}}`,
	`{"eventID":"e","eventName":"x","userIdentity":{"type":"IdentityCenterUser","onBehalfOf":{"userId":"u-1","userId":"u-2"},"sessionContext":"s","identityProvider":"idp"}}`,
	`{"eventID":"e","eventName":"x","userIdentity":{"type":"SAMLUser","userName":"al\u0069ce","identityProvider":"Okt\u0061","sessionContext":{"attributes":"x","sessionIssuer":[1]}}}`,
	`{"eventID":"e","eventName":"x","userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::1:assumed-role/R/s","sessionContext":{"attributes":{"mfaAuthenticated":"TRUE"}}}}`,
	`{"eventID":"e","eventName":"x","resources":[1,"a",{"type":"AWS::S3::Bucket","arn":"arn:aws:s3:::b"},{},{"ARN":"A","arn":"a","accountId":7}],"omitted":false}`,
	`{"eventID":"e","eventType":"AwsCloudTrailInsight","insightDetails":{"state":"Start","eventSource":"ec2.amazonaws.com","eventName":"RunInstances"}}`,
	`{"eventID":"e","eventName":"x","requestParameters":{"omitted":true},"responseElements":{"omitted":true}}`,
}

func TestOddRecordsAgreeWithReference(t *testing.T) {
	s := deployedSource(t)
	for _, text := range oddRecords {
		agreesWithReference(t, s, []byte(text))
	}
}

// FuzzRecordAgreesWithReference: for any text, the source's activity carries
// what encoding/json reads from it.
func FuzzRecordAgreesWithReference(f *testing.F) {
	for _, text := range oddRecords {
		f.Add([]byte(text))
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
	s := deployedSource(f)
	f.Fuzz(func(t *testing.T, text []byte) {
		agreesWithReference(t, s, text)
	})
}

// TestDeeplyNestedDenial: a denial whose requestParameters nest far deeper
// than a parser goes (fastjson stops at 300 levels) is still a denial
// activity with its actor, action, severity and permission; only the nested
// part is summarized, and the activity says it was trimmed.
func TestDeeplyNestedDenial(t *testing.T) {
	// Each step nests two levels; requestParameters.policy starts at three.
	for _, depth := range []int{100, 200, 1000, 5000} {
		text := `{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::123456789012:user/mallory","accountId":"123456789012","userName":"mallory"},` +
			`"eventTime":"2024-05-06T07:08:09Z","eventSource":"s3.amazonaws.com","eventName":"PutBucketPolicy","awsRegion":"us-east-1",` +
			`"errorCode":"AccessDenied","errorMessage":"Access Denied","requestParameters":{"bucketName":"prod-data","policy":` +
			strings.Repeat(`{"a":[`, depth) + `"x"` + strings.Repeat(`]}`, depth) + `},"eventID":"deep-1"}`
		a := deployedSource(t).FromRecord([]byte(text), subscriptionOrigin, time.Time{})
		if a.Action == nil || a.Actor == nil {
			t.Fatalf("depth %d: not a CloudTrail activity: %s", depth, a.Subject)
		}
		if a.ID != "deep-1" || a.Actor.Name != "mallory" || a.Action.Name != "PutBucketPolicy" ||
			a.Action.Outcome != activity.Denied || a.Severity != activity.Medium {
			t.Errorf("depth %d: id %q actor %q action %q outcome %q severity %q", depth, a.ID, a.Actor.Name, a.Action.Name, a.Action.Outcome, a.Severity)
		}
		if a.Permission == nil || a.Permission.Resource != "arn:aws:s3:::prod-data" || len(a.Detections) != 1 {
			t.Errorf("depth %d: permission %+v, detections %v", depth, a.Permission, a.Detections)
		}
		if deep := 2*depth+3 > 300; a.Truncated != deep || deep && len(a.Detail) > previewBytes+1024 {
			t.Errorf("depth %d: truncated %v, detail %d of %d bytes", depth, a.Truncated, len(a.Detail), len(text))
		}
		if _, err := activity.NewEntry(a, 0); err != nil {
			t.Errorf("depth %d: entry: %v", depth, err)
		}
	}
}
