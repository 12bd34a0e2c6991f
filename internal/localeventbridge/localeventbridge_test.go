package localeventbridge_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/smithy-go"

	"github.com/activity-aware/ids/internal/localeventbridge"
)

const bus = "activity-bus"

// client is a real SDK client without retries, so each call is one request.
func client(srv *localeventbridge.Server) *eventbridge.Client {
	return eventbridge.NewFromConfig(srv.AWSConfig(), func(o *eventbridge.Options) { o.RetryMaxAttempts = 1 })
}

func entry(detail string) types.PutEventsRequestEntry {
	return types.PutEventsRequestEntry{
		EventBusName: aws.String(bus), Source: aws.String("activity-aware-ids.cloudtrail"),
		DetailType: aws.String("Activity"), Detail: aws.String(detail),
	}
}

func entries(n int) []types.PutEventsRequestEntry {
	out := make([]types.PutEventsRequestEntry, n)
	for i := range out {
		out[i] = entry(fmt.Sprintf(`{"id":"e%d"}`, i))
	}
	return out
}

func apiCode(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}

func TestPutEventsValidation(t *testing.T) {
	noID := func(b []byte) error {
		if !strings.Contains(string(b), `"id"`) {
			return errors.New("no id")
		}
		return nil
	}
	tests := []struct {
		name        string
		entries     []types.PutEventsRequestEntry
		wantErr     string   // request-level error code
		wantCodes   []string // per-entry codes, "" for accepted
		wantStoreOK int
	}{
		{name: "accepted", entries: entries(3), wantCodes: []string{"", "", ""}, wantStoreOK: 3},
		{name: "ten entries", entries: entries(10), wantCodes: make([]string, 10), wantStoreOK: 10},
		{name: "eleven entries", entries: entries(11), wantErr: "ValidationException"},
		{name: "over 256 KB", entries: []types.PutEventsRequestEntry{
			entry(`{"id":"a","x":"` + strings.Repeat("a", 200_000) + `"}`),
			entry(`{"id":"b","x":"` + strings.Repeat("b", 100_000) + `"}`),
		}, wantErr: "ValidationException"},
		{name: "unknown bus", entries: func() []types.PutEventsRequestEntry {
			e := entry(`{"id":"a"}`)
			e.EventBusName = aws.String("other-bus")
			return []types.PutEventsRequestEntry{e}
		}(), wantErr: "ResourceNotFoundException"},
		{name: "bus by ARN", entries: func() []types.PutEventsRequestEntry {
			e := entry(`{"id":"a"}`)
			e.EventBusName = aws.String("arn:aws:events:us-east-1:123456789012:event-bus/" + bus)
			return []types.PutEventsRequestEntry{e}
		}(), wantCodes: []string{""}, wantStoreOK: 1},
		{name: "entry checks", entries: func() []types.PutEventsRequestEntry {
			noSource, noType := entry(`{"id":"a"}`), entry(`{"id":"b"}`)
			noSource.Source, noType.DetailType = nil, aws.String("")
			return []types.PutEventsRequestEntry{noSource, noType, entry(`[1,2]`), entry(`{"id":`), entry(`{"other":1}`), entry(`{"id":"ok"}`)}
		}(), wantCodes: []string{"InvalidArgument", "InvalidArgument", "MalformedDetail", "MalformedDetail", "InvalidArgument", ""}, wantStoreOK: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := localeventbridge.New(localeventbridge.Options{BusName: bus, ValidateDetail: noID})
			defer srv.Close()
			out, err := client(srv).PutEvents(context.Background(), &eventbridge.PutEventsInput{Entries: tt.entries})
			if tt.wantErr != "" {
				if apiCode(err) != tt.wantErr {
					t.Fatalf("error = %v, want %s", err, tt.wantErr)
				}
				if len(srv.Accepted()) != 0 {
					t.Errorf("accepted %d entries of a refused request", len(srv.Accepted()))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			failed := 0
			for i, want := range tt.wantCodes {
				r := out.Entries[i]
				if got := aws.ToString(r.ErrorCode); got != want {
					t.Errorf("entry %d: code %q, want %q", i, got, want)
				}
				if want == "" && aws.ToString(r.EventId) == "" {
					t.Errorf("entry %d: accepted without an EventId", i)
				}
				if want != "" {
					failed++
				}
			}
			if int(out.FailedEntryCount) != failed {
				t.Errorf("FailedEntryCount = %d, want %d", out.FailedEntryCount, failed)
			}
			acc := srv.Accepted()
			if len(acc) != tt.wantStoreOK || len(srv.Rejected()) != failed {
				t.Errorf("accepted %d, rejected %d; want %d, %d", len(acc), len(srv.Rejected()), tt.wantStoreOK, failed)
			}
			for _, e := range acc {
				if e.EventID == "" || e.Source != "activity-aware-ids.cloudtrail" || e.DetailType != "Activity" {
					t.Errorf("accepted entry recorded as %+v", e)
				}
			}
		})
	}
}

func TestProtocolChecks(t *testing.T) {
	srv := localeventbridge.New(localeventbridge.Options{BusName: bus})
	defer srv.Close()
	signed := "AWS4-HMAC-SHA256 Credential=AKID/20260302/us-east-1/events/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc"
	tests := []struct {
		name       string
		auth, date string
		target     string
		ctype      string
		body       string
		wantStatus int
		wantType   string
	}{
		{"unsigned", "", "", "AWSEvents.PutEvents", "application/x-amz-json-1.1", `{}`, 403, "MissingAuthenticationTokenException"},
		{"not SigV4", "Basic Zm9vOmJhcg==", "20260302T091500Z", "AWSEvents.PutEvents", "application/x-amz-json-1.1", `{}`, 400, "IncompleteSignatureException"},
		{"no date", signed, "", "AWSEvents.PutEvents", "application/x-amz-json-1.1", `{}`, 400, "IncompleteSignatureException"},
		{"unknown target", signed, "20260302T091500Z", "AWSEvents.PutRule", "application/x-amz-json-1.1", `{}`, 400, "UnknownOperationException"},
		{"other service", signed, "20260302T091500Z", "secretsmanager.PutEvents", "application/x-amz-json-1.1", `{}`, 400, "UnknownOperationException"},
		{"wrong content type", signed, "20260302T091500Z", "AWSEvents.PutEvents", "application/json", `{}`, 400, "SerializationException"},
		{"not JSON", signed, "20260302T091500Z", "AWSEvents.PutEvents", "application/x-amz-json-1.1", `{"Entries":`, 400, "SerializationException"},
		{"no entries", signed, "20260302T091500Z", "AWSEvents.PutEvents", "application/x-amz-json-1.1", `{"Entries":[]}`, 400, "ValidationException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, srv.URL(), strings.NewReader(tt.body))
			req.Header.Set("X-Amz-Target", tt.target)
			req.Header.Set("Content-Type", tt.ctype)
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			if tt.date != "" {
				req.Header.Set("X-Amz-Date", tt.date)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tt.wantStatus || resp.Header.Get("X-Amzn-ErrorType") != tt.wantType {
				t.Errorf("got %d %s, want %d %s", resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"), tt.wantStatus, tt.wantType)
			}
		})
	}
}

func TestFaults(t *testing.T) {
	tests := []struct {
		name   string
		inject func(*localeventbridge.Server)
		// wantCodes are the outcomes of three successive one-entry calls:
		// a request error code, "entry:<code>" for a per-entry failure, or ""
		// for success.
		wantCodes []string
	}{
		{"throttle two requests", func(s *localeventbridge.Server) { s.Throttle(2) }, []string{"ThrottlingException", "ThrottlingException", ""}},
		{"500 once", func(s *localeventbridge.Server) { s.FailInternal(1) }, []string{"InternalException", "", ""}},
		{"faults queue in order", func(s *localeventbridge.Server) { s.FailInternal(1); s.Throttle(1) }, []string{"InternalException", "ThrottlingException", ""}},
		{"entry fault by index", func(s *localeventbridge.Server) { s.FailIndexes("InternalFailure", 2, 0) }, []string{"entry:InternalFailure", "entry:InternalFailure", ""}},
		{"entry fault by detail", func(s *localeventbridge.Server) { s.FailDetailContaining("ThrottlingException", 1, `"e0"`) }, []string{"entry:ThrottlingException", "", ""}},
		{"cleared", func(s *localeventbridge.Server) { s.Throttle(5); s.ClearFaults() }, []string{"", "", ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := localeventbridge.New(localeventbridge.Options{BusName: bus})
			defer srv.Close()
			tt.inject(srv)
			c := client(srv)
			for i, want := range tt.wantCodes {
				out, err := c.PutEvents(context.Background(), &eventbridge.PutEventsInput{Entries: entries(1)})
				got := apiCode(err)
				if err == nil && out.FailedEntryCount > 0 {
					got = "entry:" + aws.ToString(out.Entries[0].ErrorCode)
				}
				if err != nil && got == "" {
					t.Fatalf("call %d: %v", i, err)
				}
				if got != want {
					t.Errorf("call %d: got %q, want %q", i, got, want)
				}
			}
			if srv.Requests() != len(tt.wantCodes) {
				t.Errorf("Requests() = %d, want %d", srv.Requests(), len(tt.wantCodes))
			}
			if srv.Attempts(`{"id":"e0"}`) != srv.PutEventsRequests() {
				t.Errorf("Attempts = %d, PutEventsRequests = %d", srv.Attempts(`{"id":"e0"}`), srv.PutEventsRequests())
			}
		})
	}
}

func TestHang(t *testing.T) {
	t.Run("until the client gives up", func(t *testing.T) {
		srv := localeventbridge.New(localeventbridge.Options{BusName: bus})
		defer srv.Close()
		srv.Hang(1)
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		_, err := client(srv).PutEvents(ctx, &eventbridge.PutEventsInput{Entries: entries(1)})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("error = %v, want a deadline", err)
		}
		if _, err := client(srv).PutEvents(context.Background(), &eventbridge.PutEventsInput{Entries: entries(1)}); err != nil {
			t.Fatalf("the request after the hang: %v", err)
		}
	})
	t.Run("until the server closes", func(t *testing.T) {
		srv := localeventbridge.New(localeventbridge.Options{BusName: bus})
		srv.Hang(1)
		done := make(chan error, 1)
		go func() {
			_, err := client(srv).PutEvents(context.Background(), &eventbridge.PutEventsInput{Entries: entries(1)})
			done <- err
		}()
		for srv.Faulted() == 0 {
			time.Sleep(5 * time.Millisecond)
		}
		srv.Close()
		select {
		case err := <-done:
			if err == nil {
				t.Error("a hung request succeeded")
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Close did not release the hung request")
		}
	})
}

func TestConcurrentUse(t *testing.T) {
	srv := localeventbridge.New(localeventbridge.Options{BusName: bus})
	defer srv.Close()
	srv.Throttle(5)
	srv.FailIndexes("InternalFailure", 5, 3)
	c := client(srv)
	var wg sync.WaitGroup
	var mu sync.Mutex
	throttled, entryFailed := 0, 0
	for range 20 {
		wg.Go(func() {
			out, err := c.PutEvents(context.Background(), &eventbridge.PutEventsInput{Entries: entries(5)})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case apiCode(err) == "ThrottlingException":
				throttled++
			case err != nil:
				t.Error(err)
			default:
				entryFailed += int(out.FailedEntryCount)
			}
		})
	}
	wg.Wait()
	if throttled != 5 || entryFailed != 5 || len(srv.Accepted()) != 15*5-5 {
		t.Errorf("throttled %d, entry failures %d, accepted %d; want 5, 5, 70", throttled, entryFailed, len(srv.Accepted()))
	}
}
