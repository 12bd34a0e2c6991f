package slack

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	slackapi "github.com/slack-go/slack"
	"github.com/valyala/fastjson"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/denial"
	"github.com/activity-aware/ids/internal/localslack"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// hostileActivity carries the strings an attacker controls in a CloudTrail
// record: mentions, links, entities, a bidi override, fence breakers and
// values far beyond Slack's limits.
func hostileActivity() *activity.Activity {
	big := strings.Repeat("<!channel>&<@U123>", 300*1024/18)
	fence := "```\n<!here> escaped the fence\n```"
	return &activity.Activity{
		SchemaVersion: "1.0",
		ID:            "<!channel>-9b0e",
		Source:        "cloudtrail",
		Subject:       "Access denied: IAMUser <!channel> <@U123> <https://evil.example|click> & \u202Egpj.exe → s3:GetObject",
		Severity:      activity.Medium,
		Time:          time.Date(2024, 7, 4, 12, 0, 0, 0, time.UTC),
		Account:       activity.Account{ID: "123456789012", Name: "<!subteam^S123>"},
		Region:        "us-east-1",
		Actor: &activity.Actor{
			Type:      "IAMUser",
			Name:      "<@U123>",
			ARN:       "arn:aws:iam::123456789012:user/<#C123|general>",
			SourceIP:  "<https://evil.example|203.0.113.1>",
			UserAgent: big,
		},
		Action: &activity.Action{
			Service:      "s3.amazonaws.com",
			Name:         "GetObject",
			ErrorCode:    "AccessDenied",
			ErrorMessage: "<!here> click <https://evil.example|here> & \u202Etxt.exe " + big,
			Outcome:      activity.Denied,
		},
		Resources: []activity.Resource{{Type: "AWS::S3::Object", ARN: "arn:aws:s3:::bucket/<!everyone>.txt"}},
		Detections: []activity.Detection{
			{ID: "x", Title: "<!channel> *bold* `code` " + big, Severity: activity.High},
		},
		Permission: &activity.Permission{
			Action:     "s3:GetObject`<!here>`",
			Resource:   "arn:aws:s3:::bucket/<@U999>" + big,
			ReasonText: "<https://evil.example|no policy>",
			Fixable:    true,
			Statement:  json.RawMessage(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/<!channel>` + "```" + `"}`),
		},
		Fields: []activity.Field{
			{Key: "User Agent", Value: big},
			{Key: "<!channel>", Value: "<@U123>"},
			{Key: "Request Parameters", Value: `{"key":"` + fence + `","bucketName":"` + strings.Repeat("`", 7) + big + `"}`},
		},
		Links: []activity.Link{
			{Title: "<!channel>", URL: "https://us-east-1.console.aws.amazon.com/cloudtrailv2/home?region=us-east-1#/events/x"},
			{Title: "evil", URL: "javascript:alert(1)"},
			{Title: "evil2", URL: "https://evil.example/<!channel>"},
		},
	}
}

// manyFieldsActivity has more display fields than three sections hold and
// more links than are shown.
func manyFieldsActivity() *activity.Activity {
	a := &activity.Activity{
		SchemaVersion: "1.0", ID: "many", Source: "custom", Subject: "Forty fields", Severity: activity.Low,
		Time: time.Date(2024, 2, 29, 23, 59, 59, 0, time.UTC),
	}
	for i := range 40 {
		a.Fields = append(a.Fields, activity.Field{Key: "Key " + string(rune('A'+i%26)), Value: strings.Repeat("v", i+1)})
	}
	for range 8 {
		a.Links = append(a.Links, activity.Link{Title: "Console", URL: "https://console.aws.amazon.com/"})
	}
	return a
}

func loadActivity(t testing.TB, path string) *activity.Activity {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	a, err := activity.Parse(data)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return a
}

func encode(t testing.TB, msg *slackapi.WebhookMessage) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(msg); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestRenderGolden(t *testing.T) {
	cases := map[string]*activity.Activity{
		"hostile":     hostileActivity(),
		"many-fields": manyFieldsActivity(),
	}
	files, err := filepath.Glob("testdata/*.activity.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no activities in testdata: %v", err)
	}
	for _, f := range files {
		cases[strings.TrimSuffix(filepath.Base(f), ".activity.json")] = loadActivity(t, f)
	}
	for name, a := range cases {
		t.Run(name, func(t *testing.T) {
			msg := Render(a)
			got := encode(t, msg)
			checkMessage(t, got)
			golden := filepath.Join("testdata", name+".golden.json")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("rendering differs from %s (run go test -update if the change is intended):\n%s", golden, got)
			}
		})
	}
}

