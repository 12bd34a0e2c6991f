package localslack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

func post(t *testing.T, ctx context.Context, url, body string) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err.Error(), nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func TestCheckLimits(t *testing.T) {
	section := func(text string) string {
		return fmt.Sprintf(`{"type":"section","text":{"type":"mrkdwn","text":%q}}`, text)
	}
	blocks := func(bs ...string) string { return `{"text":"t","blocks":[` + strings.Join(bs, ",") + `]}` }
	repeat := func(s string, n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = s
		}
		return out
	}
	fields := func(n, size int) string {
		f := fmt.Sprintf(`{"type":"mrkdwn","text":%q}`, strings.Repeat("é", size))
		return `{"type":"section","fields":[` + strings.Join(repeat(f, n), ",") + `]}`
	}
	context := func(n int) string {
		return `{"type":"context","elements":[` + strings.Join(repeat(`{"type":"mrkdwn","text":"x"}`, n), ",") + `]}`
	}
	header := func(n int) string {
		return fmt.Sprintf(`{"type":"header","text":{"type":"plain_text","text":%q}}`, strings.Repeat("ü", n))
	}
	tests := []struct {
		name    string
		payload string
		code    string // "" = accepted
	}{
		{"text only", `{"text":"hello"}`, ""},
		{"not json", `{"text":`, CodeInvalidPayload},
		{"array body", `[]`, CodeInvalidPayload},
		{"no text no blocks", `{"unfurl_links":false}`, CodeNoText},
		{"blank text", `{"text":"  "}`, CodeNoText},
		{"blocks without text", `{"blocks":[` + section("x") + `]}`, ""},
		{"50 blocks", blocks(repeat(section("x"), 50)...), ""},
		{"51 blocks", blocks(repeat(section("x"), 51)...), CodeInvalidBlocks},
		{"header 150 runes", blocks(header(150)), ""},
		{"header 151 runes", blocks(header(151)), CodeInvalidBlocks},
		{"header mrkdwn", blocks(`{"type":"header","text":{"type":"mrkdwn","text":"x"}}`), CodeInvalidBlocks},
		{"section text 3000", blocks(section(strings.Repeat("a", 3000))), ""},
		{"section text 3001", blocks(section(strings.Repeat("a", 3001))), CodeInvalidBlocks},
		{"section empty text", blocks(section("")), CodeInvalidBlocks},
		{"section neither", blocks(`{"type":"section"}`), CodeInvalidBlocks},
		{"10 fields of 2000", blocks(fields(10, 2000)), ""},
		{"11 fields", blocks(fields(11, 1)), CodeInvalidBlocks},
		{"field 2001", blocks(fields(1, 2001)), CodeInvalidBlocks},
		{"context 10", blocks(context(10)), ""},
		{"context 11", blocks(context(11)), CodeInvalidBlocks},
		{"unknown block type", blocks(`{"type":"marquee"}`), CodeInvalidBlocks},
		{"duplicate block id", blocks(`{"type":"divider","block_id":"a"}`, `{"type":"divider","block_id":"a"}`), CodeInvalidBlocks},
		{"button ok", blocks(`{"type":"actions","elements":[{"type":"button","action_id":"a","text":{"type":"plain_text","text":"Open"},"url":"https://console.aws.amazon.com/"}]}`), ""},
		{"button text 76", blocks(fmt.Sprintf(`{"type":"actions","elements":[{"type":"button","text":{"type":"plain_text","text":%q}}]}`, strings.Repeat("b", 76))), CodeInvalidBlocks},
		{"duplicate action id", blocks(`{"type":"actions","elements":[{"type":"button","action_id":"a","text":{"type":"plain_text","text":"1"}},{"type":"button","action_id":"a","text":{"type":"plain_text","text":"2"}}]}`), CodeInvalidBlocks},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckLimits([]byte(tt.payload))
			if tt.code == "" {
				if err != nil {
					t.Fatalf("CheckLimits = %v, want accepted", err)
				}
				return
			}
			var le *LimitError
			if !errors.As(err, &le) || le.Code != tt.code || !errors.Is(err, ErrLimit) {
				t.Fatalf("CheckLimits = %v, want code %s", err, tt.code)
			}
		})
	}
}

func TestFindLiveMarkup(t *testing.T) {
	tests := []struct {
		payload string
		want    int
	}{
		{`{"text":"&lt;!channel&gt; &amp; &lt;@U123&gt;"}`, 0},
		{`{"text":"hi <!channel>"}`, 1},
		{`{"blocks":[{"type":"section","fields":[{"type":"mrkdwn","text":"<@U123> and <#C1> and <HTTPS://evil.example|x>"}]}]}`, 3},
		{`{"text":"a < b <mailto:x@y>"}`, 1},
	}
	for _, tt := range tests {
		got, err := FindLiveMarkup([]byte(tt.payload))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != tt.want {
			t.Errorf("FindLiveMarkup(%s) = %v, want %d findings", tt.payload, got, tt.want)
		}
	}
}

