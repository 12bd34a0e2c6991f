package eventpattern

import (
	"errors"
	"testing"
)

// activityEvent is an EventBridge envelope as the activity bus delivers it.
const activityEvent = `{
  "version": "0",
  "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
  "detail-type": "Activity",
  "source": "activity-aware-ids.cloudtrail",
  "account": "111122223333",
  "time": "2017-06-12T22:42:41Z",
  "region": "us-east-1",
  "resources": [],
  "detail": {
    "schemaVersion": "1.0",
    "severity": "medium",
    "account": {"id": "111122223333"},
    "action": {"service": "iam.amazonaws.com", "name": "GetPolicy", "outcome": "denied", "readOnly": true},
    "tags": ["unrecognized", "cloudtrail-omitted"],
    "count": 3,
    "note": null,
    "sourceIPAddress": "198.51.100.77",
    "ipv6": "2001:db8::1",
    "key": "logs/2024/a*b\\c.gz"
  }
}`

func TestMatch(t *testing.T) {
	tests := []struct {
		name    string
		pattern string
		want    bool
	}{
		{"the project's default rule", `{"source":[{"prefix":"activity-aware-ids."}],"detail-type":["Activity"]}`, true},
		{"another source prefix", `{"source":[{"prefix":"aws."}],"detail-type":["Activity"]}`, false},
		{"another detail-type", `{"source":[{"prefix":"activity-aware-ids."}],"detail-type":["Finding"]}`, false},
		{"prefix is case-sensitive", `{"source":[{"prefix":"Activity-Aware-IDS."}]}`, false},
		{"prefix ignoring case", `{"source":[{"prefix":{"equals-ignore-case":"ACTIVITY-AWARE-IDS."}}]}`, true},
		{"exact source", `{"source":["activity-aware-ids.cloudtrail"]}`, true},
		{"exact is not a prefix", `{"source":["activity-aware-ids"]}`, false},
		{"list: any value matches", `{"detail":{"severity":["high","critical","medium"]}}`, true},
		{"list: none matches", `{"detail":{"severity":["high","critical"]}}`, false},
		{"nested detail keys", `{"detail":{"account":{"id":["111122223333"]},"action":{"outcome":["denied"]}}}`, true},
		{"nested key on a missing object", `{"detail":{"actor":{"type":["Root"]}}}`, false},
		{"nested pattern on a scalar", `{"detail":{"severity":{"x":["medium"]}}}`, false},
		{"missing field", `{"detail":{"region":["us-east-1"]}}`, false},
		{"boolean", `{"detail":{"action":{"readOnly":[true]}}}`, true},
		{"boolean is not a string", `{"detail":{"action":{"readOnly":["true"]}}}`, false},
		{"number by value", `{"detail":{"count":[3.0]}}`, true},
		{"number is not a string", `{"detail":{"count":["3"]}}`, false},
		{"null", `{"detail":{"note":[null]}}`, true},
		{"array value: any element", `{"detail":{"tags":["cloudtrail-omitted"]}}`, true},
		{"array value: no element", `{"detail":{"tags":["other"]}}`, false},
		{"suffix", `{"detail":{"action":{"service":[{"suffix":".amazonaws.com"}]}}}`, true},
		{"equals-ignore-case", `{"detail":{"action":{"name":[{"equals-ignore-case":"getpolicy"}]}}}`, true},
		{"exists true", `{"detail":{"severity":[{"exists":true}]}}`, true},
		{"exists false on a present field", `{"detail":{"severity":[{"exists":false}]}}`, false},
		{"exists false on a missing field", `{"detail":{"permission":[{"exists":false}]}}`, true},
		{"anything-but a value", `{"detail":{"severity":[{"anything-but":"info"}]}}`, true},
		{"anything-but the value", `{"detail":{"severity":[{"anything-but":"medium"}]}}`, false},
		{"anything-but a list", `{"detail":{"severity":[{"anything-but":["info","low"]}]}}`, true},
		{"anything-but a prefix", `{"source":[{"anything-but":{"prefix":"activity-aware-ids."}}]}`, false},
		{"anything-but on a missing field", `{"detail":{"region":[{"anything-but":"eu-west-1"}]}}`, false},
		{"every key must match", `{"source":[{"prefix":"activity-aware-ids."}],"detail":{"severity":["high"]}}`, false},
		{"$or: one alternative matches", `{"detail":{"$or":[{"severity":["high"]},{"tags":["unrecognized"]}]}}`, true},
		{"$or: none matches", `{"detail":{"$or":[{"severity":["high"]},{"tags":["heartbeat"]}]}}`, false},
		{"$or and its level's other keys", `{"detail":{"account":{"id":["999999999999"]},"$or":[{"severity":["medium"]},{"count":[3]}]}}`, false},
		{"wildcard", `{"detail":{"action":{"service":[{"wildcard":"iam.*.com"}]}}}`, true},
		{"wildcard: several stars", `{"source":[{"wildcard":"*-aware-*.cloud*"}]}`, true},
		{"wildcard: whole value", `{"source":[{"wildcard":"activity-aware-ids"}]}`, false},
		{"wildcard: star matches nothing", `{"detail":{"severity":[{"wildcard":"med*ium"}]}}`, true},
		{"wildcard: last part must end it", `{"detail":{"severity":[{"wildcard":"m*m*m"}]}}`, false},
		{"wildcard: escaped star and backslash", `{"detail":{"key":[{"wildcard":"logs/*/a\\*b\\\\c.gz"}]}}`, true},
		{"wildcard: escaped star is literal", `{"detail":{"key":[{"wildcard":"logs/\\*"}]}}`, false},
		{"wildcard on a number", `{"detail":{"count":[{"wildcard":"*"}]}}`, false},
		{"anything-but a wildcard", `{"source":[{"anything-but":{"wildcard":"*.cloudtrail"}}]}`, false},
		{"numeric range", `{"detail":{"count":[{"numeric":[">",0,"<=",3]}]}}`, true},
		{"numeric open bound", `{"detail":{"count":[{"numeric":[">",3]}]}}`, false},
		{"numeric equals", `{"detail":{"count":[{"numeric":["=",3e0]}]}}`, true},
		{"numeric on a string", `{"detail":{"severity":[{"numeric":[">=",0]}]}}`, false},
		{"numeric on a missing field", `{"detail":{"missing":[{"numeric":["<",10]}]}}`, false},
		{"cidr v4", `{"detail":{"sourceIPAddress":[{"cidr":"198.51.100.0/24"}]}}`, true},
		{"cidr v4 outside", `{"detail":{"sourceIPAddress":[{"cidr":"10.0.0.0/8"}]}}`, false},
		{"cidr v6", `{"detail":{"ipv6":[{"cidr":"2001:db8::/32"}]}}`, true},
		{"cidr on a non-address", `{"detail":{"severity":[{"cidr":"0.0.0.0/0"}]}}`, false},
		{"$or at the top level", `{"$or":[{"source":["a"]},{"detail":{"severity":["medium"]}}]}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Compile([]byte(tt.pattern))
			if err != nil {
				t.Fatalf("Compile(%s) = %v", tt.pattern, err)
			}
			got, err := p.Match([]byte(activityEvent))
			if err != nil {
				t.Fatalf("Match = %v", err)
			}
			if got != tt.want {
				t.Fatalf("Match(%s) = %v, want %v", tt.pattern, got, tt.want)
			}
		})
	}
}

func TestCompileRefuses(t *testing.T) {
	tests := []struct {
		name    string
		pattern string
		want    error
	}{
		{"not an object", `["Activity"]`, ErrInvalid},
		{"not JSON", `{"source":`, ErrInvalid},
		{"leaf is a bare string", `{"source":"activity-aware-ids.cloudtrail"}`, ErrInvalid},
		{"empty list", `{"source":[]}`, ErrInvalid},
		{"list of objects that are not filters", `{"source":[{"prefix":"a","suffix":"b"}]}`, ErrInvalid},
		{"prefix of a number", `{"source":[{"prefix":1}]}`, ErrInvalid},
		{"unknown filter", `{"detail":{"count":[{"regex":"a.*"}]}}`, ErrUnsupported},
		{"numeric without a number", `{"detail":{"count":[{"numeric":[">","1"]}]}}`, ErrInvalid},
		{"numeric upper before lower", `{"detail":{"count":[{"numeric":["<",5,">",1]}]}}`, ErrInvalid},
		{"numeric empty range", `{"detail":{"count":[{"numeric":[">",5,"<",1]}]}}`, ErrInvalid},
		{"numeric beyond 5e9", `{"detail":{"count":[{"numeric":[">",6e9]}]}}`, ErrInvalid},
		{"numeric unknown operator", `{"detail":{"count":[{"numeric":["!=",1]}]}}`, ErrInvalid},
		{"cidr not a prefix", `{"detail":{"sourceIp":[{"cidr":"10.0.0.0"}]}}`, ErrInvalid},
		{"wildcard consecutive stars", `{"source":[{"wildcard":"activity-**"}]}`, ErrInvalid},
		{"wildcard bad escape", `{"source":[{"wildcard":"a\\b"}]}`, ErrInvalid},
		{"anything-but numeric", `{"detail":{"count":[{"anything-but":{"numeric":[">",1]}}]}}`, ErrInvalid},
		{"$or of one pattern", `{"$or":[{"source":["a"]}]}`, ErrInvalid},
		{"$or not a list", `{"$or":{"source":["a"]}}`, ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Compile([]byte(tt.pattern)); !errors.Is(err, tt.want) {
				t.Fatalf("Compile(%s) = %v, want %v", tt.pattern, err, tt.want)
			}
		})
	}
}

func TestMatchRefusesNonObjectEvent(t *testing.T) {
	p, err := Compile([]byte(`{"source":["a"]}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Match([]byte(`[1]`)); err == nil {
		t.Fatal("Match(array) = nil error")
	}
}
