package eventtext

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestLine(t *testing.T) {
	angle := func(r rune) (string, bool) {
		switch r {
		case '<':
			return "‹", true
		case '>':
			return "›", true
		}
		return "", false
	}
	tests := []struct {
		in   string
		max  int
		esc  Escape
		want string
	}{
		{"plain text", 100, nil, "plain text"},
		{"a\nSeverity: info\r\n- item", 100, nil, "a Severity: info  - item"},
		{"see https://evil.example/x and HTTP://x and www.evil.example", 100, nil, "see https[:]//evil.example/x and HTTP[:]//x and www[.]evil.example"},
		{"0https://e 0www. WwW.x file:/etc", 100, nil, "0https[:]//e 0www[.] WwW[.]x file[:]/etc"},
		{"evil.com a.com.b.org Login.Microsoftonline.COM. x.zip пример.рф a.xn--p1ai", 100, nil, "evil[.]com a[.]com.b[.]org Login.Microsoftonline[.]COM. x[.]zip пример[.]рф a[.]xn--p1ai"},
		{"alice.smith gpj.exe aws-cli/2.15.0 Python/3.11.6 x86_64.amzn2 .com com. s3.GetObject", 100, nil, "alice.smith gpj.exe aws-cli/2.15.0 Python/3.11.6 x86_64.amzn2 .com com. s3.GetObject"},
		{"\u202Egpj.exe\u200b", 100, nil, "[U+202E]gpj.exe[U+200B]"},
		{"bell\x07 esc\x1b[31m \xff", 100, nil, "bell\uFFFD esc\uFFFD[31m \uFFFD"},
		{"<!channel>", 100, angle, "‹!channel›"},
		{"abcdef", 4, nil, "abc…"},
		{"🙂🙂🙂🙂", 3, nil, "🙂🙂…"},
		{"x", 0, nil, ""},
	}
	for _, tt := range tests {
		if got := Line(tt.in, tt.max, tt.esc); got != tt.want {
			t.Errorf("Line(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
		}
	}
}

// FuzzLine checks the promises on any input: one line, within the limit, no
// control, invisible or line-separator character, no live URL scheme.
func FuzzLine(f *testing.F) {
	f.Add("https://evil.example\n- x\u202E", 50)
	f.Add(strings.Repeat("a\x00", 3000), 1024)
	f.Fuzz(func(t *testing.T, s string, max int) {
		max = max%2000 + 1
		if max <= 0 {
			max = -max + 1
		}
		got := Line(s, max, nil)
		if n := utf8.RuneCountInString(got); n > max || !utf8.ValidString(got) {
			t.Fatalf("%d runes (max %d) or invalid UTF-8", n, max)
		}
		for _, r := range got {
			if r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) || Invisible(r) {
				t.Fatalf("rune %U survived in %q", r, got)
			}
		}
		if strings.Contains(got, ":/") || strings.Contains(strings.ToLower(got), "www.") {
			t.Fatalf("live scheme or www. in %q", got)
		}
	})
}

func TestConsoleURL(t *testing.T) {
	for raw, ok := range map[string]bool{
		"https://us-east-1.console.aws.amazon.com/cloudtrailv2/home?region=us-east-1#/events/x": true,
		"https://console.aws.amazon.com/iam/home":                                               true,
		"https://console.amazonaws-us-gov.com/":                                                 true,
		"https://console.aws.amazon.com.evil.example/":                                          false,
		"http://console.aws.amazon.com/":                                                        false,
		"javascript:alert(1)":                                                                   false,
		"https://evil.example/<!channel>":                                                       false,
		"https://user@console.aws.amazon.com/":                                                  false,
	} {
		if ConsoleURL(raw) != ok {
			t.Errorf("ConsoleURL(%q) = %v, want %v", raw, !ok, ok)
		}
	}
}