func TestServerAcceptsAndRecords(t *testing.T) {
	s := New()
	defer s.Close()
	status, body, _ := post(t, t.Context(), s.URL(), `{"text":"hello","blocks":[{"type":"header","text":{"type":"plain_text","text":"Access denied"}}]}`)
	if status != http.StatusOK || body != "ok" {
		t.Fatalf("post = %d %q, want 200 ok", status, body)
	}
	msgs := s.Messages()
	if len(msgs) != 1 || msgs[0].Path != DefaultPath || msgs[0].Payload.Text != "hello" || len(msgs[0].Payload.Blocks.BlockSet) != 1 {
		t.Fatalf("messages = %+v", msgs)
	}
	status, body, _ = post(t, t.Context(), s.URLFor("rotated"), `{"blocks":[{"type":"section"}]}`)
	if status != http.StatusBadRequest || body != CodeInvalidBlocks {
		t.Fatalf("invalid post = %d %q, want 400 invalid_blocks", status, body)
	}
	if got := len(s.Refused()); got != 1 {
		t.Fatalf("refused = %d, want 1", got)
	}
	if got := s.Requests(); got != 2 {
		t.Fatalf("requests = %d, want 2", got)
	}
}

func TestServerFaults(t *testing.T) {
	s := New()
	defer s.Close()
	s.Fail(RateLimited(3), 2)
	s.Fail(ServerError(), 1)
	s.Fail(ChannelIsArchived(), 1)
	want := []struct {
		status     int
		body       string
		retryAfter string
	}{
		{429, CodeRateLimited, "3"},
		{429, CodeRateLimited, "3"},
		{500, CodeRollupError, ""},
		{410, CodeChannelIsArchived, ""},
		{200, "ok", ""},
	}
	for i, w := range want {
		status, body, h := post(t, t.Context(), s.URL(), `{"text":"x"}`)
		if status != w.status || body != w.body || h.Get("Retry-After") != w.retryAfter {
			t.Errorf("post %d = %d %q Retry-After %q, want %d %q %q", i, status, body, h.Get("Retry-After"), w.status, w.body, w.retryAfter)
		}
	}
	if got := len(s.Messages()); got != 1 {
		t.Errorf("accepted %d messages, want 1", got)
	}
}

func TestServerHangUntilClientGivesUp(t *testing.T) {
	s := New()
	defer s.Close()
	s.Fail(Hang(), 1)
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	status, _, _ := post(t, ctx, s.URL(), `{"text":"x"}`)
	if status != 0 || ctx.Err() == nil {
		t.Fatalf("hang answered %d before the client gave up", status)
	}
}

func TestServerConcurrentFaults(t *testing.T) {
	s := New()
	defer s.Close()
	s.Fail(ServerError(), 10)
	var wg sync.WaitGroup
	statuses := make(chan int, 30)
	for range 30 {
		wg.Go(func() {
			status, _, _ := post(t, t.Context(), s.URL(), `{"text":"x"}`)
			statuses <- status
		})
	}
	wg.Wait()
	close(statuses)
	count := map[int]int{}
	for st := range statuses {
		count[st]++
	}
	if count[500] != 10 || count[200] != 20 || len(s.Messages()) != 20 {
		t.Fatalf("statuses %v, messages %d; want 10×500, 20×200", count, len(s.Messages()))
	}
}

// TestRateLimit: past the burst, posts faster than the rate are answered
// 429 with a Retry-After of at least a second, and accepted again once it
// has passed.
func TestRateLimit(t *testing.T) {
	s := New()
	defer s.Close()
	s.RateLimit(1, 3)
	post := func() *http.Response {
		t.Helper()
		resp, err := http.Post(s.URL(), "application/json", strings.NewReader(`{"text":"hi"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	for i := range 3 {
		if resp := post(); resp.StatusCode != http.StatusOK {
			t.Fatalf("post %d within the burst: %d", i, resp.StatusCode)
		}
	}
	resp := post()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "1" {
		t.Fatalf("post past the burst: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if s.RateLimited() != 1 || len(s.Messages()) != 3 {
		t.Fatalf("limited %d, accepted %d", s.RateLimited(), len(s.Messages()))
	}
	time.Sleep(1100 * time.Millisecond)
	if resp := post(); resp.StatusCode != http.StatusOK {
		t.Fatalf("post after Retry-After: %d", resp.StatusCode)
	}
}
