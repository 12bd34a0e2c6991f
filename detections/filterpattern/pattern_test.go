package filterpattern

import (
	"errors"
	"strings"
	"testing"
)

// The two sample events of AWS's "Using filter patterns to match terms in JSON
// log events", as /work/shared/reference/cis-cloudwatch-patterns.md records
// them.
const (
	sampleA = `{"eventType":"UpdateTrail","sourceIPAddress":"111.111.111.111","arrayKey":["value","another value"],"objectList":[{"name":"a","id":1},{"name":"b","id":2}],"SomeObject":null,"ThisFlag":true}`
	sampleB = `{"user":{"id":1,"email":"John.Stiles@example.com"},"users":[{"id":2,"email":"John.Doe@example.com"},{"id":3,"email":"Jane.Doe@example.com"}],"actions":["GET","PUT","DELETE"],"coordinates":[[0,1],[1,2],[2,3]]}`
)

// TestDocumentedExamples checks every documented example against its
// documented result.
func TestDocumentedExamples(t *testing.T) {
	tests := []struct {
		event, pattern string
		want           bool
	}{
		{sampleA, `{ $.eventType = "UpdateTrail" }`, true},
		{sampleA, `{ $.sourceIPAddress != 123.123.* }`, true},
		{sampleA, `{ $.arrayKey[0] = "value" }`, true},
		{sampleA, `{ $.objectList[1].id = 2 }`, true},
		{sampleA, `{ $.SomeObject IS NULL }`, true},
		{sampleA, `{ $.SomeOtherObject NOT EXISTS }`, true},
		{sampleA, `{ $.ThisFlag IS TRUE }`, true},
		{sampleB, `{ ($.user.id = 1) && ($.users[0].email = "John.Doe@example.com") }`, true},
		{sampleB, `{ ($.user.id = 2 && $.users[0].email = "nonmatch") || $.actions[2] = "GET" }`, false},
		{sampleB, `{ $.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch && $.actions[2] = nomatch }`, true},
		{sampleB, `{ ($.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch) && $.actions[2] = nomatch }`, false},
	}
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			p, err := Parse(tt.pattern)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got := p.Match([]byte(tt.event)); got != tt.want {
				t.Errorf("Match = %v, want %v", got, tt.want)
			}
			if got := p.MatchEvent(ParseEvent([]byte(tt.event))); got != tt.want {
				t.Errorf("MatchEvent = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestJSONSemantics(t *testing.T) {
	const ev = `{"eventName":"ConsoleLogin","errorCode":"Client.UnauthorizedOperation","n":-12.5,"big":1e3,"s":"200",` +
		`"flag":false,"nil":null,"obj":{"k":"v"},"arr":[1,"two",[3]],"user-name":"alice_b","esc":"a\"b*c",` +
		`"ip":"10.1.2.3","msg":"bind: address already in use","Case":"Upper","ü":"x"}`
	tests := []struct {
		pattern string
		want    bool
	}{
		// strings, bare and quoted, and wildcards anywhere
		{`{ $.eventName = ConsoleLogin }`, true},
		{`{ $.eventName = "ConsoleLogin" }`, true},
		{`{ $.eventName = consolelogin }`, false}, // case-sensitive
		{`{ $.eventName = Console* }`, true},
		{`{ $.eventName = *Login }`, true},
		{`{ $.eventName = C*s*L*n }`, true},
		{`{ $.eventName = C*x*n }`, false},
		{`{ $.eventName = * }`, true},
		{`{ $.eventName = "ConsoleLogin*" }`, true}, // * matches the empty string
		{`{ $.eventName = "ConsoleLog" }`, false},   // no implicit prefix match
		{`{ $.errorCode = "*UnauthorizedOperation" }`, true},
		{`{ $.errorCode = "AccessDenied*" }`, false},
		{`{ $.eventName != ConsoleLogin }`, false},
		{`{ $.eventName != GetObject }`, true},
		{`{ $.esc = "a\"b\*c" }`, true}, // escaped quote and literal star
		{`{ $.esc = "a\"b\*d" }`, false},
		{`{ $.user-name = alice_b }`, true},
		{`{ $.ip = 10.1.* }`, true},
		{`{ $.Case = Upper }`, true},
		{`{ $.case = Upper }`, false},
		{`{ $.ü = x }`, true},
		// numbers: signs, decimals, exponents, relational operators
		{`{ $.n = -12.5 }`, true},
		{`{ $.n = -1.25e1 }`, true},
		{`{ $.n < 0 }`, true},
		{`{ $.n <= -12.5 }`, true},
		{`{ $.n > -12.5 }`, false},
		{`{ $.n >= -13 }`, true},
		{`{ $.big = 1000 }`, true},
		{`{ $.big > +999.9 }`, true},
		{`{ $.big != 1000 }`, false},
		// numeric comparisons never match strings; = compares the text
		{`{ $.s > 100 }`, false},
		{`{ $.s = 200 }`, true},
		{`{ $.s = 200.0 }`, false},
		{`{ $.s = "2*" }`, true},
		{`{ $.big = "1e3" }`, true}, // a string value against a number compares its text
		{`{ $.big = * }`, true},
		// IS NULL vs NOT EXISTS, IS TRUE / IS FALSE
		{`{ $.nil IS NULL }`, true},
		{`{ $.nil NOT EXISTS }`, false},
		{`{ $.absent IS NULL }`, false},
		{`{ $.absent NOT EXISTS }`, true},
		{`{ $.obj.absent NOT EXISTS }`, true},
		{`{ $.eventName.sub NOT EXISTS }`, true},
		{`{ $.flag IS FALSE }`, true},
		{`{ $.flag IS TRUE }`, false},
		{`{ $.flag = false }`, true},
		{`{ $.nil = null }`, false},
		{`{ $.nil != x }`, false},
		{`{ $.nil is null }`, true},
		// absent keys, objects and arrays match no comparison
		{`{ $.absent != x }`, false},
		{`{ $.absent = * }`, false},
		{`{ $.obj = * }`, false},
		{`{ $.obj != x }`, false},
		{`{ $.arr != x }`, false},
		{`{ $.obj IS NULL }`, false},
		{`{ $.obj.k = v }`, true},
		// arrays
		{`{ $.arr[0] = 1 }`, true},
		{`{ $.arr[1] = two }`, true},
		{`{ $.arr[2][0] = 3 }`, true},
		{`{ $.arr[3] NOT EXISTS }`, true},
		{`{ $.obj[0] NOT EXISTS }`, true},
		{`{ $.arr.length NOT EXISTS }`, true},
		// regex values
		{`{ $.eventName = %^Console% }`, true},
		{`{ $.eventName = %Log[a-z]n$% }`, true},
		{`{ $.eventName = %^Login% }`, false},
		{`{ $.eventName != %^Get% }`, true},
		{`{ $.ip = %\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}% }`, true},
		{`{ $.msg = %bind: address% }`, true},
		{`{ $.errorCode = %Unauthorized|AccessDenied% && $.eventName = %Console% }`, true},
		// precedence: () > && > ||
		{`{ $.eventName = x || $.eventName = ConsoleLogin && $.n < 0 }`, true},
		{`{ ($.eventName = x || $.eventName = ConsoleLogin) && $.n > 0 }`, false},
		{`{ $.eventName = ConsoleLogin && $.n > 0 || $.flag IS FALSE }`, true},
		{`{ $.eventName = ConsoleLogin && ($.n > 0 || $.flag IS TRUE) }`, false},
		{`{ ((($.eventName = ConsoleLogin))) }`, true},
	}
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			p, err := Parse(tt.pattern)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got := p.Match([]byte(ev)); got != tt.want {
				t.Errorf("Match = %v, want %v", got, tt.want)
			}
			// The normalized form must behave the same.
			q, err := Parse(p.String())
			if err != nil {
				t.Fatalf("Parse(String() = %q): %v", p.String(), err)
			}
			if got := q.Match([]byte(ev)); got != tt.want {
				t.Errorf("normalized %q: Match = %v, want %v", p.String(), got, tt.want)
			}
		})
	}
}

