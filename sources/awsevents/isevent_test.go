package awsevents

import (
	"strings"
	"testing"
)

// FuzzIsEvent holds IsEvent to probeEvent, the encoding/json decoding it
// stands for.
func FuzzIsEvent(f *testing.F) {
	for _, seed := range []string{
		`{"version":"0","id":"1","detail-type":"GuardDuty Finding","source":"aws.guardduty","detail":{}}`,
		`{"detail-type":"x","detail":null}`,
		`{"Detail-Type":"x","DETAIL":1}`,
		`{"detail-type":null,"detail":{}}`,
		`{"detail-type":"x","detail-type":null,"detail":{}}`,
		`{"detail-type":null,"detail-type":"x","detail":{}}`,
		`{"detail-type":1,"detail-type":"x","detail":{}}`,
		`{"detail-type":"x","detail-type":1,"detail":{}}`,
		`{"detail-type":"x"}`,
		`{"d\u0065tail-type":"x","d\u0065tail":[]}`,
		`{"detail-type":"x","detail":{}`,
		`{"detail-type":"x","detail":"\x"}`,
		`{"detail-type":"x","detail":01}`,
		`[{"detail-type":"x","detail":{}}]`,
		`null`, `"detail-type"`, ``, ` {"detail-type":"", "detail":0} `,
		`{"eventVersion":"1.08","requestParameters":{"entries":[{"detail-type":"x","detail":"{}"}]}}`,
		`{"detail-type":"x","detail":` + strings.Repeat("[", 400) + strings.Repeat("]", 400) + `}`,
		"{\"detail-type\":\"x\xff\",\"detail\":{}}",
		"{\"detail\xff\":\"x\",\"detail\":{}}",
		`{"DETAIL-type":"x","Detail":{}}`, `{"detail-TYPE":"x","detail":{}}`, `{"detail\u002dtype":"x","detail":{}}`,
		`{"detail-typ":"x","detail":{}}`, `{"etail-type":"x","detail":{}}`, `-type`, `detail-`, `{"a":"\\u","detail-type":"x","detail":{}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if got, want := IsEvent(raw), probeEvent(raw); got != want {
			t.Fatalf("IsEvent(%q) = %v, encoding/json says %v", raw, got, want)
		}
	})
}
