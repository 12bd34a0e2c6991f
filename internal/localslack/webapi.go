package localslack

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	slackapi "github.com/slack-go/slack"
)

// The Web API mode: POST /api/chat.postMessage and /api/chat.update as a
// Slack app's bot calls them. Requests carry a form body
// (application/x-www-form-urlencoded, slack-go's way: the token is the form's
// "token", blocks a JSON string) or a JSON body with the token in
// "Authorization: Bearer"; either is checked against the bots the test
// registered (AddBot), their channels and Slack's limits. Answers are Slack's:
// HTTP 200 with {"ok":true,…} or {"ok":false,"error":"…"}, and 429 with
// Retry-After and "ratelimited" past the rate limit (RateLimit, shared with
// the webhook mode).

// APIPath is the Web API's path prefix; APIURL is the server's base URL for
// it.
const APIPath = "/api/"

// The Web API's error codes the server answers.
const (
	CodeNotAuthed        = "not_authed"
	CodeInvalidAuth      = "invalid_auth"
	CodeTokenRevoked     = "token_revoked"
	CodeNotInChannel     = "not_in_channel"
	CodeMsgTooLong       = "msg_too_long"
	CodeNoTextAPI        = "no_text"
	CodeMessageNotFound  = "message_not_found"
	CodeThreadNotFound   = "thread_not_found"
	CodeInvalidArguments = "invalid_arguments"
	CodeUnknownMethod    = "unknown_method"
	CodeRatelimitedAPI   = "ratelimited"
	CodeInternalError    = "internal_error"
)

// APIError is the Web API's HTTP 200 answer {"ok":false,"error":code}, for
// Fail (e.g. APIError("channel_not_found")).
func APIError(code string) Fault { return Fault{Status: http.StatusOK, Body: code} }

// APIMessage is one message posted with chat.postMessage, as it stands after
// any chat.update.
type APIMessage struct {
	Channel, TS string
	// ThreadTS is the parent's ts for a reply, "" for a top-level message.
	ThreadTS string
	Text     string
	// Blocks is the blocks array as received (null when none).
	Blocks json.RawMessage
	// Payload is Text and Blocks parsed with slack-go's types, as a webhook
	// message is.
	Payload *slackapi.WebhookMessage
	// Updates is how many times chat.update replaced it.
	Updates  int
	Received time.Time
}

// apiState is the Web API's part of a Server, under its mutex.
type apiState struct {
	tokens   map[string]*bot
	channels map[string]bool
	// posts are the accepted messages in posting order; byTS finds one.
	posts   []*APIMessage
	byTS    map[string]*APIMessage
	updates int
	lastTS  int64
}

type bot struct {
	channels map[string]bool
	revoked  bool
}

func (s *Server) api() *apiState {
	if s.web == nil {
		s.web = &apiState{tokens: map[string]*bot{}, channels: map[string]bool{}, byTS: map[string]*APIMessage{}}
	}
	return s.web
}

// APIURL is the Web API's base URL (http, loopback), ending in "/api/", as
// slack-go's OptionAPIURL takes it.
func (s *Server) APIURL() string { return s.srv.URL + APIPath }

// AddBot registers a bot token and makes the bot a member of the channels
// (which are created). A token the server does not know is invalid_auth.
func (s *Server) AddBot(token string, channels ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.api()
	b := w.tokens[token]
	if b == nil {
		b = &bot{channels: map[string]bool{}}
		w.tokens[token] = b
	}
	for _, c := range channels {
		b.channels[c], w.channels[c] = true, true
	}
}

// AddChannel creates a channel no bot is a member of: posting to it is
// not_in_channel.
func (s *Server) AddChannel(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.api().channels[id] = true
}

// RevokeToken makes a registered token answer token_revoked from now on.
func (s *Server) RevokeToken(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b := s.api().tokens[token]; b != nil {
		b.revoked = true
	}
}

// Posted returns every accepted chat.postMessage, top-level and replies,
// in posting order, as each stands now.
func (s *Server) Posted() []APIMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []APIMessage
	for _, m := range s.api().posts {
		out = append(out, *m)
	}
	return out
}

// TopLevel returns the channel's top-level messages in posting order.
func (s *Server) TopLevel(channel string) []APIMessage {
	var out []APIMessage
	for _, m := range s.Posted() {
		if m.Channel == channel && m.ThreadTS == "" {
			out = append(out, m)
		}
	}
	return out
}

