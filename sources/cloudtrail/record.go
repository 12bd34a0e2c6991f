package cloudtrail

import (
	"bytes"
	"net/url"
	"strings"
	"time"

	"github.com/activity-aware/ids/activity"
)

// lowerASCII writes s lower-cased (ASCII letters only) into dst, which must
// be as long as s, and returns it.
func lowerASCII(dst, s []byte) []byte {
	dst = dst[:len(s)]
	for i, c := range s {
		if c-'A' < 26 {
			c += 'a' - 'A'
		}
		dst[i] = c
	}
	return dst
}

// activity builds the activity of a recognized record from its members.
func (m *members) activity(sc *scratch, origin *activity.Origin, fallback time.Time) *activity.Activity {
	blk := sc.newBlock()
	actor := m.actor(sc, &blk.actor, &blk.mfa)
	actor.SourceIP = sc.str(&m.rec[mSourceIP])
	actor.UserAgent = sc.str(&m.rec[mUserAgent])

	act := &blk.action
	*act = activity.Action{
		Service:      sc.str(&m.rec[mEventSource]),
		Name:         sc.str(&m.rec[mEventName]),
		ReadOnly:     boolean(&m.rec[mReadOnly], &blk.readOnly),
		ErrorCode:    sc.str(&m.rec[mErrorCode]),
		ErrorMessage: sc.str(&m.rec[mErrorMessage]),
	}
	insight := m.rec[mInsightDetails].kind == kindObject
	if insight {
		// Insights events name the call they measure inside insightDetails.
		if act.Service == "" {
			act.Service = sc.str(&m.insight[0])
		}
		if act.Name == "" {
			act.Name = sc.str(&m.insight[1])
		}
	}
	consoleFailure := m.consoleSignInFailure(sc, act)
	act.Outcome = outcome(act.ErrorCode, consoleFailure)

	eventID, eventTime := plainStr(&m.rec[mEventID]), plainStr(&m.rec[mEventTime])
	at, ok := parseTime(eventTime)
	if !ok {
		at = fallback
	}
	region := sc.str(&m.rec[mAWSRegion])
	accountID := sc.str(&m.rec[mRecipient])
	if accountID == "" {
		accountID = actor.AccountID
	}
	a := &blk.activity
	*a = activity.Activity{
		SchemaVersion: activity.SchemaVersion,
		ID:            eventID,
		Source:        SourceName,
		Severity:      severity(actor.Type, act, consoleFailure),
		Time:          at,
		Account:       activity.Account{ID: accountID},
		Region:        region,
		Actor:         actor,
		Action:        act,
		Resources:     m.resourceList(sc),
		Origin:        origin,
	}
	if a.ID == "" {
		// Derived from the log event id when the record came through a
		// subscription, so a retried batch keeps its ids.
		a.ID = m.hashID
		if origin != nil && origin.LogEventID != "" {
			a.ID = "logevent-" + origin.LogEventID
		}
	}
	// The subject, the console link and the request parameters' text are
	// built in one buffer and take one allocation together.
	state := sc.str(&m.insight[2])
	text := appendSubject(sc.text[:0], actor, act, consoleFailure, insight, state)
	subjectEnd := len(text)
	text, hasLink := appendEventLink(text, region, a.ID, actor.ARN, eventID != "")
	linkEnd := len(text)
	text = append(text, m.rec[mRequestParameters].text...)
	sc.text = text
	all := string(text)
	a.Subject = activity.Truncate(all[:subjectEnd], maxSubjectRunes)

	if m.rec[mOmitted].kind != kindAbsent || m.request[0].kind != kindAbsent || m.response[1].kind != kindAbsent {
		a.Tags = append(a.Tags, TagOmitted)
	}
	a.Fields, a.Truncated = m.fields(sc, blk.fields[:0], a, eventTime, ok, all[linkEnd:])
	if hasLink {
		blk.links[0] = activity.Link{Title: "CloudTrail event history", URL: all[subjectEnd:linkEnd]}
		a.Links = blk.links[:]
	}
	return a
}

// consoleSignInFailure reports a failed console sign-in: ConsoleLogin whose
// responseElements say "Failure" (CloudTrail sets errorMessage, not
// errorCode, for these).
func (m *members) consoleSignInFailure(sc *scratch, act *activity.Action) bool {
	if act.Name != "ConsoleLogin" {
		return false
	}
	switch m.rec[mResponseElements].kind {
	case kindObject:
		if sc.str(&m.response[0]) == "Failure" {
			return true
		}
	case kindString:
		if bytes.Contains(m.rec[mResponseElements].text, []byte(`"Failure"`)) {
			return true
		}
	}
	return act.ErrorMessage != "" || (act.ErrorCode != "" && !successCode(act.ErrorCode))
}

