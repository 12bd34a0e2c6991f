package localslack

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

const (
	testBot  = "xoxb-111-222-testtoken"
	testChan = "C0123456789"
)

// call makes one Web API call: a form (token in the form, as slack-go sends
// it) when form is set, else JSON with a Bearer header.
func call(t *testing.T, s *Server, method string, args map[string]string, form bool) (status int, answer map[string]any, header http.Header) {
	t.Helper()
	var req *http.Request
	var err error
	if form {
		v := url.Values{}
		for k, a := range args {
			v.Set(k, a)
		}
		req, err = http.NewRequest(http.MethodPost, s.APIURL()+method, strings.NewReader(v.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		body := map[string]any{}
		for k, a := range args {
			if k == "token" {
				continue
			}
			if k == "blocks" {
				body[k] = json.RawMessage(a)
				continue
			}
			body[k] = a
		}
		b, _ := json.Marshal(body)
		req, err = http.NewRequest(http.MethodPost, s.APIURL()+method, strings.NewReader(string(b)))
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
		if tok, ok := args["token"]; ok {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &answer); err != nil {
		t.Fatalf("answer is not JSON: %s", raw)
	}
	return resp.StatusCode, answer, resp.Header
}

func TestWebAPI(t *testing.T) {
	for _, form := range []bool{true, false} {
		name := map[bool]string{true: "form", false: "JSON"}[form]
		t.Run(name, func(t *testing.T) {
			s := New()
			defer s.Close()
			s.AddBot(testBot, testChan)
			s.AddChannel("C0999999999")
			blocks := `[{"type":"section","text":{"type":"mrkdwn","text":"hello"}}]`
			ok := map[string]string{"token": testBot, "channel": testChan, "text": "hello", "blocks": blocks}
			with := func(k, v string) map[string]string {
				m := map[string]string{}
				for a, b := range ok {
					m[a] = b
				}
				if v == "" {
					delete(m, k)
				} else {
					m[k] = v
				}
				return m
			}
			_, parent, _ := call(t, s, "chat.postMessage", ok, form)
			ts, _ := parent["ts"].(string)
			if parent["ok"] != true || parent["channel"] != testChan || len(ts) != len("1700000000.000100") || ts[10] != '.' {
				t.Fatalf("post: %v", parent)
			}
			_, reply, _ := call(t, s, "chat.postMessage", with("thread_ts", ts), form)
			if reply["ok"] != true || reply["ts"].(string) <= ts {
				t.Fatalf("reply: %v (parent %s)", reply, ts)
			}
			_, upd, _ := call(t, s, "chat.update", with("ts", ts), form)
			if upd["ok"] != true {
				t.Fatalf("update: %v", upd)
			}
			refusals := []struct {
				method string
				args   map[string]string
				code   string
			}{
				{"chat.postMessage", with("token", ""), CodeNotAuthed},
				{"chat.postMessage", with("token", "xoxb-unknown"), CodeInvalidAuth},
				{"chat.postMessage", with("channel", "C0000000000"), CodeChannelNotFound},
				{"chat.postMessage", with("channel", "C0999999999"), CodeNotInChannel},
				{"chat.postMessage", with("text", strings.Repeat("a", MaxMessageText+1)), CodeMsgTooLong},
				{"chat.postMessage", with("blocks", `[{"type":"header","text":{"type":"plain_text","text":"`+strings.Repeat("h", MaxHeaderText+1)+`"}}]`), CodeInvalidBlocks},
				{"chat.postMessage", map[string]string{"token": testBot, "channel": testChan}, CodeNoTextAPI},
				{"chat.postMessage", with("thread_ts", "1600000000.000001"), CodeThreadNotFound},
				{"chat.update", with("ts", "1600000000.000001"), CodeMessageNotFound},
			}
			for _, r := range refusals {
				status, a, _ := call(t, s, r.method, r.args, form)
				if status != http.StatusOK || a["ok"] != false || a["error"] != r.code {
					t.Errorf("%s %v: %d %v, want 200 %s", r.method, r.code, status, a, r.code)
				}
			}
			s.RevokeToken(testBot)
			if _, a, _ := call(t, s, "chat.postMessage", ok, form); a["error"] != CodeTokenRevoked {
				t.Errorf("revoked token: %v", a)
			}
			if n := len(s.Posted()); n != 2 {
				t.Fatalf("%d messages kept, want the parent and the reply", n)
			}
			if r := s.Replies(testChan, ts); len(r) != 1 {
				t.Fatalf("replies: %+v", r)
			}
			if m, _ := s.Message(testChan, ts); m.Updates != 1 || s.Updated() != 1 {
				t.Fatalf("updates: %d, %d", m.Updates, s.Updated())
			}
			// A user deletes the parent: a reply to it, or an update, finds none.
			s.AddBot(testBot+"2", testChan)
			ok["token"] = testBot + "2"
			if !s.DeleteMessage(testChan, ts) {
				t.Fatal("delete")
			}
			if _, a, _ := call(t, s, "chat.postMessage", with("thread_ts", ts), form); a["error"] != CodeThreadNotFound {
				t.Fatalf("reply to a deleted parent: %v", a)
			}
			if _, a, _ := call(t, s, "chat.update", with("ts", ts), form); a["error"] != CodeMessageNotFound {
				t.Fatalf("update of a deleted parent: %v", a)
			}
		})
	}
}

func TestWebAPIRateLimit(t *testing.T) {
	s := New()
	defer s.Close()
	s.AddBot(testBot, testChan)
	s.RateLimit(0.5, 1)
	args := map[string]string{"token": testBot, "channel": testChan, "text": "x"}
	if _, a, _ := call(t, s, "chat.postMessage", args, true); a["ok"] != true {
		t.Fatalf("first post: %v", a)
	}
	status, a, h := call(t, s, "chat.postMessage", args, true)
	if status != http.StatusTooManyRequests || a["error"] != CodeRatelimitedAPI || h.Get("Retry-After") == "" {
		t.Fatalf("second post: %d %v Retry-After %q", status, a, h.Get("Retry-After"))
	}
	if s.RateLimited() != 1 || len(s.Posted()) != 1 {
		t.Fatalf("%d limited, %d posted", s.RateLimited(), len(s.Posted()))
	}
	// An injected rate limit speaks the Web API's code too.
	s.RateLimit(0, 0)
	s.Fail(RateLimited(3), 1)
	if status, a, h := call(t, s, "chat.postMessage", args, false); status != 429 || a["error"] != CodeRatelimitedAPI || h.Get("Retry-After") != "3" {
		t.Fatalf("injected: %d %v %q", status, a, h.Get("Retry-After"))
	}
	if status, a, _ := call(t, s, "chat.delete", args, true); status != http.StatusNotFound || a["error"] != CodeUnknownMethod {
		t.Fatalf("unknown method: %d %v", status, a)
	}
}
