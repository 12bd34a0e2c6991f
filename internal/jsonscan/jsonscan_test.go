package cloudtrail

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/valyala/fastjson"
)

// FuzzStrictAfterParse checks the cheap strictness check against
// encoding/json's validator on everything fastjson's parser accepts.
func FuzzStrictAfterParse(f *testing.F) {
	for _, s := range []string{
		`{"a":1}`, `{"a":NaN}`, `{"a":01}`, `{"a":1.}`, `{"a":-}`, `{"a":+1}`, `{"a":1e}`, `{"a":1e+5}`, `{"a":-0.5E-3}`,
		`{"a":"\x"}`, `{"a":"\u12G4"}`, `{"a":"\u00e9\n\\"}`, "{\"a\":\"\x01\"}", "{\"a\":\t1}", `{"a":[inf,2]}`, `{"a\u0000":true}`, `{ "a" : "b c" }`, `{"a":nan}`, `{"a":Infinity}`, `[tru]`, `[1,-0,0.5e-0009,"abcdefghijklmnop\"qrstuvw\\xyz0123456789"]`, `{"a":"b \" c"}`, `[1, 2]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, text []byte) {
		var p fastjson.Parser
		if _, err := p.ParseBytes(text); err != nil {
			return
		}
		valid, compact := strictAfterParse(text)
		if want := json.Valid(text); valid != want {
			t.Fatalf("strictAfterParse(%q) valid = %v, encoding/json says %v", text, valid, want)
		}
		if !valid {
			return
		}
		var c bytes.Buffer
		if err := json.Compact(&c, text); err != nil {
			t.Fatal(err)
		}
		if want := bytes.Equal(c.Bytes(), text); compact != want {
			t.Fatalf("strictAfterParse(%q) compact = %v, json.Compact changes it: %v", text, compact, !want)
		}
	})
}
