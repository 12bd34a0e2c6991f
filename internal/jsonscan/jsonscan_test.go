package jsonscan

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/activity-aware/ids/internal/sharedfixtures"
)

var checkSeeds = []string{
	`{"a":1}`, `{"a":NaN}`, `{"a":01}`, `{"a":1.}`, `{"a":-}`, `{"a":+1}`, `{"a":1e}`, `{"a":1e+5}`, `{"a":-0.5E-3}`,
	`{"a":"\x"}`, `{"a":"\u12G4"}`, `{"a":"\u00e9\n\\"}`, "{\"a\":\"\x01\"}", "{\"a\":\t1}", `{"a":[inf,2]}`, `{"a\u0000":true}`,
	`{ "a" : "b c" }`, `{"a":nan}`, `{"a":Infinity}`, `[tru]`, `[1,-0,0.5e-0009,"abcdefghijklmnop\"qrstuvw\\xyz0123456789"]`,
	`{"a":"b \" c"}`, `[1, 2]`, `{}`, `[]`, `{ }`, `[ ]`, `{"a":{}}`, `[[],{}]`, `{"a"}`, `{"a":1,}`, `[1,]`, `{,}`, `[,1]`,
	`{"a":1}}`, `{"a":1]`, `[1}`, `{"a" 1}`, `{1:2}`, `"x"`, `1`, `true`, `null`, ``, ` `, `{"a":1} x`, `{"a":1}{}`, `{"a":[1 2]}`,
	`{"a":"\ud800"}`, `{"a":"\ud83d\ude00"}`, "{\"a\":\"\xff\"}", `{"a":true,"b":false,"c":null}`, `[[[[]]]]`, `{"a":[{"b":[]}]}`,
}

// FuzzCheck compares Check with encoding/json: the same validity, and
// compact exactly when json.Compact leaves the text unchanged.
func FuzzCheck(f *testing.F) {
	for _, s := range checkSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, text []byte) {
		valid, compact := Check(text)
		if want := json.Valid(text); valid != want {
			t.Fatalf("Check(%q) valid = %v, encoding/json says %v", text, valid, want)
		}
		if !valid {
			return
		}
		var c bytes.Buffer
		if err := json.Compact(&c, text); err != nil {
			t.Fatal(err)
		}
		if want := bytes.Equal(c.Bytes(), text); compact != want {
			t.Fatalf("Check(%q) compact = %v, json.Compact changes it: %v", text, compact, !want)
		}
	})
}

func TestCheckSeeds(t *testing.T) {
	for _, s := range checkSeeds {
		valid, _ := Check([]byte(s))
		if want := json.Valid([]byte(s)); valid != want {
			t.Errorf("Check(%q) valid = %v, encoding/json says %v", s, valid, want)
		}
	}
}

func TestSummarize(t *testing.T) {
	deep := `{"eventName":"PutObject","errorCode":"AccessDenied","userIdentity":{"type":"IAMUser","userName":"mallory"},"requestParameters":` +
		strings.Repeat(`{"a":[`, 400) + `"x"` + strings.Repeat(`]}`, 400) + `,"eventID":"e1"}`
	got, cut := Summarize([]byte(deep), 32, 100)
	if !cut {
		t.Fatal("Summarize did not cut a record nested 801 deep")
	}
	var rec map[string]any
	if err := json.Unmarshal(got, &rec); err != nil {
		t.Fatalf("summarized text is not JSON: %v\n%s", err, got)
	}
	if rec["eventID"] != "e1" || rec["errorCode"] != "AccessDenied" || rec["userIdentity"].(map[string]any)["userName"] != "mallory" {
		t.Errorf("members above the limit changed: %s", got)
	}
	if len(got) > 600 {
		t.Errorf("summarized text is %d bytes, want the deep part cut to a preview", len(got))
	}
	flat := []byte(`{"a":{"b":[1,"]}"]}}`)
	if got, cut := Summarize(flat, 32, 100); cut || !bytes.Equal(got, flat) {
		t.Errorf("Summarize changed shallow text: %s", got)
	}
}

