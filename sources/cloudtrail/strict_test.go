package cloudtrail

import (
	"encoding/json"
	"testing"

	"github.com/valyala/fastjson"
)

// FuzzStrictAfterParse checks the cheap strictness check against
// encoding/json's validator on everything fastjson's parser accepts.
func FuzzStrictAfterParse(f *testing.F) {
	for _, s := range []string{
		`{"a":1}`, `{"a":NaN}`, `{"a":01}`, `{"a":1.}`, `{"a":-}`, `{"a":+1}`, `{"a":1e}`, `{"a":1e+5}`, `{"a":-0.5E-3}`,
		`{"a":"\x"}`, `{"a":"\u12G4"}`, `{"a":"\u00e9\n\\"}`, "{\"a\":\"\x01\"}", "{\"a\":\t1}", `{"a":[inf,2]}`, `{"a\u0000":true}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, text []byte) {
		var p fastjson.Parser
		v, err := p.ParseBytes(text)
		if err != nil {
			return
		}
		if got, want := strictAfterParse(text, v), json.Valid(text); got != want {
			t.Fatalf("strictAfterParse(%q) = %v, encoding/json says %v", text, got, want)
		}
	})
}
