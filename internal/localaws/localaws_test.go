package localaws_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/activity-aware/ids/internal/localaws"
)

func TestCheckSigV4(t *testing.T) {
	const date = "20260302T091500Z"
	tests := []struct {
		name, auth, date string
		want             *localaws.Error
	}{
		{"signed", "AWS4-HMAC-SHA256 Credential=AKID/20260302/us-east-1/events/aws4_request, SignedHeaders=host;x-amz-date, Signature=0123abcd", date, nil},
		{"missing", "", date, localaws.ErrMissingAuthentication},
		{"other scheme", "Bearer token", date, localaws.ErrIncompleteSignature},
		{"no signature", "AWS4-HMAC-SHA256 Credential=AKID/20260302/us-east-1/events/aws4_request, SignedHeaders=host", date, localaws.ErrIncompleteSignature},
		{"no date", "AWS4-HMAC-SHA256 Credential=AKID/x, SignedHeaders=host, Signature=00", "", localaws.ErrIncompleteSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/", nil)
			if tt.auth != "" {
				r.Header.Set("Authorization", tt.auth)
			}
			if tt.date != "" {
				r.Header.Set("X-Amz-Date", tt.date)
			}
			if got := localaws.CheckSigV4(r); got != tt.want {
				t.Errorf("CheckSigV4 = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestOperationErrors checks how an operation's errors are written: an *Error
// as it is, anything else as the service's internal error.
func TestOperationErrors(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		wantStatus int
		wantType   string
	}{
		{"modeled", &localaws.Error{Status: 400, Type: "ResourceNotFoundException", Message: "gone"}, 400, "ResourceNotFoundException"},
		{"wrapped modeled", errors.Join(errors.New("context"), &localaws.Error{Status: 400, Type: "InvalidParameterException", Message: "bad"}), 400, "InvalidParameterException"},
		{"unmodeled", errors.New("boom"), 500, "InternalFailure"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := localaws.NewServer(localaws.Config{
				TargetPrefix: "Svc", InternalErrorType: "InternalFailure",
				Operations: map[string]localaws.Operation{"Op": func(context.Context, []byte) (any, error) { return nil, tt.err }},
			})
			defer srv.Close()
			req, _ := http.NewRequest(http.MethodPost, srv.URL(), strings.NewReader(`{}`))
			req.Header.Set("Content-Type", localaws.ContentType)
			req.Header.Set("X-Amz-Target", "Svc.Op")
			req.Header.Set("X-Amz-Date", "20260302T091500Z")
			req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/x, SignedHeaders=host, Signature=00")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			var got struct {
				Type    string `json:"__type"`
				Message string `json:"message"`
			}
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatalf("body %q: %v", body, err)
			}
			if resp.StatusCode != tt.wantStatus || got.Type != tt.wantType || resp.Header.Get("X-Amzn-ErrorType") != tt.wantType {
				t.Errorf("got %d %q (header %q), want %d %q", resp.StatusCode, got.Type, resp.Header.Get("X-Amzn-ErrorType"), tt.wantStatus, tt.wantType)
			}
			if resp.Header.Get("Content-Type") != localaws.ContentType || resp.Header.Get("X-Amzn-RequestId") == "" {
				t.Errorf("headers %v", resp.Header)
			}
			if srv.Served() != 1 || srv.Requests() != 1 {
				t.Errorf("served %d of %d requests", srv.Served(), srv.Requests())
			}
		})
	}
}
