// Package localslack is a local Slack server for tests: incoming webhooks
// (/services/…) and the Web API's chat.postMessage and chat.update (/api/…,
// webapi.go) as a Slack app's bot calls them. It listens on a loopback port,
// enforces Slack's documented message limits, answers as Slack does (a
// webhook's plain-text error code with the matching HTTP status; the Web
// API's {"ok":false,"error":…}), records every accepted message (and, for the
// Web API, threads and updates), and can be told to misbehave: rate limit,
// fail, refuse permanently or hang.
//
// It works by URL alone, so the code under test may run in another process
// (the e2e suite runs the destination Lambda under the runtime emulator).
package localslack

import (
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"

	slackapi "github.com/slack-go/slack"
	"golang.org/x/time/rate"
)

// DefaultPath is the path of the webhook URL returned by URL.
const DefaultPath = "/services/T00000000/B00000000/localslacktoken"

// maxBody bounds what the server reads of a post; Slack's own limit is far
// below it.
const maxBody = 4 << 20

// Message is one accepted webhook post.
type Message struct {
	// Path is the URL path it was posted to, telling webhooks apart.
	Path string
	// Raw is the body as received.
	Raw json.RawMessage
	// Payload is the body parsed with slack-go's types.
	Payload *slackapi.WebhookMessage
	// Received is when it arrived.
	Received time.Time
}

// Fault is an answer the server gives instead of accepting a post.
type Fault struct {
	// Status and Body are the HTTP status and plain-text body answered.
	Status int
	Body   string
	// RetryAfter, when not empty, is sent as the Retry-After header.
	RetryAfter string
	// Hang makes the server never answer: it holds the request until the
	// client gives up or the server closes.
	Hang bool
}

// RateLimited is Slack's 429 with Retry-After: seconds.
func RateLimited(seconds int) Fault {
	return Fault{Status: http.StatusTooManyRequests, Body: CodeRateLimited, RetryAfter: strconv.Itoa(seconds)}
}

// ServerError is Slack's 500 rollup_error.
func ServerError() Fault { return Fault{Status: http.StatusInternalServerError, Body: CodeRollupError} }

// InvalidBlocks is Slack's 400 invalid_blocks.
func InvalidBlocks() Fault { return Fault{Status: http.StatusBadRequest, Body: CodeInvalidBlocks} }

// InvalidPayload is Slack's 400 invalid_payload.
func InvalidPayload() Fault { return Fault{Status: http.StatusBadRequest, Body: CodeInvalidPayload} }

// ActionProhibited is Slack's 403 action_prohibited.
func ActionProhibited() Fault { return Fault{Status: http.StatusForbidden, Body: CodeActionProhibited} }

// ChannelNotFound is Slack's 404 channel_not_found.
func ChannelNotFound() Fault { return Fault{Status: http.StatusNotFound, Body: CodeChannelNotFound} }

// NoService is Slack's 404 no_service (the webhook was disabled or removed).
func NoService() Fault { return Fault{Status: http.StatusNotFound, Body: CodeNoService} }

// ChannelIsArchived is Slack's 410 channel_is_archived.
func ChannelIsArchived() Fault { return Fault{Status: http.StatusGone, Body: CodeChannelIsArchived} }

// Hang never answers.
func Hang() Fault { return Fault{Hang: true} }

type queuedFault struct {
	fault Fault
	left  int
}

// Server is a running local Slack webhook server. Its methods are safe for
// concurrent use.
type Server struct {
	srv  *httptest.Server
	done chan struct{}
	once sync.Once

	mu       sync.Mutex
	limiter  *rate.Limiter
	limited  int
	faults   []queuedFault
	messages []Message
	requests int
	refused  []error
	web      *apiState
}

// New starts a server on a free loopback port. Close it when done.
func New() *Server {
	s := &Server{done: make(chan struct{})}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// URL is the webhook URL (http, loopback) at DefaultPath.
func (s *Server) URL() string { return s.srv.URL + DefaultPath }

// URLFor is a webhook URL with its own path, e.g. for a rotated secret:
// messages posted to it carry that path.
func (s *Server) URLFor(token string) string {
	return s.srv.URL + "/services/T00000000/B00000000/" + token
}

// Close unblocks hanging requests and shuts the server down.
func (s *Server) Close() {
	s.once.Do(func() { close(s.done) })
	s.srv.Close()
}

// Fail makes the server answer the next times posts with f instead of
// accepting them. Calls queue: faults are served in the order given.
func (s *Server) Fail(f Fault, times int) {
	if times <= 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, queuedFault{fault: f, left: times})
}

