package cloudtrail

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/activity-aware/ids/internal/sourcetest"
)

func TestParseTimeForms(t *testing.T) {
	tests := []struct {
		in   string
		want string // RFC 3339 UTC, "" for no time
	}{
		{"2024-01-02T03:04:05Z", "2024-01-02T03:04:05Z"},
		{"2024-02-29T23:59:59Z", "2024-02-29T23:59:59Z"},
		{"2023-02-29T00:00:00Z", ""},
		{"2024-01-02T03:04:05.123456789Z", "2024-01-02T03:04:05.123456789Z"},
		{"2024-01-02T03:04:05+02:00", "2024-01-02T01:04:05Z"},
		{"2021-10-19 01:06:59", "2021-10-19T01:06:59Z"},
		{"2021-10-19 01:06:59Z", "2021-10-19T01:06:59Z"},
		{"2021-10-19 01:06:59.25", "2021-10-19T01:06:59.25Z"},
		{"2021-10-19 01:06:59+02:00", ""},
		{"2024-01-02T03:04:05", "2024-01-02T03:04:05Z"},
		{"2024-01-02T03:04:05.5", "2024-01-02T03:04:05.5Z"},
		{"2024-01-02X03:04:05Z", ""},
		{"0001-01-01T00:00:00Z", ""},
		{"redacted", ""},
	}
	for _, tt := range tests {
		got, ok := parseTime(tt.in)
		if s := got.Format(time.RFC3339Nano); ok != (tt.want != "") || ok && s != tt.want {
			t.Errorf("parseTime(%q) = %s, %v; want %q", tt.in, s, ok, tt.want)
		}
		// A form read tries no layout that fails: a failed parse allocates
		// its error, which cost a record of the second form three.
		if n := testing.AllocsPerRun(10, func() { parseTime(tt.in) }); ok && n != 0 {
			t.Errorf("parseTime(%q) allocates %v times", tt.in, n)
		}
	}
}

// TestMemberNames checks the tables pick reads: each name at its length, in
// lower-case letters (pick folds a byte with OR 0x20), once, and every
// member index named.
func TestMemberNames(t *testing.T) {
	for _, tc := range []struct {
		names *[24][]nameIndex
		n     int
	}{{&recordNames, nRecordMembers}, {&identityNames, nIdentityMembers}} {
		seen, named := map[string]bool{}, make([]bool, tc.n)
		for length, names := range tc.names {
			for _, n := range names {
				if len(n.name) != length || strings.Trim(n.name, "abcdefghijklmnopqrstuvwxyz") != "" || seen[n.name] {
					t.Errorf("name %q at length %d: not its length, not lower-case letters, or twice", n.name, length)
				}
				seen[n.name], named[n.index] = true, true
			}
		}
		if i := slices.Index(named, false); i >= 0 {
			t.Errorf("member index %d has no name", i)
		}
	}
}

// TestBatchKeepsBuiltStrings: the strings the source builds rather than
// reads (a reformatted event time, an actor name joined from parts) live in
// the batch's arena, and each activity keeps its own after the records
// that follow it are built.
func TestBatchKeepsBuiltStrings(t *testing.T) {
	record := func(i int, eventTime string) events.CloudwatchLogsLogEvent {
		return events.CloudwatchLogsLogEvent{ID: fmt.Sprint(i), Message: fmt.Sprintf(`{"eventVersion":"1.08","eventTime":%q,`+
			`"userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::123456789012:assumed-role/Role%d/session%d"},"eventName":"GetObject"}`, eventTime, i, i)}
	}
	d := &events.CloudwatchLogsData{MessageType: "DATA_MESSAGE", LogEvents: []events.CloudwatchLogsLogEvent{
		record(0, "2021-10-19 01:06:59"), record(1, "2024-01-02T03:04:05.5Z"), record(2, "2024-01-02T03:04:06Z"),
	}}
	want := []string{"2021-10-19T01:06:59Z", "2024-01-02T03:04:05Z", "2024-01-02T03:04:06Z"}
	for i, a := range New(Options{}).FromLogsData(d) {
		if got := sourcetest.Field(a, "Time"); got != want[i] {
			t.Errorf("activity %d: Time %q, want %q", i, got, want[i])
		}
		if name := fmt.Sprintf("role/Role%d (session session%d)", i, i); a.Actor == nil || a.Actor.Name != name {
			t.Errorf("activity %d: actor %+v, want the name %q", i, a.Actor, name)
		}
	}
}
