package eventbus_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/activity-aware/ids/eventbus"
)

// capture is an HTTP client that keeps the request it is given and answers
// PutEvents with success.
type capture struct {
	header http.Header
	body   []byte
}

func (c *capture) Do(r *http.Request) (*http.Response, error) {
	c.header = r.Header.Clone()
	c.body, _ = io.ReadAll(r.Body)
	return &http.Response{
		StatusCode: 200,
		Header:     http.Header{"Content-Type": {"application/x-amz-json-1.1"}},
		Body:       io.NopCloser(strings.NewReader(`{"FailedEntryCount":0,"Entries":[]}`)),
		Request:    r,
	}, nil
}

// requestOf sends in through client (with the capturing HTTP client) and
// returns the request's body and headers.
func requestOf(t *testing.T, sdk bool, in *eventbridge.PutEventsInput) ([]byte, http.Header) {
	t.Helper()
	c := &capture{}
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKID", "secret", ""), HTTPClient: c}
	var client *eventbridge.Client
	if sdk {
		client = eventbridge.NewFromConfig(cfg)
	} else {
		client = eventbus.NewClient(cfg)
	}
	if _, err := client.PutEvents(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	return c.body, c.header
}

// samePutEvents checks that eventbus.NewClient's PutEvents request carries
// the same JSON value and headers as the SDK's own serializer writes.
func samePutEvents(t *testing.T, in *eventbridge.PutEventsInput) (ours []byte) {
	t.Helper()
	want, wantHeader := requestOf(t, true, in)
	got, gotHeader := requestOf(t, false, in)
	var w, g any
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatalf("the SDK's body: %v", err)
	}
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("our body is not JSON: %v\n%s", err, got)
	}
	if !reflect.DeepEqual(w, g) {
		t.Fatalf("bodies decode differently:\nSDK  %s\nours %s", want, got)
	}
	for _, h := range []string{"Content-Type", "X-Amz-Target"} {
		if gotHeader.Get(h) != wantHeader.Get(h) {
			t.Fatalf("%s: %q, want %q", h, gotHeader.Get(h), wantHeader.Get(h))
		}
	}
	return got
}

func entry(detail string) types.PutEventsRequestEntry {
	return types.PutEventsRequestEntry{
		EventBusName: aws.String("bus"),
		Source:       aws.String("activity-aware-ids.cloudtrail"),
		DetailType:   aws.String("Activity"),
		Detail:       aws.String(detail),
	}
}

// TestPutEventsBody: the body eventbus.NewClient's client writes for
// PutEvents decodes as the SDK's serializer's, for entries of every kind of
// text an event brings (quotes, backslashes, control characters, HTML
// characters, line separators, non-ASCII, invalid UTF-8), and is not the
// SDK's (it is the cheaper encoding).
func TestPutEventsBody(t *testing.T) {
	detail := `{"id":"a\"b\\c","userAgent":"<script>&amp;` + "\u2028\u2029\x01\t\n" + `","name":"Jérôme 🦊","bad":"` + "\xff\xfe" + `"}`
	e := entry(detail)
	e.Resources = []string{"arn:aws:s3:::b/<k>&\"q\""}
	e.TraceHeader = aws.String("Root=1-5759e988-bd862e3fe1be46a994272793")
	in := &eventbridge.PutEventsInput{Entries: []types.PutEventsRequestEntry{e, entry(""), {Detail: aws.String("{}")}}}
	got := samePutEvents(t, in)
	sdk, _ := requestOf(t, true, in)
	if bytes.Equal(got, sdk) {
		t.Fatal("eventbus.NewClient's body is the SDK's byte for byte: is putEventsProtocol in place?")
	}
	// What the encoding does not write goes the SDK's way, unchanged.
	at := entry(`{}`)
	at.Time = aws.Time(time.Date(2026, 11, 29, 1, 2, 3, 0, time.UTC))
	empty := entry(`{}`)
	empty.Resources = []string{}
	for _, in := range []*eventbridge.PutEventsInput{
		{Entries: []types.PutEventsRequestEntry{at}},
		{Entries: []types.PutEventsRequestEntry{empty}},
		{Entries: []types.PutEventsRequestEntry{entry(`{}`)}, EndpointId: aws.String("abcde.veo")},
	} {
		got := samePutEvents(t, in)
		if sdk, _ := requestOf(t, true, in); !bytes.Equal(got, sdk) {
			t.Fatalf("not the SDK's body:\n%s\n%s", got, sdk)
		}
	}
}

// FuzzPutEventsBody: any Detail, resource and source text encodes to a body
// that decodes as the SDK's.
func FuzzPutEventsBody(f *testing.F) {
	f.Add(`{"a":"b"}`, "arn:aws:iam::111122223333:user/x", "src")
	f.Add("\"\\\x00\x1f\u2028<>&\xff", "\xc3", "\u00e9")
	f.Fuzz(func(t *testing.T, detail, resource, source string) {
		e := entry(detail)
		e.Source = aws.String(source)
		e.Resources = []string{resource}
		samePutEvents(t, &eventbridge.PutEventsInput{Entries: []types.PutEventsRequestEntry{e}})
	})
}
