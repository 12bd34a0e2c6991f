package delivery

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// scripted is a local receiver that answers each request with the next of
// its statuses (2xx once they run out), with Retry-After when set.
type scripted struct {
	srv *httptest.Server

	mu       sync.Mutex
	answers  []scriptedAnswer
	requests int
	headers  []http.Header
}

type scriptedAnswer struct {
	status     int
	retryAfter string
	body       string
}

func newScripted(t *testing.T, answers ...scriptedAnswer) *scripted {
	s := &scripted{answers: answers}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests++
		s.headers = append(s.headers, r.Header.Clone())
		a := scriptedAnswer{status: http.StatusAccepted}
		if len(s.answers) > 0 {
			a, s.answers = s.answers[0], s.answers[1:]
		}
		s.mu.Unlock()
		if a.retryAfter != "" {
			w.Header().Set("Retry-After", a.retryAfter)
		}
		w.WriteHeader(a.status)
		_, _ = w.Write([]byte(a.body))
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *scripted) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

const secretPath = "/hook/s3cr3t"

func testRetrier() Retrier {
	r := NewRetrier("test")
	r.BaseBackoff, r.MaxBackoff = 5*time.Millisecond, 20*time.Millisecond
	return r
}

func post(t *testing.T, r Retrier, target string) (int, error) {
	hc := NoRedirects(&http.Client{Timeout: 2 * time.Second})
	n := 0
	return r.Do(t.Context(), nil, ScrubURL(target), func(ctx context.Context) (Answer, error) {
		n++
		return Post(ctx, hc, Request{
			URL:    target,
			Header: func() http.Header { return http.Header{"X-Attempt": {strings.Repeat("i", n)}} },
			Body:   []byte(`{}`),
			Code:   func(b []byte) string { return strings.TrimSpace(string(b)) },
		})
	})
}

func TestDoRetriesWhatMayPass(t *testing.T) {
	tests := []struct {
		name     string
		answers  []scriptedAnswer
		minWait  time.Duration
		attempts int
	}{
		{"429 with Retry-After waits then succeeds", []scriptedAnswer{{status: 429, retryAfter: "1"}}, time.Second, 2},
		{"503 twice then 202", []scriptedAnswer{{status: 503}, {status: 503}}, 0, 3},
		{"408 then 200", []scriptedAnswer{{status: 408}, {status: 200}}, 0, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newScripted(t, tt.answers...)
			start := time.Now()
			n, err := post(t, testRetrier(), s.srv.URL+secretPath)
			if err != nil || n != tt.attempts || s.count() != tt.attempts {
				t.Fatalf("Do = %d, %v after %d requests, want success after %d", n, err, s.count(), tt.attempts)
			}
			if time.Since(start) < tt.minWait {
				t.Errorf("retried before the Retry-After of %s", tt.minWait)
			}
			// Headers are built per attempt (a signature's timestamp is the attempt's).
			if got := s.headers[len(s.headers)-1].Get("X-Attempt"); got != strings.Repeat("i", tt.attempts) {
				t.Errorf("last attempt's header = %q", got)
			}
		})
	}
}

func TestDoStopsOnPermanentAnswers(t *testing.T) {
	for _, status := range []int{400, 401, 403, 404, 410, 413, 307} {
		s := newScripted(t, scriptedAnswer{status: status, body: "invalid_thing"})
		n, err := post(t, testRetrier(), s.srv.URL+secretPath)
		var e *Error
		if !errors.As(err, &e) || !e.Permanent || e.StatusCode != status || e.Code != "invalid_thing" || n != 1 || s.count() != 1 {
			t.Fatalf("%d: Do = %d, %v after %d requests, want one permanent failure", status, n, err, s.count())
		}
		if !errors.Is(err, ErrPermanent) || errors.Is(err, ErrRetryable) {
			t.Errorf("%d: errors.Is permanent %v retryable %v", status, errors.Is(err, ErrPermanent), errors.Is(err, ErrRetryable))
		}
	}
}

func TestDoGivesUp(t *testing.T) {
	s := newScripted(t, scriptedAnswer{status: 500}, scriptedAnswer{status: 500}, scriptedAnswer{status: 500})
	r := testRetrier()
	r.MaxAttempts = 3
	n, err := post(t, r, s.srv.URL+secretPath)
	if !errors.Is(err, ErrRetryable) || n != 3 || !strings.Contains(err.Error(), "gave up after 3 attempts") {
		t.Fatalf("Do = %d, %v", n, err)
	}

	// A Retry-After beyond the deadline ends the invocation at once.
	s = newScripted(t, scriptedAnswer{status: 429, retryAfter: "30"})
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
	defer cancel()
	hc := NoRedirects(nil)
	target := s.srv.URL + secretPath
	n, err = testRetrier().Do(ctx, nil, ScrubURL(target), func(ctx context.Context) (Answer, error) {
		return Post(ctx, hc, Request{URL: target})
	})
	if !errors.Is(err, ErrRetryable) || n != 1 || !strings.Contains(err.Error(), "would pass the deadline") {
		t.Fatalf("Do = %d, %v", n, err)
	}
}

func TestDoNetworkErrorHidesURL(t *testing.T) {
	s := newScripted(t)
	target := s.srv.URL + secretPath + "?token=s3cr3tq"
	s.srv.Close()
	r := testRetrier()
	r.MaxAttempts = 2
	n, err := post(t, r, target)
	if !errors.Is(err, ErrRetryable) || n != 2 || !strings.Contains(err.Error(), "connect") {
		t.Fatalf("Do = %d, %v, want a retryable connection error", n, err)
	}
	if strings.Contains(err.Error(), "s3cr3t") {
		t.Fatalf("error reveals the URL: %v", err)
	}
}

func TestCheckURL(t *testing.T) {
	tests := []struct{ raw, problem string }{
		{"https://example.com/hook", ""},
		{"http://127.0.0.1:8080/hook", ""},
		{"http://example.com/hook", "scheme"},
		{"https://user:pw@example.com/hook", "credentials"},
		{"https://example.com:8443/hook", "port"},
		{" https://example.com/hook", "white space"},
		{"", "empty"},
		{"https:///hook", "no host"},
	}
	for _, tt := range tests {
		_, err := CheckURL(tt.raw, nil)
		if (err == nil) != (tt.problem == "") || (err != nil && (!errors.Is(err, ErrInvalidURL) || !strings.Contains(err.Error(), tt.problem))) {
			t.Errorf("CheckURL(%q) = %v, want %q", tt.raw, err, tt.problem)
		}
	}
	only := func(h string) bool { return h == "events.pagerduty.com" }
	if _, err := CheckURL("https://events.pagerduty.com.evil.example/v2/enqueue", only); err == nil {
		t.Error("a host outside the allow-list passed")
	}
}

func TestParseRetryAfter(t *testing.T) {
	tests := map[string]time.Duration{"": 0, "3": 3 * time.Second, "-1": 0, "soon": 0, "99999": 0}
	for in, want := range tests {
		if got := ParseRetryAfter(in); got != want {
			t.Errorf("ParseRetryAfter(%q) = %s, want %s", in, got, want)
		}
	}
	if got := ParseRetryAfter(time.Now().Add(5 * time.Second).UTC().Format(http.TimeFormat)); got < 3*time.Second || got > 5*time.Second {
		t.Errorf("HTTP-date Retry-After = %s, want about 4-5s", got)
	}
}