// checkMessage asserts what every rendered message must satisfy: Slack (as
// localslack enforces it) accepts it; no live mention or link; no raw <, >
// and no & outside an entity in any string, since the renderer writes no
// markup of its own with them; every ``` fence closed where it was opened;
// unfurling off.
func checkMessage(t testing.TB, payload []byte) {
	t.Helper()
	if err := localslack.CheckLimits(payload); err != nil {
		t.Fatalf("Slack would refuse the message: %v", err)
	}
	markup, err := localslack.FindLiveMarkup(payload)
	if err != nil {
		t.Fatal(err)
	}
	if len(markup) > 0 {
		t.Fatalf("live markup in message: %+v", markup)
	}
	var msg map[string]any
	if err := json.Unmarshal(payload, &msg); err != nil {
		t.Fatal(err)
	}
	if msg["unfurl_links"] != false || msg["unfurl_media"] != false {
		t.Fatalf("unfurling not off: unfurl_links=%v unfurl_media=%v", msg["unfurl_links"], msg["unfurl_media"])
	}
	walk(msg, "", func(path, s string) {
		if strings.HasSuffix(path, ".url") {
			return
		}
		if strings.ContainsAny(s, "<>") {
			t.Fatalf("%s: unescaped < or > in %.80q", path, s)
		}
		if bare := strayAmpersand.FindString(s); bare != "" {
			t.Fatalf("%s: & outside an entity in %.80q", path, s)
		}
		if n := strings.Count(s, "```"); n != 0 && n != 2 {
			t.Fatalf("%s: %d ``` fences, want 0 or 2: %.200q", path, n, s)
		}
		for i, r := range s {
			if isBidiControl(r) || (r < 0x20 && r != '\n' && r != '\t') {
				t.Fatalf("%s: control character %U in %.80q", path, r, s)
			}
			// The renderer's own zero-width space only ever splits a run of
			// backticks inside a code block.
			if isInvisible(r) && (string(r) != zeroWidthSpace || !strings.HasPrefix(s[i+len(zeroWidthSpace):], "`")) {
				t.Fatalf("%s: invisible character %U in %.80q", path, r, s)
			}
		}
	})
	checkNoEventFormatting(t, msg)
}

var (
	// codeBlockRE and codeSpanRE match the renderer's code: a fenced block
	// and a one-line span.
	codeBlockRE = regexp.MustCompile("(?s)```\n.*?\n```")
	codeSpanRE  = regexp.MustCompile("`[^`\n]+`")
	// boldRE matches one of the renderer's bold labels.
	boldRE = regexp.MustCompile(`\*[^*\n_~]+\*`)
	// emojiRE matches the renderer's emoji (the severity icon).
	emojiRE = regexp.MustCompile(`:[a-z_]+:`)
)

// checkNoEventFormatting checks every mrkdwn text object of a decoded
// message: once its code blocks and spans (where Slack formats nothing) are
// taken out, what remains may hold bold labels and nothing else that
// formats: no other *, _, ~ or backtick, and no line that starts a quote.
// The renderer puts every value that came with the event in code, so this
// holds for any activity.
func checkNoEventFormatting(t testing.TB, msg map[string]any) {
	t.Helper()
	var visit func(path string, v any)
	visit = func(path string, v any) {
		switch x := v.(type) {
		case []any:
			for i, e := range x {
				visit(path+"["+itoa(i)+"]", e)
			}
		case map[string]any:
			if x["type"] == "mrkdwn" {
				text, _ := x["text"].(string)
				checkMrkdwn(t, path, text)
			}
			for k, e := range x {
				visit(path+"."+k, e)
			}
		}
	}
	visit("", msg)
}