// FuzzSummarize: for valid JSON, Summarize's result is valid JSON nested at
// most maxDepth deep, and it is the text itself, not cut, when the text was
// no deeper than that.
func FuzzSummarize(f *testing.F) {
	for _, s := range checkSeeds {
		f.Add([]byte(s), uint8(1), uint8(8))
	}
	f.Add([]byte(`{"a":[{"b":["]}\"",{"c":[[1]]}]}],"d":{"e":{}}}`), uint8(2), uint8(5))
	f.Add([]byte(`[[["é\u00e9"]],[[[]]]]`), uint8(1), uint8(3))
	f.Fuzz(func(t *testing.T, text []byte, maxDepth, previewBytes uint8) {
		if !json.Valid(text) {
			return
		}
		limit := int(maxDepth%8) + 1
		got, cut := Summarize(text, limit, int(previewBytes))
		if !json.Valid(got) {
			t.Fatalf("Summarize(%q, %d) = %q, not JSON", text, limit, got)
		}
		if d := nesting(got); d > limit {
			t.Fatalf("Summarize(%q, %d) = %q, nested %d deep", text, limit, got, d)
		}
		if shallow := nesting(text) <= limit; cut == shallow || shallow && !bytes.Equal(got, text) {
			t.Fatalf("Summarize(%q, %d) = %q, cut %v; the text is nested %d deep", text, limit, got, cut, nesting(text))
		}
	})
}

// nesting is how deep valid JSON text nests objects and arrays.
func nesting(text []byte) int {
	dec := json.NewDecoder(bytes.NewReader(text))
	depth, most := 0, 0
	for {
		tok, err := dec.Token()
		if err != nil {
			return most
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
			most = max(most, depth)
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
	}
}

// TestFixLoneSurrogates: every lone surrogate escape becomes \ufffd (what
// encoding/json reads it as), pairs and escaped backslashes stay, and the
// fixed text means to encoding/json what the original meant.
func TestFixLoneSurrogates(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`{"a":"\udC00"}`, `{"a":"\ufffd"}`},
		{`{"a":"\ud800x"}`, `{"a":"\ufffdx"}`},
		{`{"a":"\ud83d\ude00"}`, `{"a":"\ud83d\ude00"}`},
		{`{"a":"\ud83d\ud83d\ude00"}`, `{"a":"\ufffd\ud83d\ude00"}`},
		{`{"a":"\\udc00"}`, `{"a":"\\udc00"}`},
		{`{"a":"\\\udc00"}`, `{"a":"\\\ufffd"}`},
		{`{"a":"\u0041\n"}`, `{"a":"\u0041\n"}`},
		{`{"a":"\ude00\ud83d"}`, `{"a":"\ufffd\ufffd"}`},
		{`{"a":"\ud83dxude00"}`, `{"a":"\ufffdxude00"}`},
	} {
		got, changed := FixLoneSurrogates([]byte(c.in))
		if string(got) != c.want || changed != (c.in != c.want) {
			t.Errorf("FixLoneSurrogates(%s) = %s, %v; want %s", c.in, got, changed, c.want)
		}
		var a, b any
		if json.Unmarshal([]byte(c.in), &a) != nil || json.Unmarshal(got, &b) != nil || !reflect.DeepEqual(a, b) {
			t.Errorf("%s reads %#v, fixed %s reads %#v", c.in, a, got, b)
		}
	}
}

// FuzzFixLoneSurrogates: for any valid JSON, the fixed text reads the same
// to encoding/json, and has no lone surrogate escape left.
func FuzzFixLoneSurrogates(f *testing.F) {
	for _, s := range []string{`"\udc00"`, `["\ud800\udc00","\\ud800"]`, `{"k\ud800":1}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, text []byte) {
		if valid, _ := Check(text); !valid {
			return
		}
		fixed, _ := FixLoneSurrogates(text)
		var a, b any
		if err := json.Unmarshal(text, &a); err != nil {
			return
		}
		if err := json.Unmarshal(fixed, &b); err != nil || !reflect.DeepEqual(a, b) {
			t.Fatalf("%q reads %#v, fixed %q reads %#v (%v)", text, a, fixed, b, err)
		}
		if again, changed := FixLoneSurrogates(fixed); changed {
			t.Fatalf("fixed %q changed again: %q", fixed, again)
		}
	})
}

// BenchmarkCheckRecords checks the recorded CloudTrail records, compact as a
// subscription delivers them (SetBytes: their bytes).
func BenchmarkCheckRecords(b *testing.B) {
	var records [][]byte
	size := 0
	for _, m := range sharedfixtures.CloudTrailMessages(b) {
		records, size = append(records, []byte(m)), size+len(m)
	}
	b.SetBytes(int64(size))
	for b.Loop() {
		for _, r := range records {
			if valid, compact := Check(r); !valid || !compact {
				b.Fatalf("Check(%s) = %v, %v", r, valid, compact)
			}
		}
	}
}
