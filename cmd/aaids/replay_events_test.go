package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/activity-aware/ids/activity"
)

// busEvent is an activity event as the destination receives it from the
// bus, published by account about the activity's own account about.
func busEvent(t *testing.T, id, account, about, source string) string {
	t.Helper()
	detail := `{"schemaVersion":"1.0","id":"` + jsonEscape(id) + `","source":"cloudtrail","subject":"Root signed in","severity":"critical","time":"2026-11-20T10:00:00Z","account":{"id":"` + about + `"},"links":[{"title":"Open","url":"https://evil.example/"}]}`
	ev := map[string]any{
		"version": "0", "id": id, "detail-type": activity.DetailType, "source": source,
		"account": account, "time": "2026-11-20T10:00:01Z", "region": "us-east-1", "resources": []string{},
		"detail": json.RawMessage(detail),
	}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestReplayActivityEvents replays events from the bus through the
// destination's verification: trusted ones render, the others are refused
// with their reason on stderr and exit status 1.
func TestReplayActivityEvents(t *testing.T) {
	good := busEvent(t, "ev-good", "123456789012", "123456789012", "activity-aware-ids.cloudtrail")
	stranger := busEvent(t, "ev-stranger", "999999999999", "999999999999", "activity-aware-ids.cloudtrail")
	member := busEvent(t, "ev-member", "210987654321", "123456789012", "activity-aware-ids.cloudtrail")
	badSource := busEvent(t, "ev-source", "123456789012", "123456789012", "evil.cloudtrail")
	lines := writeInput(t, "bus.jsonl", strings.Join([]string{good, stranger, member, badSource}, "\n")+"\n")
	single := writeInput(t, "one.json", good)

	tests := []struct {
		name       string
		args       []string
		code       int
		rendered   int
		errors     int
		wantErr    []string
		notWantOut []string
	}{
		{name: "one event, trusted", args: []string{"--accounts", "123456789012", single}, code: exitOK, rendered: 1},
		{name: "no trusted accounts refuses", args: []string{single}, code: exitInput, errors: 1,
			wantErr: []string{"ev-good refused", "see --accounts"}},
		// In an organization, a member may publish about itself only.
		{name: "one per line, organization", args: []string{"--accounts", "123456789012,organization", lines}, code: exitInput, rendered: 2, errors: 2,
			wantErr: []string{
				`bus.jsonl:3: event ev-member refused: eventbus: unverified activity: account 210987654321 may publish activities about itself only, not about account "123456789012"`,
				`bus.jsonl:4: event ev-source refused: eventbus: unverified activity: eventbus: not an activity: source "evil.cloudtrail" does not start with "activity-aware-ids."`,
			},
			notWantOut: []string{"evil.example"}},
		{name: "listed accounts only", args: []string{"--accounts", "123456789012", lines}, code: exitInput, rendered: 1, errors: 3,
			wantErr: []string{"999999999999, which is not a trusted producer"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runAaids(t, append([]string{"replay"}, tt.args...)...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d: %s", code, tt.code, errOut)
			}
			if got := strings.Count(out, "Root signed in\n"); got != tt.rendered {
				t.Errorf("%d activities rendered, want %d:\n%s", got, tt.rendered, out)
			}
			if got := summary(t, errOut); got.errors != tt.errors || got.activities != tt.rendered {
				t.Errorf("summary %+v, want %d errors and %d activities", got, tt.errors, tt.rendered)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
			for _, nw := range tt.notWantOut {
				if strings.Contains(out, nw) {
					t.Errorf("stdout shows %q:\n%s", nw, out)
				}
			}
		})
	}
	if code, _, errOut := runAaids(t, "replay", "--accounts", "everyone", single); code != exitUsage {
		t.Errorf("--accounts everyone: exit %d, want %d: %s", code, exitUsage, errOut)
	}
}

// TestTerminalGetsNoEscapes replays input whose event text carries ESC, BEL,
// carriage returns and bidi overrides into every line aaids prints: the
// refused-event reason, the "not fixable" line of policy suggest and the text
// preview. None of those characters may reach the terminal.
func TestTerminalGetsNoEscapes(t *testing.T) {
	const hostile = "\x1b]0;pwned\x07\x1b[2J\r\u202Egpj.exe"
	ev := busEvent(t, "ev\x1b[31m", "999999999999", "999999999999", "activity-aware-ids.cloudtrail")
	ev = strings.Replace(ev, `"Root signed in"`, `"Root `+jsonEscape(hostile)+`"`, 1)
	denyMsg := `User: arn:aws:iam::123456789012:user/alice is not authorized to perform: s3:GetObject on resource: \"arn:aws:s3:::b/` + jsonEscape(hostile) + `\" with an explicit deny in a service control policy`
	record := strings.Replace(denied, `"errorMessage":"User: arn:aws:iam::123456789012:user/alice is not authorized to perform: iam:GetPolicy on resource: policy arn:aws:iam::aws:policy/AdministratorAccess because no identity-based policy allows the iam:GetPolicy action"`, `"errorMessage":"`+denyMsg+`"`, 1)
	record = strings.Replace(record, `"userAgent":"<!channel> aws-cli/2.15"`, `"userAgent":"`+jsonEscape(hostile)+`"`, 1)
	events := writeInput(t, "bus.json", ev)
	trail := writeInput(t, "trail.json", `{"Records":[`+record+`]}`)

	for _, args := range [][]string{
		{"replay", "--accounts", "123456789012", events},
		{"replay", trail},
		{"policy", "suggest", trail},
	} {
		_, out, errOut := runAaids(t, args...)
		for name, text := range map[string]string{"stdout": out, "stderr": errOut} {
			if args[0] == "policy" && name == "stdout" {
				continue // a JSON document, where the characters are escaped
			}
			if strings.ContainsAny(text, "\x1b\x07\r\u202E") {
				t.Errorf("aaids %s: %s carries terminal control characters: %q", strings.Join(args[:len(args)-1], " "), name, text)
			}
		}
		if args[0] == "policy" && !strings.Contains(errOut, "not fixable by an allow") {
			t.Errorf("policy suggest printed no not-fixable line: %s", errOut)
		}
	}
}

func jsonEscape(s string) string {
	b, _ := json.Marshal(s)
	return strings.Trim(string(b), `"`)
}