// RateLimit makes the server answer 429 rate_limited with a Retry-After
// header, as Slack does, to posts beyond perSecond messages a second once a
// burst of burst posts is spent (Slack allows about one message per second
// per webhook, with short bursts). Zero perSecond lifts the limit.
func (s *Server) RateLimit(perSecond float64, burst int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limiter = nil
	if perSecond > 0 {
		s.limiter = rate.NewLimiter(rate.Limit(perSecond), burst)
	}
}

// RateLimited is the number of posts answered 429 by RateLimit.
func (s *Server) RateLimited() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.limited
}

// overLimit reports whether the rate limit refuses a post now, and after how
// many whole seconds (at least 1) one would pass.
func (s *Server) overLimit() (bool, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.limiter == nil {
		return false, 0
	}
	r := s.limiter.Reserve()
	if d := r.Delay(); d > 0 {
		r.Cancel()
		s.limited++
		return true, max(1, int(math.Ceil(d.Seconds())))
	}
	return false, 0
}

// Messages returns the accepted messages, in arrival order.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// Requests is the number of posts received, accepted or not.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// Refused returns the limit violations of the posts the server refused (as
// *LimitError), in arrival order; injected faults are not listed.
func (s *Server) Refused() []error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]error(nil), s.refused...)
}

// nextFault takes the fault for this post, if one is queued, and counts it.
func (s *Server) nextFault() (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests++
	if len(s.faults) == 0 {
		return Fault{}, false
	}
	q := &s.faults[0]
	f := q.fault
	q.left--
	if q.left == 0 {
		s.faults = s.faults[1:]
	}
	return f, true
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		answer(w, http.StatusMethodNotAllowed, "invalid_method")
		return
	}
	api := strings.HasPrefix(r.URL.Path, APIPath)
	if !api && !strings.HasPrefix(r.URL.Path, "/services/") {
		answer(w, http.StatusNotFound, CodeNoService)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		answer(w, http.StatusBadRequest, CodeInvalidPayload)
		return
	}
	if api {
		s.serveAPI(w, r, body)
		return
	}
	if s.misbehave(w, r, func(status int, code string) { answer(w, status, code) }) {
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		s.refuse(w, &LimitError{Code: CodeInvalidPayload, Reason: "content type " + strconv.Quote(ct) + " is not application/json"})
		return
	}
	if err := CheckLimits(body); err != nil {
		s.refuse(w, err)
		return
	}
	var payload slackapi.WebhookMessage
	if err := json.Unmarshal(body, &payload); err != nil {
		s.refuse(w, &LimitError{Code: CodeInvalidBlocks, Reason: "blocks do not parse: " + err.Error()})
		return
	}
	s.mu.Lock()
	s.messages = append(s.messages, Message{Path: r.URL.Path, Raw: body, Payload: &payload, Received: time.Now()})
	s.mu.Unlock()
	answer(w, http.StatusOK, "ok")
}

// misbehave answers a post with the next queued fault or, past the rate
// limit, 429 with Retry-After, writing the status and error code with
// answer; it reports whether it answered (or, for Hang, held the request
// until the client gave up).
func (s *Server) misbehave(w http.ResponseWriter, r *http.Request, answer func(status int, code string)) bool {
	if f, ok := s.nextFault(); ok {
		if f.Hang {
			select {
			case <-r.Context().Done():
			case <-s.done:
			}
			return true
		}
		if f.RetryAfter != "" {
			w.Header().Set("Retry-After", f.RetryAfter)
		}
		answer(f.Status, f.Body)
		return true
	}
	if limited, after := s.overLimit(); limited {
		w.Header().Set("Retry-After", strconv.Itoa(after))
		answer(http.StatusTooManyRequests, CodeRateLimited)
		return true
	}
	return false
}

func (s *Server) refuse(w http.ResponseWriter, err error) {
	s.mu.Lock()
	s.refused = append(s.refused, err)
	s.mu.Unlock()
	code := CodeInvalidPayload
	var le *LimitError
	if errors.As(err, &le) {
		code = le.Code
	}
	answer(w, http.StatusBadRequest, code)
}

func answer(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}
