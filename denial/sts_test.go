package denial

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/activity-aware/ids/activity"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// decodedRunInstances is a decoded message in the shape STS returns it.
const decodedRunInstances = `{"allowed":false,"explicitDeny":false,"matchedStatements":{"items":[]},"failures":{"items":[]},"context":{"principal":{"id":"AROAEXAMPLE:session","arn":"arn:aws:sts::111122223333:assumed-role/app/session"},"action":"ec2:RunInstances","resource":"arn:aws:ec2:us-east-1:111122223333:instance/*","conditions":{"items":[]}}}`

// fakeSTS speaks STS's query protocol for DecodeAuthorizationMessage: it
// decodes "valid-message" and refuses anything else as AWS does.
func fakeSTS(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if got := r.PostForm.Get("Action"); got != "DecodeAuthorizationMessage" || r.PostForm.Get("Version") != "2011-06-15" {
			t.Errorf("Action=%q Version=%q", got, r.PostForm.Get("Version"))
		}
		if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ") {
			t.Errorf("request not signed: %q", r.Header.Get("Authorization"))
		}
		w.Header().Set("Content-Type", "text/xml")
		switch r.PostForm.Get("EncodedMessage") {
		case "valid-message":
			var esc strings.Builder
			esc.WriteString(strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(decodedRunInstances))
			fmt.Fprintf(w, `<DecodeAuthorizationMessageResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <DecodeAuthorizationMessageResult>
    <DecodedMessage>%s</DecodedMessage>
  </DecodeAuthorizationMessageResult>
  <ResponseMetadata><RequestId>6b9b5c5a-0000-4000-8000-000000000001</RequestId></ResponseMetadata>
</DecodeAuthorizationMessageResponse>`, esc.String())
		case "no-permission":
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User: arn:aws:sts::111122223333:assumed-role/destination/fn is not authorized to perform: sts:DecodeAuthorizationMessage because no identity-based policy allows the sts:DecodeAuthorizationMessage action</Message></Error>
  <RequestId>6b9b5c5a-0000-4000-8000-000000000003</RequestId>
</ErrorResponse>`)
		default:
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <Error><Type>Sender</Type><Code>InvalidAuthorizationMessageException</Code><Message>Message is not valid</Message></Error>
  <RequestId>6b9b5c5a-0000-4000-8000-000000000002</RequestId>
</ErrorResponse>`)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestSTSDecoder(t *testing.T) {
	srv := fakeSTS(t)
	client := sts.New(sts.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(srv.URL),
		Credentials:      credentials.NewStaticCredentialsProvider("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""),
		HTTPClient:       srv.Client(),
		RetryMaxAttempts: 1,
	})
	d := NewSTSDecoder(client)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	tests := []struct {
		name    string
		encoded string
		want    string
		wantErr error
		notErr  error
	}{
		{name: "decoded", encoded: "valid-message", want: decodedRunInstances},
		{name: "surrounding space", encoded: "  valid-message\n", want: decodedRunInstances},
		{name: "invalid", encoded: "not-a-message", wantErr: ErrInvalidMessage},
		{name: "empty", encoded: " ", wantErr: ErrEmptyMessage},
		{name: "decoder lacks the permission", encoded: "no-permission", notErr: ErrInvalidMessage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := d.DecodeAuthorizationMessage(ctx, tt.encoded)
			switch {
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Errorf("err = %v, want %v", err, tt.wantErr)
				}
			case tt.notErr != nil:
				if err == nil || errors.Is(err, tt.notErr) || !strings.HasPrefix(err.Error(), "denial: decode authorization message:") {
					t.Errorf("err = %v, want a decode error that is not %v", err, tt.notErr)
				}
			default:
				if err != nil || got != tt.want {
					t.Errorf("got %q, %v; want %q", got, err, tt.want)
				}
			}
		})
	}
}

func TestApplyDecoded(t *testing.T) {
	encoded := &activity.Permission{Action: "ec2:RunInstances", Resource: AnyResource, Reason: ReasonEncoded, ReasonText: ReasonText(ReasonEncoded), Encoded: true}
	tests := []struct {
		name          string
		in            *activity.Permission
		decoded       string
		wantReason    string
		wantResource  string
		wantFixable   bool
		wantStatement string
		wantErr       bool
	}{
		{
			name:          "no allow: fixable, with the evaluated resource",
			in:            encoded,
			decoded:       `{"allowed":false,"explicitDeny":false,"matchedStatements":{"items":[]},"context":{"principal":{"arn":"arn:aws:sts::111122223333:assumed-role/Dev/x"},"action":"ec2:RunInstances","resource":"arn:aws:ec2:us-east-1:111122223333:instance/*"}}`,
			wantReason:    ReasonDecodedNoAllow,
			wantResource:  "arn:aws:ec2:us-east-1:111122223333:instance/*",
			wantFixable:   true,
			wantStatement: `{"Effect":"Allow","Action":"ec2:RunInstances","Resource":"arn:aws:ec2:us-east-1:111122223333:instance/*"}`,
		},
		{
			name:         "explicit deny: not fixable by an allow",
			in:           encoded,
			decoded:      `{"allowed":false,"explicitDeny":true,"context":{"action":"ec2:TerminateInstances","resource":"arn:aws:ec2:us-east-1:111122223333:instance/i-0abc"}}`,
			wantReason:   ReasonDecodedExplicitDeny,
			wantResource: "arn:aws:ec2:us-east-1:111122223333:instance/i-0abc",
		},
		{
			name:          "no permission known before",
			in:            nil,
			decoded:       `{"allowed":false,"explicitDeny":false,"context":{"action":"ec2:CreateVolume"}}`,
			wantReason:    ReasonDecodedNoAllow,
			wantResource:  AnyResource,
			wantFixable:   true,
			wantStatement: `{"Effect":"Allow","Action":"ec2:CreateVolume","Resource":"*"}`,
		},
		{name: "not JSON", in: encoded, decoded: `<html>`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ApplyDecoded(tt.in, tt.decoded)
			if tt.wantErr {
				if !errors.Is(err, ErrInvalidMessage) {
					t.Fatalf("err = %v, want ErrInvalidMessage", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Reason != tt.wantReason || got.Resource != tt.wantResource || got.Fixable != tt.wantFixable || got.Encoded || got.ReasonText == "" {
				t.Fatalf("got %+v", got)
			}
			if string(got.Statement) != tt.wantStatement {
				t.Fatalf("statement %s, want %s", got.Statement, tt.wantStatement)
			}
			if tt.in != nil && tt.in.Reason != ReasonEncoded {
				t.Fatal("ApplyDecoded modified its input")
			}
		})
	}
}
