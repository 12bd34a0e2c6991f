// Package localwebhook is a local receiver of signed activity webhooks for
// tests, behaving as a careful Standard Webhooks consumer does: it verifies
// every request's signature with package signature (401 when it does not
// match or the timestamp is outside the tolerance), refuses bodies over its
// size limit (413) and content that is not JSON (415), rate-limits (429 with
// Retry-After), records each accepted webhook and counts repeats of a
// webhook-id it already accepted. Faults can be injected (429, 5xx, 410, a
// hang).
//
// It works by URL alone, so the code under test may run in another process.
package localwebhook

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/activity-aware/ids/destinations/webhook/signature"
	"github.com/activity-aware/ids/internal/localhttp"
)

// DefaultPath is the path of URL.
const DefaultPath = "/hooks/activity-aware-ids"

// DefaultMaxBody is the body size limit, a common one for webhook receivers
// (the scheme sets none).
const DefaultMaxBody = 1 << 20

// Delivery is one accepted webhook.
type Delivery struct {
	ID        string
	Timestamp string
	Signature string
	Body      json.RawMessage
}

// Options configure a Server.
type Options struct {
	// Secret verifies signatures ("whsec_…"). Default: a generated one
	// (Server.Secret).
	Secret string
	// MaxBody in bytes. Default DefaultMaxBody.
	MaxBody int64
	// PerSecond rate-limits accepted requests (0: no limit).
	PerSecond int
}

// Server is a running local receiver.
type Server struct {
	localhttp.Faults
	srv     *httptest.Server
	secret  string
	key     *signature.Key
	maxBody int64
	limit   *localhttp.RateLimit

	mu         sync.Mutex
	deliveries []Delivery
	seen       map[string]bool
	repeats    int
	refused    map[int]int
}

// New starts a server on a free loopback port. Close it when done. It
// panics on an invalid Options.Secret (a test bug).
func New(opts Options) *Server {
	if opts.Secret == "" {
		opts.Secret = signature.GenerateSecret()
	}
	key, err := signature.NewVerifier(opts.Secret)
	if err != nil {
		panic("localwebhook: " + err.Error())
	}
	if opts.MaxBody <= 0 {
		opts.MaxBody = DefaultMaxBody
	}
	s := &Server{secret: opts.Secret, key: key, maxBody: opts.MaxBody, limit: &localhttp.RateLimit{PerSecond: opts.PerSecond},
		seen: map[string]bool{}, refused: map[int]int{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// URL is the webhook URL (http, loopback).
func (s *Server) URL() string { return s.srv.URL + DefaultPath }

// Secret is the signing secret the server verifies with.
func (s *Server) Secret() string { return s.secret }

// SecretValue is the Secrets Manager value the destination reads for this
// server: {"url": URL, "signingSecret": Secret}.
func (s *Server) SecretValue() string {
	b, _ := json.Marshal(map[string]string{"url": s.URL(), "signingSecret": s.secret})
	return string(b)
}

// Close releases hanging requests and shuts the server down.
func (s *Server) Close() {
	s.Faults.Close()
	s.srv.Close()
}

// Deliveries returns the accepted webhooks, in arrival order.
func (s *Server) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Delivery(nil), s.deliveries...)
}

// Repeats counts accepted webhooks whose id had been accepted before.
func (s *Server) Repeats() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.repeats
}

// Refused returns how many requests the server refused, by status, faults
// not included.
func (s *Server) Refused() map[int]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[int]int{}
	for k, v := range s.refused {
		out[k] = v
	}
	return out
}

// RateLimited is a 429 with Retry-After in seconds.
func RateLimited(seconds string) localhttp.Fault {
	return localhttp.Fault{Status: http.StatusTooManyRequests, Body: `{"error":"rate_limited"}`, ContentType: "application/json", RetryAfter: seconds}
}

// Unavailable is a 503, as a receiver under maintenance answers.
func Unavailable() localhttp.Fault {
	return localhttp.Fault{Status: http.StatusServiceUnavailable, Body: "unavailable"}
}

// Gone is 410: the receiver no longer wants webhooks from this sender.
func Gone() localhttp.Fault { return localhttp.Fault{Status: http.StatusGone, Body: "gone"} }

// Hang never answers.
func Hang() localhttp.Fault { return localhttp.Fault{Hang: true} }

func (s *Server) refuse(w http.ResponseWriter, status int, code string) {
	s.mu.Lock()
	s.refused[status]++
	s.mu.Unlock()
	localhttp.Answer(w, status, "application/json", `{"error":"`+code+`"}`)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		s.refuse(w, http.StatusMethodNotAllowed, "method_not_allowed")
		return
	}
	body, tooLong, err := localhttp.ReadBody(r, s.maxBody)
	if err != nil {
		s.refuse(w, http.StatusBadRequest, "unreadable_body")
		return
	}
	if s.Intercept(w, r) {
		return
	}
	if tooLong {
		s.refuse(w, http.StatusRequestEntityTooLarge, "payload_too_large")
		return
	}
	if ok, after := s.limit.Allow(time.Now()); !ok {
		w.Header().Set("Retry-After", after)
		s.refuse(w, http.StatusTooManyRequests, "rate_limited")
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		s.refuse(w, http.StatusUnsupportedMediaType, "not_json")
		return
	}
	if err := s.key.Verify(r.Header, body, time.Now()); err != nil {
		s.refuse(w, http.StatusUnauthorized, "invalid_signature")
		return
	}
	if !json.Valid(body) {
		s.refuse(w, http.StatusBadRequest, "invalid_json")
		return
	}
	d := Delivery{
		ID:        r.Header.Get(signature.HeaderID),
		Timestamp: r.Header.Get(signature.HeaderTimestamp),
		Signature: r.Header.Get(signature.HeaderSignature),
		Body:      body,
	}
	s.mu.Lock()
	if s.seen[d.ID] {
		s.repeats++
	}
	s.seen[d.ID] = true
	s.deliveries = append(s.deliveries, d)
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}