func checkMrkdwn(t testing.TB, path, text string) {
	t.Helper()
	for _, block := range codeBlockRE.FindAllString(text, -1) {
		if strings.Count(block, "```") != 2 {
			t.Fatalf("%s: code block closed early: %.200q", path, block)
		}
	}
	rest := codeBlockRE.ReplaceAllString(text, "")
	rest = codeSpanRE.ReplaceAllString(rest, "")
	rest = boldRE.ReplaceAllString(rest, "")
	rest = emojiRE.ReplaceAllString(rest, "")
	if i := strings.IndexAny(rest, "*_~`"); i >= 0 {
		t.Fatalf("%s: formatting character %q outside the renderer's code and labels: %.200q (from %.300q)", path, rest[i], rest, text)
	}
	for _, line := range strings.Split(rest, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "&gt;") || strings.HasPrefix(strings.TrimSpace(line), ">") {
			t.Fatalf("%s: a line starts a quote: %.200q", path, text)
		}
	}
}

// strayAmpersand finds an & that does not start &amp;, &lt; or &gt;.
var strayAmpersand = regexp.MustCompile(`&(?:[^agl]|a[^m]|am[^p]|amp[^;]|[lg][^t]|[lg]t[^;]|$|a$|am$|amp$|[lg]$|[lg]t$)`)

func walk(v any, path string, fn func(path, s string)) {
	switch x := v.(type) {
	case string:
		fn(path, x)
	case []any:
		for i, e := range x {
			walk(e, path+"["+itoa(i)+"]", fn)
		}
	case map[string]any:
		for k, e := range x {
			walk(e, path+"."+k, fn)
		}
	}
}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}

func TestRenderContent(t *testing.T) {
	blockTexts := func(msg *slackapi.WebhookMessage) string {
		var b strings.Builder
		b.WriteString(msg.Text)
		for _, blk := range msg.Blocks.BlockSet {
			raw, _ := json.Marshal(blk)
			var v any
			_ = json.Unmarshal(raw, &v)
			walk(v, "", func(_, s string) { b.WriteString("\n" + s) })
		}
		return b.String()
	}
	tests := []struct {
		name    string
		a       *activity.Activity
		want    []string
		notWant []string
	}{
		{
			name: "guardrail denial labelled, detections and severity shown",
			a:    loadActivity(t, "testdata/detections-permission.activity.json"),
			want: []string{
				":red_circle: *HIGH*",
				"`Unauthorized API calls` (medium), `IAM policy reconnaissance by a deploy role` (high)",
				":shield: *Guardrail denial:* `iam:GetPolicy` on `arn:aws:iam::123456789012:policy/Admin` — a service control policy denies it — the guardrail held",
				"Note: trimmed to fit the event bus",
			},
			notWant: []string{"*Missing:*", "Suggested statement"},
		},
		{
			name: "fixable denial shows the missing permission and the statement",
			a:    loadActivity(t, "testdata/fixable-permission.activity.json"),
			want: []string{
				"*Missing:* `s3:ListBucket` on `arn:aws:s3:::analytics-exports` — no identity-based policy allows it",
				"*Suggested statement*\n```\n{\n  \"Effect\": \"Allow\",",
			},
		},
		{
			name: "key fields and request parameters",
			a:    loadActivity(t, "testdata/iam-user-denial.activity.json"),
			want: []string{
				"*Who*\n`alice` (`IAMUser`)\n`arn:aws:iam::123456789012:user/alice`\nMFA: no\nkey `AKIAIOSFODNN7EXAMPLE`",
				"*Action*\n`iam:GetPolicy` (denied, read-only)",
				"*Account*\n`123456789012` (`prod`)",
				"*Source IP*\n`203.0.113.24`",
				"*Time*\n`2024-06-12T09:41:07Z`",
				"*Request parameters*\n```\n{\n  \"policyArn\": \"arn:aws:iam::123456789012:policy/Admin\"\n}\n```",
				"Event ID: 3f9e8c1a-5b2d-4c6e-9f0a-1b2c3d4e5f60",
				"Log group: CloudTrail/DefaultLogGroup",
				"[MEDIUM] Access denied: IAMUser alice → iam:GetPolicy",
			},
			// Display fields that repeat a key field are not shown twice.
			notWant: []string{"*Username*", "*User ARN*", "*Error Code*"},
		},
		{
			name:    "hostile text is escaped and neutralised",
			a:       hostileActivity(),
			want:    []string{"&lt;!channel&gt; &lt;@U123&gt; &lt;https://evil.example|click&gt; &amp; [U+202E]gpj.exe", "`s3:GetObjectˋ&lt;!here&gt;ˋ`"},
			notWant: []string{"<!", "<@", "<http", "javascript:", "evil.example/"},
		},
		{
			name: "remaining display fields in details, capped",
			a:    manyFieldsActivity(),
			want: []string{"11 more fields not shown"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := blockTexts(Render(tt.a))
			for _, w := range tt.want {
				if !strings.Contains(text, w) {
					t.Errorf("message lacks %q", w)
				}
			}
			for _, nw := range tt.notWant {
				if strings.Contains(text, nw) {
					t.Errorf("message contains %q", nw)
				}
			}
		})
	}
}