func (m *members) resourceList(sc *scratch) []activity.Resource {
	if len(m.resources) == 0 {
		return nil
	}
	out := make([]activity.Resource, 0, len(m.resources))
	for i := range m.resources {
		it := &m.resources[i]
		res := activity.Resource{Type: sc.str(&it[0]), ARN: sc.str(&it[1]), AccountID: sc.str(&it[2])}
		if res.ARN == "" {
			res.ARN = sc.str(&it[3])
		}
		if res != (activity.Resource{}) {
			out = append(out, res)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// fields builds the display fields in the original system's order, extended;
// it reports whether a value was cut.
func (m *members) fields(sc *scratch, fs []activity.Field, a *activity.Activity, eventTime string, timeOK bool, requestParameters string) ([]activity.Field, bool) {
	cut := false
	add := func(key, value string) {
		if value == "" {
			return
		}
		short := activity.Truncate(value, maxFieldRunes)
		cut = cut || len(short) < len(value)
		fs = append(fs, activity.Field{Key: key, Value: short})
	}
	add("Error Message", a.Action.ErrorMessage)
	add("Error Code", a.Action.ErrorCode)
	add("Event", a.Action.Name)
	add("Source", a.Action.Service)
	if timeOK {
		add("Time", formatTime(a.Time, eventTime))
	} else {
		add("Time", eventTime)
	}
	add("Region", a.Region)
	add("Recipient Account ID", sc.str(&m.rec[mRecipient]))
	add("User Account ID", a.Actor.AccountID)
	username := sc.str(&m.id[iUserName])
	if username == "" {
		username = a.Actor.Name
	}
	add("Username", username)
	add("User ARN", a.Actor.ARN)
	add("Source IP", a.Actor.SourceIP)
	add("User Agent", a.Actor.UserAgent)
	add("Request Parameters", requestParameters)
	return fs, cut
}

// outcome classifies how the call ended.
func outcome(code string, consoleFailure bool) activity.Outcome {
	switch {
	case deniedCode(code):
		return activity.Denied
	case consoleFailure, code != "" && !successCode(code):
		return activity.Failed
	}
	return activity.Success
}

// deniedCode reports an error code that means the call lacked permission:
// AccessDenied, AccessDeniedException, VpceAccessDenied, UnauthorizedOperation,
// Client.UnauthorizedOperation.
func deniedCode(code string) bool {
	return strings.HasPrefix(code, "AccessDenied") || strings.HasSuffix(code, "AccessDenied") ||
		strings.HasSuffix(code, "UnauthorizedOperation")
}

// successCode reports an error code that some exporters write for a success:
// a numeric HTTP 2xx or 3xx status.
func successCode(code string) bool {
	if len(code) != 3 || (code[0] != '2' && code[0] != '3') {
		return false
	}
	return '0' <= code[1] && code[1] <= '9' && '0' <= code[2] && code[2] <= '9'
}

// trailTampering are the CloudTrail calls that stop or narrow logging.
var trailTampering = map[string]bool{
	"StopLogging":       true,
	"DeleteTrail":       true,
	"UpdateTrail":       true,
	"PutEventSelectors": true,
}

// severity applies the package's severity table.
func severity(actorType string, act *activity.Action, consoleFailure bool) activity.Severity {
	sev := activity.Info
	if act.Outcome == activity.Denied || consoleFailure {
		sev = activity.Medium
	}
	if actorType == "Root" {
		sev = sev.Max(activity.High)
	}
	if trailTampering[act.Name] && (act.Service == "cloudtrail.amazonaws.com" || act.Service == "") {
		sev = sev.Max(activity.High)
	}
	return sev
}

// shortService is eventSource without its domain: "iam.amazonaws.com" → "iam".
func shortService(service string) string {
	if service == "" {
		return "unknown"
	}
	if i := strings.IndexByte(service, '.'); i > 0 {
		return service[:i]
	}
	return service
}

// appendSubject appends the one line a human reads first, e.g.
// "Access denied: IAMUser alice → iam:GetPolicy".
func appendSubject(b []byte, actor *activity.Actor, act *activity.Action, consoleFailure, insight bool, insightState string) []byte {
	name := act.Name
	if name == "" {
		name = "unknown"
	}
	service := shortService(act.Service)
	// "who" is the actor's type and name, or the name alone.
	typ, sep := actor.Type, " "
	if typ == "" || strings.EqualFold(actor.Type, actor.Name) {
		typ, sep = "", ""
	}
	switch {
	case insight:
		if insightState != "" {
			return appendAll(b, "CloudTrail Insight (", insightState, "): ", service, ":", name)
		}
		return appendAll(b, "CloudTrail Insight: ", service, ":", name)
	case consoleFailure:
		return appendAll(b, "Console sign-in failure: ", typ, sep, actor.Name)
	case act.Outcome == activity.Denied:
		return appendAll(b, "Access denied: ", typ, sep, actor.Name, " → ", service, ":", name)
	case act.Outcome == activity.Failed:
		return appendAll(b, act.ErrorCode, ": ", typ, sep, actor.Name, " → ", service, ":", name)
	}
	return appendAll(b, typ, sep, actor.Name, " → ", service, ":", name)
}

// appendAll appends the strings to b.
func appendAll(b []byte, parts ...string) []byte {
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

// formatTime is t in RFC 3339 (UTC, whole seconds): eventTime itself when it
// is already written so, as CloudTrail writes it, else a new string.
func formatTime(t time.Time, eventTime string) string {
	var buf [len(time.RFC3339) + 8]byte
	b := t.UTC().AppendFormat(buf[:0], time.RFC3339)
	if string(b) == eventTime {
		return eventTime
	}
	return string(b)
}

// parseTime reads the eventTime formats found in real data: RFC 3339 with
// any fraction, "2006-01-02 15:04:05" with or without fraction or "Z" (UTC).
func parseTime(s string) (time.Time, bool) {
	if t, ok := parseCloudTrailTime(s); ok {
		return t, true
	}
	if len(s) < len("2006-01-02T15:04:05") {
		return time.Time{}, false
	}
	var t time.Time
	var err error
	switch {
	case s[10] == ' ' && strings.HasSuffix(s, "Z"):
		t, err = time.Parse("2006-01-02 15:04:05Z", s)
	case s[10] == ' ':
		t, err = time.Parse("2006-01-02 15:04:05", s)
	default:
		t, err = time.Parse(time.RFC3339, s)
		if err != nil {
			t, err = time.Parse("2006-01-02T15:04:05", s)
		}
	}
	if err != nil || t.IsZero() {
		return time.Time{}, false
	}
	return t.UTC(), true
}

// parseCloudTrailTime reads the form CloudTrail writes, "2006-01-02T15:04:05Z",
// without time.Parse's generality; it refuses what time.Parse would (a day
// beyond the month's, a second of 60) and anything else, which parseTime
// then hands to time.Parse.
func parseCloudTrailTime(s string) (time.Time, bool) {
	if len(s) != len("2006-01-02T15:04:05Z") || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
		s[13] != ':' || s[16] != ':' || s[19] != 'Z' {
		return time.Time{}, false
	}
	num := func(i, n int) int {
		v := 0
		for _, c := range []byte(s[i : i+n]) {
			if c < '0' || c > '9' {
				return -1
			}
			v = v*10 + int(c-'0')
		}
		return v
	}
	year, month, day := num(0, 4), num(5, 2), num(8, 2)
	hour, minute, sec := num(11, 2), num(14, 2), num(17, 2)
	if year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 ||
		minute < 0 || minute > 59 || sec < 0 || sec > 59 {
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, 0, time.UTC)
	if t.Day() != day || t.IsZero() { // the day does not exist in that month
		return time.Time{}, false
	}
	return t, true
}

// appendEventLink appends the URL of the CloudTrail console's event-history
// link for the event, in the event's region, on the console of the partition
// (from the region, else from the actor's ARN), and reports whether there is
// one: without a real event id or a well-formed region there is none.
func appendEventLink(b []byte, region, id, arn string, hasEventID bool) ([]byte, bool) {
	if !hasEventID || !validRegion(region) || id == "" {
		return b, false
	}
	partition := "aws"
	switch {
	case strings.HasPrefix(region, "us-gov-"), strings.HasPrefix(arn, "arn:aws-us-gov:"):
		partition = "aws-us-gov"
	case strings.HasPrefix(region, "cn-"), strings.HasPrefix(arn, "arn:aws-cn:"):
		partition = "aws-cn"
	}
	// A valid region needs no query escaping; the id may need path escaping.
	frag := url.PathEscape(id)
	switch partition {
	case "aws-us-gov":
		return appendAll(b, "https://console.amazonaws-us-gov.com/cloudtrail/home?region=", region, "#/events/", frag), true
	case "aws-cn":
		return appendAll(b, "https://console.amazonaws.cn/cloudtrail/home?region=", region, "#/events/", frag), true
	}
	return appendAll(b, "https://", region, ".console.aws.amazon.com/cloudtrailv2/home?region=", region, "#/events/", frag), true
}

// validRegion accepts region names shaped like "us-east-1" or
// "us-gov-west-1": lower-case words joined by '-', ending in a number.
func validRegion(r string) bool {
	if len(r) > 32 {
		return false
	}
	parts := 0
	for len(r) > 0 {
		p, rest, more := strings.Cut(r, "-")
		if p == "" {
			return false
		}
		last := !more
		for j := 0; j < len(p); j++ {
			c := p[j]
			if last && (c < '0' || c > '9') || !last && (c < 'a' || c > 'z') {
				return false
			}
		}
		parts++
		if !more {
			break
		}
		if rest == "" {
			return false
		}
		r = rest
	}
	return parts >= 3
}