func TestJSONPatternsNeedJSONObjects(t *testing.T) {
	p := MustParse(`{ $.eventName = * || $.x NOT EXISTS }`)
	for _, ev := range []string{
		`eventName=ConsoleLogin`,
		`[{"eventName":"ConsoleLogin"}]`,
		`"{\"eventName\":1}"`,
		`{"eventName":"ConsoleLogin"`,
		`{"eventName":"ConsoleLogin"}{"eventName":"x"}`,
		``,
		`  `,
	} {
		if p.Match([]byte(ev)) {
			t.Errorf("Match(%q) = true, want false", ev)
		}
	}
	if !p.Match([]byte("  \n{\"eventName\":\"ConsoleLogin\"}\n")) {
		t.Error("a JSON object with surrounding whitespace must match")
	}
}

func TestTermPatterns(t *testing.T) {
	const (
		e1 = `[ERROR 401] UNAUTHORIZED REQUEST from 10.0.0.1`
		e2 = `[WARN] Exiting: retry budget spent`
		e3 = `{"level":"INFO","msg":"AccessDenied for GetObject"}`
	)
	tests := []struct {
		pattern    string
		want       [3]bool
		normalized string
	}{
		{``, [3]bool{true, true, true}, ``},
		{`   `, [3]bool{true, true, true}, ``},
		{`""`, [3]bool{true, true, true}, ``},
		{`ERROR`, [3]bool{true, false, false}, `ERROR`},
		{`error`, [3]bool{false, false, false}, `error`},
		{`ERROR UNAUTHORIZED`, [3]bool{true, false, false}, `ERROR UNAUTHORIZED`},
		{`"ERROR 401"`, [3]bool{true, false, false}, `"ERROR 401"`},
		{`"ERROR 403"`, [3]bool{false, false, false}, `"ERROR 403"`},
		{`?ERROR ?WARN`, [3]bool{true, true, false}, `?ERROR ?WARN`},
		{`-ERROR`, [3]bool{false, true, true}, `-ERROR`},
		{`?ERROR ?WARN -Exiting`, [3]bool{true, false, false}, `?ERROR ?WARN -Exiting`},
		{`AUTHORIZED`, [3]bool{true, false, false}, `AUTHORIZED`},
		{`AccessDenied`, [3]bool{false, false, true}, `AccessDenied`},
		{`"\"level\":\"INFO\""`, [3]bool{false, false, true}, `"\"level\":\"INFO\""`},
		{`10.0.0.1`, [3]bool{true, false, false}, `10.0.0.1`},
		{`"?x" "-y"`, [3]bool{false, false, false}, `"?x" "-y"`},
		{`?"ERROR 401" ?Exiting:`, [3]bool{true, true, false}, `?"ERROR 401" ?Exiting:`},
		{`%AUTHORIZED%`, [3]bool{true, false, false}, `%AUTHORIZED%`},
		{`%^\[WARN\]%`, [3]bool{false, true, false}, `%^\[WARN\]%`},
		{`%[Ee]xit|[Ff]ail%`, [3]bool{false, true, false}, `%[Ee]xit|[Ff]ail%`},
	}
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			p, err := Parse(tt.pattern)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if p.IsJSON() {
				t.Error("IsJSON = true for a term pattern")
			}
			for i, ev := range []string{e1, e2, e3} {
				if got := p.Match([]byte(ev)); got != tt.want[i] {
					t.Errorf("Match(%q) = %v, want %v", ev, got, tt.want[i])
				}
			}
			if got := p.String(); got != tt.normalized {
				t.Errorf("String() = %q, want %q", got, tt.normalized)
			}
		})
	}
}