func TestRenderLinks(t *testing.T) {
	msg := Render(hostileActivity())
	var urls []string
	for _, b := range msg.Blocks.BlockSet {
		if ab, ok := b.(*slackapi.ActionBlock); ok {
			for _, e := range ab.Elements.ElementSet {
				urls = append(urls, e.(*slackapi.ButtonBlockElement).URL)
			}
		}
	}
	want := []string{"https://us-east-1.console.aws.amazon.com/cloudtrailv2/home?region=us-east-1#/events/x"}
	if strings.Join(urls, " ") != strings.Join(want, " ") {
		t.Fatalf("buttons link to %q, want only %q", urls, want)
	}
	if n := len(Render(manyFieldsActivity()).Blocks.BlockSet); n > localslack.MaxBlocks {
		t.Fatalf("%d blocks", n)
	}
}

func TestEscape(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"a & b", 100, "a &amp; b"},
		{"<!channel>", 100, "&lt;!channel&gt;"},
		{"&&&&", 10, "&amp;…"}, // never cut inside an entity
		{"héllo wörld", 5, "héll…"},
		{"ok", 2, "ok"},
		{"\u202Eabc", 100, "[U+202E]abc"},
		{"a\x00b\x1bc", 100, "a\uFFFDb\uFFFDc"},
		{"bad \xff utf8", 100, "bad \uFFFD utf8"},
		{"🙂🙂🙂", 2, "🙂…"},
	}
	for _, tt := range tests {
		if got := escape(tt.in, tt.max); got != tt.want {
			t.Errorf("escape(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
		}
	}
	if got := codeBlock("*x*", "a ```` b", 100); strings.Count(got, "```") != 2 {
		t.Errorf("codeBlock let a fence through: %q", got)
	}
}

func TestPreview(t *testing.T) {
	got := Preview(Render(loadActivity(t, "testdata/iam-user-denial.activity.json")))
	for _, want := range []string{
		"Access denied: IAMUser alice → iam:GetPolicy\n=====",
		"  Who: alice (IAMUser)\n    arn:aws:iam::123456789012:user/alice",
		"  Action: iam:GetPolicy (denied, read-only)",
		"[CloudTrail event] https://us-east-1.console.aws.amazon.com/cloudtrailv2/home?region=us-east-1#/events/3f9e8c1a-5b2d-4c6e-9f0a-1b2c3d4e5f60",
		"Source: cloudtrail · Severity: medium · Event ID: 3f9e8c1a-5b2d-4c6e-9f0a-1b2c3d4e5f60",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("preview lacks %q:\n%s", want, got)
		}
	}
	hostile := Preview(Render(hostileActivity()))
	if !strings.Contains(hostile, "<!channel> <@U123>") || strings.ContainsRune(hostile, 0x1b) {
		t.Errorf("preview should show the characters, without control codes:\n%.300s", hostile)
	}
}

// TestRenderEventTextCannotFormat renders the values an attacker chooses to
// fake a line or format text: a denial whose error message carries a fake
// "Missing:" line, a bold user agent, formatting in every other field, and
// the invisible characters that hide text. None of it may format, and the
// fake line must not start a line the way the renderer's lines do.
func TestRenderEventTextCannotFormat(t *testing.T) {
	a := loadActivity(t, "testdata/iam-user-denial.activity.json")
	a.Action.ErrorMessage = "Access Denied\n*Missing:* nothing — benign\n> quoted\n~gone~ _it_"
	a.Actor.UserAgent = "*URGENT*"
	a.Actor.Name = "alice`*x*`\u200b\u2028bob"
	a.Region = "_us-east-1_"
	a.Fields = append(a.Fields, activity.Field{Key: "*Missing:*", Value: "```\n*fake*\n```"})
	a.Detections = []activity.Detection{{ID: "d", Title: "*Critical* _now_", Severity: "*"}}
	msg := Render(a)
	payload := encode(t, msg)
	checkMessage(t, payload)
	var decoded any
	if err := json.Unmarshal(payload, &decoded); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	walk(decoded, "", func(_, s string) { b.WriteString(s + "\n\n") })
	text := b.String()
	for _, want := range []string{
		"*Error*\n`AccessDenied: Access Denied`\n`*Missing:* nothing — benign`\n`&gt; quoted`\n`~gone~ _it_`",
		"*User agent*\n`*URGENT*`",
		"[U+200B][U+2028]bob",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("message lacks %s\n%s", want, text)
		}
	}
	if strings.Contains(text, "\n*Missing:* nothing") {
		t.Error("the error message starts a line of its own that reads like the renderer's")
	}
}

