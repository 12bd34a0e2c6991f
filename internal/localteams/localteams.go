// Package localteams is a local Microsoft Teams Workflows webhook for tests.
// It answers as the service does: 202 for a message it accepts, 413
// (RequestEntityTooLarge) beyond about 28 KB, 400 for a body that is not a
// message envelope with an Adaptive Card, 415 without a JSON content type,
// and 429 beyond four requests a second; faults can be injected (429, 5xx,
// a hang). CheckMessage and LiveMarkup let tests judge a message offline.
package localteams

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/activity-aware/ids/internal/localhttp"
)

// Documented limits: the message size and the request rate of a webhook.
const (
	MaxMessage = 28 * 1024
	PerSecond  = 4
)

// Path is the path of URL.
const Path = "/workflows/aaids/triggers/manual/paths/invoke"

// Server is a running local webhook.
type Server struct {
	localhttp.Faults
	srv   *httptest.Server
	limit *localhttp.RateLimit

	mu       sync.Mutex
	messages []json.RawMessage
	refused  []string
}

// New starts a server on a free loopback port, rate-limited as Teams is
// (perSecond < 0: no limit).
func New(perSecond int) *Server {
	s := &Server{limit: &localhttp.RateLimit{PerSecond: max(perSecond, 0)}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// URL is the webhook URL.
func (s *Server) URL() string { return s.srv.URL + Path }

// Close releases hanging requests and shuts down.
func (s *Server) Close() {
	s.Faults.Close()
	s.srv.Close()
}

// Messages returns the accepted message bodies.
func (s *Server) Messages() []json.RawMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]json.RawMessage(nil), s.messages...)
}

// Refused returns why messages were refused.
func (s *Server) Refused() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.refused...)
}

// RateLimited is a 429 with Retry-After.
func RateLimited(retryAfter string) localhttp.Fault {
	return localhttp.Fault{Status: http.StatusTooManyRequests, RetryAfter: retryAfter, ContentType: "application/json",
		Body: `{"error":{"code":"TooManyRequests","message":"Rate limit is exceeded."}}`}
}

// ServiceUnavailable is a 503.
func ServiceUnavailable() localhttp.Fault {
	return localhttp.Fault{Status: http.StatusServiceUnavailable, ContentType: "application/json", Body: `{"error":{"code":"ServiceUnavailable"}}`}
}

// NotFound is the answer of a deleted workflow.
func NotFound() localhttp.Fault {
	return localhttp.Fault{Status: http.StatusNotFound, ContentType: "application/json", Body: `{"error":{"code":"WorkflowNotFound"}}`}
}

// Hang never answers.
func Hang() localhttp.Fault { return localhttp.Fault{Hang: true} }

func (s *Server) refuse(w http.ResponseWriter, status int, code, why string) {
	s.mu.Lock()
	s.refused = append(s.refused, why)
	s.mu.Unlock()
	localhttp.Answer(w, status, "application/json", `{"error":{"code":"`+code+`","message":"`+strings.ReplaceAll(why, `"`, `'`)+`"}}`)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		localhttp.Answer(w, http.StatusMethodNotAllowed, "", "")
		return
	}
	body, tooLong, err := localhttp.ReadBody(r, MaxMessage)
	if err != nil {
		s.refuse(w, http.StatusBadRequest, "InvalidRequestContent", "unreadable body")
		return
	}
	if s.Intercept(w, r) {
		return
	}
	if ok, after := s.limit.Allow(time.Now()); !ok {
		w.Header().Set("Retry-After", after)
		f := RateLimited(after)
		localhttp.Answer(w, f.Status, f.ContentType, f.Body)
		return
	}
	if tooLong {
		s.refuse(w, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "message larger than 28 KB")
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		s.refuse(w, http.StatusUnsupportedMediaType, "UnsupportedMediaType", "content type "+ct)
		return
	}
	if err := CheckMessage(body); err != nil {
		s.refuse(w, http.StatusBadRequest, "InvalidRequestContent", err.Error())
		return
	}
	s.mu.Lock()
	s.messages = append(s.messages, body)
	s.mu.Unlock()
	w.WriteHeader(http.StatusAccepted)
}

// element types a card's body and actions may hold (those this project
// sends and their common kin).
var (
	bodyTypes   = map[string]bool{"TextBlock": true, "FactSet": true, "ColumnSet": true, "Container": true, "Image": true, "RichTextBlock": true}
	actionTypes = map[string]bool{"Action.OpenUrl": true}
)

// CheckMessage reports why a body is not a message envelope with one
// Adaptive Card Teams renders, nil when it is.
func CheckMessage(body []byte) error {
	if len(body) > MaxMessage {
		return fmt.Errorf("message of %d bytes exceeds %d", len(body), MaxMessage)
	}
	var m struct {
		Type        string `json:"type"`
		Attachments []struct {
			ContentType string `json:"contentType"`
			Content     struct {
				Type    string           `json:"type"`
				Version string           `json:"version"`
				Body    []map[string]any `json:"body"`
				Actions []map[string]any `json:"actions"`
			} `json:"content"`
		} `json:"attachments"`
	}
	if err := json.Unmarshal(body, &m); err != nil {
		return fmt.Errorf("not JSON: %v", err)
	}
	if m.Type != "message" || len(m.Attachments) == 0 {
		return fmt.Errorf("not a message envelope with attachments")
	}
	for i, a := range m.Attachments {
		c := a.Content
		if a.ContentType != "application/vnd.microsoft.card.adaptive" || c.Type != "AdaptiveCard" || c.Version == "" {
			return fmt.Errorf("attachment %d is not an Adaptive Card", i)
		}
		if len(c.Body) == 0 {
			return fmt.Errorf("attachment %d: empty card", i)
		}
		for j, e := range c.Body {
			if t, _ := e["type"].(string); !bodyTypes[t] {
				return fmt.Errorf("attachment %d body[%d]: type %q", i, j, t)
			}
		}
		for j, e := range c.Actions {
			t, _ := e["type"].(string)
			u, _ := e["url"].(string)
			if !actionTypes[t] || !strings.HasPrefix(u, "https://") {
				return fmt.Errorf("attachment %d actions[%d]: %q to %q", i, j, t, u)
			}
		}
	}
	return nil
}

// live matches what the Adaptive Card Markdown subset or Teams would turn
// into a link, emphasis, a list or a heading, or an autolinked URL or
// address.
var live = []*regexp.Regexp{
	regexp.MustCompile(`\]\(`),                     // [text](url)
	regexp.MustCompile(`\*\*|__|\*[^\s*]|_[^\s_]`), // emphasis
	regexp.MustCompile(`^\s*([-+*]|\d+[.)])\s`),    // a list item
	regexp.MustCompile(`^\s*#`),                    // a heading
	regexp.MustCompile(`(?i)[a-z][a-z0-9+.-]*://`), // a URL
	regexp.MustCompile(`(?i)\bwww\.`),              // a bare host
	regexp.MustCompile(`[^\s@]+@[^\s@]+\.[a-z]`),   // an address
	regexp.MustCompile(`<[^>]*>`),                  // a tag (mentions: <at>)
	regexp.MustCompile("[\n\r]"),                   // a line of its own
}

// LiveMarkup returns the markup found in s, a text the card shows.
func LiveMarkup(s string) []string {
	var out []string
	for _, re := range live {
		if m := re.FindString(s); m != "" {
			out = append(out, m)
		}
	}
	return out
}
