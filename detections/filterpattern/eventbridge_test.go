package filterpattern

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestEventBridge(t *testing.T) {
	for _, tc := range []struct{ pattern, want, err string }{
		{`{ ($.eventSource = "ec2.amazonaws.com") && (($.eventName = "A") || ($.eventName = "B*")) }`,
			`[{"detail":{"eventName":["A",{"prefix":"B"}],"eventSource":["ec2.amazonaws.com"]}}]`, ""},
		{`{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }`,
			`[{"detail":{"errorCode":[{"suffix":"UnauthorizedOperation"},{"prefix":"AccessDenied"}]}}]`, ""},
		{`{ ($.a = "x") || ($.b.c = 3) }`,
			`[{"detail":{"a":["x"]}},{"detail":{"b":{"c":[{"numeric":["=",3]}]}}}]`, ""},
		{`{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }`,
			`[{"detail":{"eventType":[{"anything-but":"AwsServiceEvent"}],"userIdentity":{"invokedBy":[{"exists":false}],"type":["Root"]}}}]`, ""},
		{`{ ($.n = "*mid*dle*") && ($.f IS FALSE) && ($.z IS NULL) && ($.k > 2) && ($.e = *) }`,
			`[{"detail":{"e":[{"exists":true}],"f":[false],"k":[{"numeric":[">",2]}],"n":[{"wildcard":"*mid*dle*"}],"z":[null]}}]`, ""},
		{`{ $.a[0] = "x" }`, "", "array index"},
		{`{ $.a = %ab+% }`, "", "regular expression"},
		{`{ ($.a = "x*") && ($.a != "xy") }`, "", "two tests"},
		{`ERROR`, "", "only JSON"},
	} {
		p := MustParse(tc.pattern)
		alts, err := p.EventBridge("detail")
		if tc.err != "" {
			if !errors.Is(err, ErrNoEventBridge) || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: %v, want ErrNoEventBridge saying %q", tc.pattern, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.pattern, err)
		}
		var buf strings.Builder
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(alts); err != nil {
			t.Fatal(err)
		}
		if got := strings.TrimSpace(buf.String()); got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.pattern, got, tc.want)
		}
	}
}