// Replies returns the replies in the thread of the message at ts, in
// posting order.
func (s *Server) Replies(channel, ts string) []APIMessage {
	var out []APIMessage
	for _, m := range s.Posted() {
		if m.Channel == channel && m.ThreadTS == ts {
			out = append(out, m)
		}
	}
	return out
}

// Message returns the message at ts as it stands now.
func (s *Server) Message(channel, ts string) (APIMessage, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.api().byTS[channel+"/"+ts]
	if !ok {
		return APIMessage{}, false
	}
	return *m, true
}

// DeleteMessage deletes the message at ts, as a user may: its replies stay,
// a reply to it is thread_not_found and an update message_not_found.
func (s *Server) DeleteMessage(channel, ts string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	web := s.api()
	m, ok := web.byTS[channel+"/"+ts]
	if !ok {
		return false
	}
	delete(web.byTS, channel+"/"+ts)
	for i, p := range web.posts {
		if p == m {
			web.posts = append(web.posts[:i], web.posts[i+1:]...)
			break
		}
	}
	return true
}

// Updated is the number of accepted chat.update calls.
func (s *Server) Updated() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.api().updates
}

// apiRequest is a chat method's arguments, from a form or a JSON body.
type apiRequest struct {
	token, channel, text, ts, threadTS string
	blocks                             json.RawMessage
}

// readAPIRequest reads the arguments the way Slack takes them: a form with
// blocks as a JSON string, or a JSON object; the token from the Bearer
// header, else the form's token field.
func readAPIRequest(r *http.Request, body []byte) (apiRequest, error) {
	var q apiRequest
	ct := strings.ToLower(r.Header.Get("Content-Type"))
	switch {
	case strings.HasPrefix(ct, "application/x-www-form-urlencoded"):
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return q, fmt.Errorf("form does not parse: %w", err)
		}
		q = apiRequest{token: form.Get("token"), channel: form.Get("channel"), text: form.Get("text"), ts: form.Get("ts"), threadTS: form.Get("thread_ts")}
		if b := form.Get("blocks"); b != "" {
			q.blocks = json.RawMessage(b)
		}
	case strings.HasPrefix(ct, "application/json"):
		var j struct {
			Channel  string          `json:"channel"`
			Text     string          `json:"text"`
			TS       string          `json:"ts"`
			ThreadTS string          `json:"thread_ts"`
			Blocks   json.RawMessage `json:"blocks"`
		}
		if err := json.Unmarshal(body, &j); err != nil {
			return q, fmt.Errorf("JSON body does not parse: %w", err)
		}
		q = apiRequest{channel: j.Channel, text: j.Text, ts: j.TS, threadTS: j.ThreadTS, blocks: j.Blocks}
	default:
		return q, fmt.Errorf("content type %q is neither a form nor JSON", ct)
	}
	if auth := r.Header.Get("Authorization"); strings.HasPrefix(auth, "Bearer ") {
		q.token = strings.TrimPrefix(auth, "Bearer ")
	}
	return q, nil
}