func TestString(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{($.eventName=DeleteGroupPolicy)||($.eventName=DeleteRolePolicy)}`, `{ $.eventName = "DeleteGroupPolicy" || $.eventName = "DeleteRolePolicy" }`},
		{`{ ($.a = 1 || $.b = 2) && $.c = x }`, `{ ($.a = 1 || $.b = 2) && $.c = "x" }`},
		{`{ (($.a = 1) && ($.b = 2)) || $.c NOT EXISTS }`, `{ $.a = 1 && $.b = 2 || $.c NOT EXISTS }`},
		{`{$.a[0][1].b-c is true}`, `{ $.a[0][1].b-c IS TRUE }`},
		{`{ $.a >= +1.5E-3 && $.b != %x|y% }`, `{ $.a >= +1.5E-3 && $.b != %x|y% }`},
		{`{ $.a = "say \"hi\" \*now*" }`, `{ $.a = "say \"hi\" \*now*" }`},
	}
	for _, tt := range tests {
		p, err := Parse(tt.in)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tt.in, err)
		}
		if got := p.String(); got != tt.want {
			t.Errorf("Parse(%q).String() = %q, want %q", tt.in, got, tt.want)
		}
		if again := MustParse(p.String()).String(); again != tt.want {
			t.Errorf("reparse of %q prints %q", tt.want, again)
		}
		if !p.IsJSON() {
			t.Errorf("IsJSON(%q) = false", tt.in)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ pattern, want string }{
		{`{ $.eventName = }`, `column 17: expected a value after "="`},
		{`{ $.eventName }`, `column 15: expected an operator (=, !=, <, >, <=, >=, IS NULL, NOT EXISTS, IS TRUE, IS FALSE) after $.eventName, found '}'`},
		{`{ }`, `column 3: expected a condition such as $.eventName = "ConsoleLogin" inside { }`},
		{`{ $.a = 1`, `column 10: expected "}" to close the "{" at column 1`},
		{`{ $.a = 1 } x`, `column 13: unexpected 'x' after the closing "}"`},
		{`{ $.a = 1 & $.b = 2 }`, `column 11: expected "&&", "||" or "}", found '&'`},
		{`{ ($.a = 1 }`, `column 12: expected ")" to close the "(" at column 3, found '}'`},
		{`{ eventName = 1 }`, `column 3: expected a selector such as $.eventName or "(", found 'e'`},
		{`{ $. = 1 }`, `column 5: expected a property name after ".", found ' '`},
		{`{ $.a[x] = 1 }`, `column 7: expected an array index such as [0], found 'x'`},
		{`{ $ = 1 }`, `column 3: expected a selector such as $.eventName`},
		{`{ $.a > abc }`, `column 9: expected a number after ">", found "abc"`},
		{`{ $.a < "1" }`, `column 9: expected a number after "<"`},
		{`{ $.a = "abc }`, `column 9: unterminated quoted value`},
		{`{ $.a = %(ab)% }`, `column 10: regular expressions may not contain '(': subpatterns are not supported`},
		{`{ $.a = %ab!% }`, `column 12: regular expressions may not contain '!'`},
		{`{ $.a = %abé% }`, `column 12: regular expressions may not contain multi-byte characters`},
		{`{ $.a = %ab`, `column 9: unterminated regular expression: expected a closing %`},
		{`{ $.a = %[a% }`, "column 10: invalid regular expression: missing closing ]: \"[a\""},
		{`{ $.a = %a% || $.b = %b% || $.c = %c% }`, `column 35: a pattern may hold at most 2 regular expressions`},
		{`{ $.a IS MAYBE }`, `column 7: expected an operator (=, !=, <, >, <=, >=, IS NULL, NOT EXISTS, IS TRUE, IS FALSE) after $.a, found 'I'`},
		{`[ip, user, status=404]`, `column 1: space-delimited patterns ([...]) are not supported; use a JSON pattern { ... } or terms`},
		{`%ERROR% WARN`, `column 9: unexpected 'W' after the regular expression that starts at column 1`},
		{`ERROR {`, `column 7: '{' cannot follow other terms; a JSON, regex or space-delimited pattern must be the whole pattern`},
		{`ERROR ?`, `column 8: expected a term after '?'`},
		{`ERR"OR`, `column 4: unexpected quote inside a term; quote the whole term`},
		{`"ERROR`, `column 1: unterminated quoted value`},
		{`{ $.é = %a[% }`, "column 10: invalid regular expression: missing closing ]: \"[\""},
		{strings.Repeat("x", MaxLength+1), `column 1025: pattern is 1025 characters long; the maximum is 1024`},
	}
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			_, err := Parse(tt.pattern)
			if err == nil {
				t.Fatal("Parse succeeded, want an error")
			}
			var se *SyntaxError
			if !errors.As(err, &se) || !errors.Is(err, ErrSyntax) {
				t.Fatalf("error %T %v is not a *SyntaxError wrapping ErrSyntax", err, err)
			}
			if err.Error() != tt.want {
				t.Errorf("error = %q\n want %q", err.Error(), tt.want)
			}
		})
	}
	if _, err := Parse(strings.Repeat("é", MaxLength)); err != nil {
		t.Errorf("a pattern of %d multi-byte characters must parse: %v", MaxLength, err)
	}
}

func TestMustParsePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("MustParse of a malformed pattern did not panic")
		}
	}()
	MustParse(`{ $.a = }`)
}

func TestEventReuse(t *testing.T) {
	var pool EventPool
	p := MustParse(`{ $.eventName = GetObject }`)
	e := pool.Get([]byte(`{"eventName":"GetObject"}`))
	if !p.MatchEvent(e) || !e.IsJSONObject() {
		t.Fatal("first event must match")
	}
	pool.Put(e)
	e = pool.Get([]byte(`not json`))
	if p.MatchEvent(e) || e.IsJSONObject() {
		t.Fatal("a recycled event must not keep the previous parse")
	}
	if string(e.Raw()) != "not json" {
		t.Fatalf("Raw = %q", e.Raw())
	}
}
