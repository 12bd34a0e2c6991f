// Package localpagerduty is a local PagerDuty Events API v2 endpoint for
// tests (POST /v2/enqueue). It checks events as PagerDuty documents them
// (routing_key of 32 characters; event_action trigger, acknowledge or
// resolve; a trigger's payload.summary of at most 1,024 characters,
// payload.source and payload.severity critical, error, warning or info;
// dedup_key of at most 255 characters; at most 512 KB) and answers as it
// does: 202 {"status":"success","dedup_key":…} when accepted, 400 {"status":
// "invalid event","errors":[…]} otherwise, 429 beyond a rate limit. It
// folds triggers with the same dedup_key into one alert, as PagerDuty does,
// and faults can be injected (429, 5xx, a hang).
package localpagerduty

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/activity-aware/ids/internal/localhttp"
)

// Documented limits.
const (
	MaxSummary  = 1024
	MaxDedupKey = 255
	MaxPayload  = 512 * 1024
)

// Path is the Events API v2 path.
const Path = "/v2/enqueue"

// Event is an accepted event as received.
type Event struct {
	RoutingKey  string `json:"routing_key"`
	EventAction string `json:"event_action"`
	DedupKey    string `json:"dedup_key"`
	Payload     struct {
		Summary       string            `json:"summary"`
		Source        string            `json:"source"`
		Severity      string            `json:"severity"`
		Timestamp     string            `json:"timestamp"`
		Class         string            `json:"class"`
		CustomDetails map[string]string `json:"custom_details"`
	} `json:"payload"`
	Links []struct {
		Href string `json:"href"`
		Text string `json:"text"`
	} `json:"links"`
	Raw json.RawMessage `json:"-"`
}

// Server is a running local Events API.
type Server struct {
	localhttp.Faults
	srv   *httptest.Server
	limit *localhttp.RateLimit

	mu      sync.Mutex
	events  []Event
	alerts  map[string]int
	refused []string
}

// New starts a server on a free loopback port allowing perSecond events a
// second (0: no limit).
func New(perSecond int) *Server {
	s := &Server{limit: &localhttp.RateLimit{PerSecond: perSecond}, alerts: map[string]int{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// URL is the events URL.
func (s *Server) URL() string { return s.srv.URL + Path }

// Close releases hanging requests and shuts down.
func (s *Server) Close() {
	s.Faults.Close()
	s.srv.Close()
}

// Events returns the accepted events in arrival order.
func (s *Server) Events() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Event(nil), s.events...)
}

// Alerts returns how many triggers each open alert (dedup_key) received.
func (s *Server) Alerts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for k, v := range s.alerts {
		out[k] = v
	}
	return out
}

// Refused returns why events were refused with 400.
func (s *Server) Refused() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.refused...)
}

// RateLimited is PagerDuty's 429.
func RateLimited(retryAfter string) localhttp.Fault {
	return localhttp.Fault{Status: http.StatusTooManyRequests, ContentType: "application/json", RetryAfter: retryAfter,
		Body: `{"status":"throttle event","message":"Requests for this service are arriving too quickly. Please retry later."}`}
}

// ServerError is a 500.
func ServerError() localhttp.Fault {
	return localhttp.Fault{Status: http.StatusInternalServerError, ContentType: "application/json", Body: `{"status":"internal error"}`}
}

// Hang never answers.
func Hang() localhttp.Fault { return localhttp.Fault{Hang: true} }

var routingKey = regexp.MustCompile(`^[A-Za-z0-9]{32}$`)

var severities = map[string]bool{"critical": true, "error": true, "warning": true, "info": true}

// Check reports why PagerDuty would refuse an event body, nil when it would
// accept it.
func Check(body []byte) []string {
	if len(body) > MaxPayload {
		return []string{fmt.Sprintf("event is %d bytes, limit %d", len(body), MaxPayload)}
	}
	var e Event
	if err := json.Unmarshal(body, &e); err != nil {
		return []string{"body is not a JSON event"}
	}
	var errs []string
	if !routingKey.MatchString(e.RoutingKey) {
		errs = append(errs, "'routing_key' is invalid")
	}
	if utf8.RuneCountInString(e.DedupKey) > MaxDedupKey {
		errs = append(errs, "'dedup_key' is too long")
	}
	switch e.EventAction {
	case "trigger":
		if e.Payload.Summary == "" {
			errs = append(errs, "'payload.summary' is missing or blank")
		}
		if utf8.RuneCountInString(e.Payload.Summary) > MaxSummary {
			errs = append(errs, "'payload.summary' is too long")
		}
		if e.Payload.Source == "" {
			errs = append(errs, "'payload.source' is missing or blank")
		}
		if !severities[e.Payload.Severity] {
			errs = append(errs, "'payload.severity' is invalid")
		}
		if e.Payload.Timestamp != "" {
			if _, err := time.Parse(time.RFC3339, e.Payload.Timestamp); err != nil {
				errs = append(errs, "'payload.timestamp' is invalid")
			}
		}
	case "acknowledge", "resolve":
		if e.DedupKey == "" {
			errs = append(errs, "'dedup_key' is missing")
		}
	default:
		errs = append(errs, "'event_action' is invalid")
	}
	return errs
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != Path {
		localhttp.Answer(w, http.StatusNotFound, "application/json", `{"status":"not found"}`)
		return
	}
	body, tooLong, err := localhttp.ReadBody(r, MaxPayload)
	if err != nil {
		localhttp.Answer(w, http.StatusBadRequest, "application/json", `{"status":"invalid event"}`)
		return
	}
	if s.Intercept(w, r) {
		return
	}
	if ok, after := s.limit.Allow(time.Now()); !ok {
		f := RateLimited(after)
		w.Header().Set("Retry-After", after)
		localhttp.Answer(w, f.Status, f.ContentType, f.Body)
		return
	}
	var problems []string
	if tooLong {
		problems = []string{"event is larger than 512 KB"}
	} else {
		problems = Check(body)
	}
	if len(problems) > 0 {
		s.mu.Lock()
		s.refused = append(s.refused, problems...)
		s.mu.Unlock()
		out, _ := json.Marshal(map[string]any{"status": "invalid event", "message": "Event object is invalid", "errors": problems})
		localhttp.Answer(w, http.StatusBadRequest, "application/json", string(out))
		return
	}
	var e Event
	_ = json.Unmarshal(body, &e)
	e.Raw = body
	if e.DedupKey == "" {
		e.DedupKey = fmt.Sprintf("generated-%d", time.Now().UnixNano())
	}
	s.mu.Lock()
	s.events = append(s.events, e)
	if e.EventAction == "trigger" {
		s.alerts[e.DedupKey]++
	} else if e.EventAction == "resolve" {
		delete(s.alerts, e.DedupKey)
	}
	s.mu.Unlock()
	out, _ := json.Marshal(map[string]string{"status": "success", "message": "Event processed", "dedup_key": e.DedupKey})
	localhttp.Answer(w, http.StatusAccepted, "application/json", string(out))
}