// serveAPI answers a Web API call.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request, body []byte) {
	method := strings.TrimPrefix(r.URL.Path, APIPath)
	if method != "chat.postMessage" && method != "chat.update" {
		apiAnswer(w, http.StatusNotFound, map[string]any{"ok": false, "error": CodeUnknownMethod})
		return
	}
	if s.misbehave(w, r, func(status int, code string) {
		if code == CodeRateLimited { // the webhook's word; the Web API's is ratelimited
			code = CodeRatelimitedAPI
		}
		apiAnswer(w, status, map[string]any{"ok": false, "error": code})
	}) {
		return
	}
	q, err := readAPIRequest(r, body)
	if err != nil {
		s.apiRefuse(w, &LimitError{Code: CodeInvalidArguments, Reason: err.Error()})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if code := s.authorize(q); code != "" {
		apiAnswer(w, http.StatusOK, map[string]any{"ok": false, "error": code})
		return
	}
	if err := checkAPIMessage(q); err != nil {
		s.refused = append(s.refused, err)
		apiAnswer(w, http.StatusOK, map[string]any{"ok": false, "error": err.(*LimitError).Code})
		return
	}
	var payload slackapi.WebhookMessage
	raw, _ := json.Marshal(map[string]any{"text": q.text, "blocks": q.blocks})
	if err := json.Unmarshal(raw, &payload); err != nil {
		s.refused = append(s.refused, &LimitError{Code: CodeInvalidBlocks, Reason: "blocks do not parse: " + err.Error()})
		apiAnswer(w, http.StatusOK, map[string]any{"ok": false, "error": CodeInvalidBlocks})
		return
	}
	web := s.api()
	if method == "chat.update" {
		m, ok := web.byTS[q.channel+"/"+q.ts]
		if q.ts == "" || !ok {
			apiAnswer(w, http.StatusOK, map[string]any{"ok": false, "error": CodeMessageNotFound})
			return
		}
		m.Text, m.Payload, m.Updates = q.text, &payload, m.Updates+1
		if q.blocks != nil {
			m.Blocks = q.blocks
		}
		web.updates++
		apiAnswer(w, http.StatusOK, map[string]any{"ok": true, "channel": m.Channel, "ts": m.TS, "text": m.Text})
		return
	}
	if q.threadTS != "" {
		// A reply must name a top-level message of the channel; Slack
		// answers thread_not_found for one that is gone (deleted).
		if p, ok := web.byTS[q.channel+"/"+q.threadTS]; !ok || p.ThreadTS != "" {
			apiAnswer(w, http.StatusOK, map[string]any{"ok": false, "error": CodeThreadNotFound})
			return
		}
	}
	m := &APIMessage{Channel: q.channel, TS: web.nextTS(), ThreadTS: q.threadTS, Text: q.text, Blocks: q.blocks, Payload: &payload, Received: time.Now()}
	web.posts = append(web.posts, m)
	web.byTS[m.Channel+"/"+m.TS] = m
	apiAnswer(w, http.StatusOK, map[string]any{"ok": true, "channel": m.Channel, "ts": m.TS,
		"message": map[string]any{"type": "message", "subtype": "bot_message", "text": m.Text, "ts": m.TS, "thread_ts": m.ThreadTS}})
}

// authorize checks the token and the channel (s.mu held): the error code
// Slack answers, or "".
func (s *Server) authorize(q apiRequest) string {
	web := s.api()
	if q.token == "" {
		return CodeNotAuthed
	}
	b, ok := web.tokens[q.token]
	switch {
	case !ok:
		return CodeInvalidAuth
	case b.revoked:
		return CodeTokenRevoked
	case q.channel == "" || !web.channels[q.channel]:
		return CodeChannelNotFound
	case !b.channels[q.channel]:
		return CodeNotInChannel
	}
	return ""
}

// checkAPIMessage applies the webhook limits to the message, with the Web
// API's codes: msg_too_long for text beyond MaxMessageText.
func checkAPIMessage(q apiRequest) error {
	if n := utf8.RuneCountInString(q.text); n > MaxMessageText {
		return &LimitError{Code: CodeMsgTooLong, Path: "text", Reason: fmt.Sprintf("%d characters, limit %d", n, MaxMessageText)}
	}
	blocks := q.blocks
	if blocks == nil {
		blocks = json.RawMessage("null")
	}
	raw, err := json.Marshal(map[string]json.RawMessage{"text": mustJSON(q.text), "blocks": blocks})
	if err != nil {
		return &LimitError{Code: CodeInvalidBlocks, Path: "blocks", Reason: "not JSON"}
	}
	return CheckLimits(raw)
}

func mustJSON(s string) json.RawMessage {
	b, _ := json.Marshal(s)
	return b
}

// nextTS is a message ts as Slack writes it, seconds and microseconds
// ("1700000000.000100"), unique and increasing within the server.
func (w *apiState) nextTS() string {
	us := max(time.Now().UnixMicro(), w.lastTS+1)
	w.lastTS = us
	return fmt.Sprintf("%d.%06d", us/1e6, us%1e6)
}

func (s *Server) apiRefuse(w http.ResponseWriter, err *LimitError) {
	s.mu.Lock()
	s.refused = append(s.refused, err)
	s.mu.Unlock()
	apiAnswer(w, http.StatusOK, map[string]any{"ok": false, "error": err.Code})
}

func apiAnswer(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	b, _ := json.Marshal(body)
	_, _ = io.WriteString(w, string(b))
}