// TestRenderLinksOnlyToTheConsole offers a forged activity's links: only
// https links to the AWS console of the activity's partition become buttons,
// by exact host-suffix match after parsing; the rest are dropped and noted.
func TestRenderLinksOnlyToTheConsole(t *testing.T) {
	tests := []struct {
		region string
		url    string
		kept   bool
	}{
		{"us-east-1", "https://console.aws.amazon.com/cloudtrailv2/home", true},
		{"us-east-1", "https://us-east-1.console.aws.amazon.com/iam/home#/roles", true},
		{"us-east-1", "https://CONSOLE.AWS.AMAZON.COM/", true},
		{"us-gov-west-1", "https://console.amazonaws-us-gov.com/iam/home", true},
		{"us-gov-west-1", "https://us-gov-west-1.console.amazonaws-us-gov.com/", true},
		{"cn-north-1", "https://console.amazonaws.cn/iam/home", true},
		{"cn-north-1", "https://console.aws.amazon.com/", false}, // another partition's console
		{"us-east-1", "https://console.amazonaws.cn/", false},
		{"us-east-1", "http://console.aws.amazon.com/", false},
		{"us-east-1", "https://console.aws.amazon.com.evil.example/", false},
		{"us-east-1", "https://evilconsole.aws.amazon.com/", false},
		{"us-east-1", "https://aws.amazon.com/", false},
		{"us-east-1", "https://console.aws.amazon.com@evil.example/", false},
		{"us-east-1", "https://evil.example/?console.aws.amazon.com", false},
		{"us-east-1", "https://console.aws.amazon.com:8443/", false},
		{"us-east-1", "https://evil.example\\@console.aws.amazon.com/", false},
		{"us-east-1", "javascript://console.aws.amazon.com/%0aalert(1)", false},
	}
	for _, tt := range tests {
		a := &activity.Activity{SchemaVersion: "1.0", ID: "x", Source: "cloudtrail", Subject: "s", Severity: activity.High,
			Region: tt.region, Links: []activity.Link{{Title: "Open", URL: tt.url}}}
		msg := Render(a)
		var buttons int
		for _, b := range msg.Blocks.BlockSet {
			if ab, ok := b.(*slackapi.ActionBlock); ok {
				buttons += len(ab.Elements.ElementSet)
			}
		}
		noted := strings.Contains(Preview(msg), "Links dropped: 1 (not an AWS console link)")
		if (buttons == 1) != tt.kept || noted == tt.kept {
			t.Errorf("%s in %s: %d buttons, noted %v; want kept %v", tt.url, tt.region, buttons, noted, tt.kept)
		}
	}
}

// TestRenderReasonNotStated: a bare S3 "Access Denied" on a key the caller
// named "*" shows the suggested statement on that one key (IAM's literal
// form) and says that AWS did not state the reason.
func TestRenderReasonNotStated(t *testing.T) {
	a := &activity.Activity{SchemaVersion: "1.0", ID: "x", Source: "cloudtrail", Subject: "Access denied", Severity: activity.Medium,
		Action: &activity.Action{Service: "s3.amazonaws.com", Name: "GetObject", ErrorCode: "AccessDenied", ErrorMessage: "Access Denied", Outcome: activity.Denied}}
	a.Permission = denial.Explain(a, fastjson.MustParse(`{"requestParameters":{"bucketName":"prod-bucket","key":"*"}}`))
	text := Preview(Render(a))
	for _, want := range []string{
		"*Missing:* s3:GetObject on arn:aws:s3:::prod-bucket/* — AWS did not say which policy denied it — reason not stated by AWS: the statement below is the likeliest fix",
		`"Resource": "arn:aws:s3:::prod-bucket/${*}"`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("message lacks %q:\n%s", want, text)
		}
	}
}
