package filterpattern

import (
	"github.com/valyala/fastjson"

	"testing"
	"unicode/utf8"
)

var fuzzPatterns = []string{
	``, `ERROR`, `?ERROR ?WARN -Exiting`, `"ERROR 401"`, `%AUTHORIZED%`,
	`{ $.eventType = "UpdateTrail" }`,
	`{ $.sourceIPAddress != 123.123.* }`,
	`{ ($.user.id = 2 && $.users[0].email = "nonmatch") || $.actions[2] = "GET" }`,
	`{ $.a >= -1.5e3 && $.b = %^x[a-z]{1,3}$% || $.c NOT EXISTS }`,
	`{ $.SomeObject IS NULL && $.ThisFlag IS TRUE }`,
	`{ $.a = "q\"uo\*te*" }`,
}

// FuzzParse checks that Parse never panics and that the normalized form is a
// fixed point: it parses, and prints the same again.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzPatterns {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, pattern string) {
		p, err := Parse(pattern)
		if err != nil {
			return
		}
		norm := p.String()
		if utf8.RuneCountInString(norm) > MaxLength {
			return // spaces and quotes made a compact pattern too long to reparse
		}
		q, err := Parse(norm)
		if err != nil {
			t.Fatalf("Parse(%q).String() = %q does not parse: %v", pattern, norm, err)
		}
		if again := q.String(); again != norm {
			t.Fatalf("normalized form is not stable: %q -> %q -> %q", pattern, norm, again)
		}
		if q.IsJSON() != p.IsJSON() {
			t.Fatalf("IsJSON changed on reparse of %q", norm)
		}
	})
}

// FuzzMatch checks that matching never panics and that Match, MatchEvent,
// MatchParsed and the normalized pattern agree.
func FuzzMatch(f *testing.F) {
	for _, s := range fuzzPatterns {
		f.Add(s, sampleA)
		f.Add(s, sampleB)
		f.Add(s, `[ERROR 401] UNAUTHORIZED REQUEST`)
	}
	f.Fuzz(func(t *testing.T, pattern, event string) {
		p, err := Parse(pattern)
		if err != nil {
			return
		}
		got := p.Match([]byte(event))
		if ev := p.MatchEvent(ParseEvent([]byte(event))); ev != got {
			t.Fatalf("Match = %v but MatchEvent = %v for %q on %q", got, ev, pattern, event)
		}
		root, _ := fastjson.Parse(event)
		if pp := p.MatchParsed([]byte(event), root); pp != got {
			t.Fatalf("Match = %v but MatchParsed = %v for %q on %q", got, pp, pattern, event)
		}
		if utf8.RuneCountInString(p.String()) > MaxLength {
			return
		}
		if n := MustParse(p.String()).Match([]byte(event)); n != got {
			t.Fatalf("normalized %q matches %v, original %q matches %v on %q", p.String(), n, pattern, got, event)
		}
	})
}
