package localwebhook

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/activity-aware/ids/destinations/webhook/signature"
	"github.com/activity-aware/ids/internal/localhttp"
)

func post(t *testing.T, s *Server, key *signature.Key, id, contentType string, body []byte) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.URL(), bytes.NewReader(body))
	if key != nil {
		req.Header = key.Headers(id, time.Now(), body)
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// TestServerEnforces checks the answers a careful receiver gives: 204 for a
// signed JSON body, 401 for a bad signature, 415 for another content type,
// 413 beyond the size limit, 429 with Retry-After beyond the rate, and a
// count of repeated webhook-ids.
func TestServerEnforces(t *testing.T) {
	s := New(Options{MaxBody: 64, PerSecond: 2})
	defer s.Close()
	key, _ := signature.NewSigner(s.Secret())
	wrong, _ := signature.NewSigner(signature.GenerateSecret())
	body := []byte(`{"a":1}`)
	tests := []struct {
		name   string
		key    *signature.Key
		ct     string
		body   []byte
		status int
	}{
		{"signed JSON", key, "application/json", body, http.StatusNoContent},
		{"bad signature", wrong, "application/json", body, http.StatusUnauthorized},
		{"unsigned", nil, "application/json", body, http.StatusUnauthorized},
		{"not JSON content", key, "text/plain", body, http.StatusUnsupportedMediaType},
		{"too large", key, "application/json", []byte(`{"a":"` + strings.Repeat("x", 64) + `"}`), http.StatusRequestEntityTooLarge},
	}
	for _, tt := range tests {
		// One second per case keeps the rate limit out of these.
		s.limit.PerSecond = 0
		if got := post(t, s, tt.key, "msg_1", tt.ct, tt.body).StatusCode; got != tt.status {
			t.Errorf("%s: %d, want %d", tt.name, got, tt.status)
		}
	}
	if s.Repeats() != 0 || len(s.Deliveries()) != 1 {
		t.Fatalf("%d deliveries, %d repeats", len(s.Deliveries()), s.Repeats())
	}
	post(t, s, key, "msg_1", "application/json", body)
	if s.Repeats() != 1 {
		t.Errorf("a repeated webhook-id is not counted")
	}
	// The rate limit: more than PerSecond within one second is refused. The
	// requests are sent at once; they may straddle a second, so at least one
	// of five is refused, never all.
	s.limit = &localhttp.RateLimit{PerSecond: 2}
	refused := 0
	for range 5 {
		resp := post(t, s, key, "msg_2", "application/json", body)
		if resp.StatusCode == http.StatusTooManyRequests {
			refused++
			if resp.Header.Get("Retry-After") == "" {
				t.Error("429 without Retry-After")
			}
		}
	}
	if refused == 0 || refused == 5 {
		t.Errorf("%d of 5 requests refused at 2 per second", refused)
	}
}
