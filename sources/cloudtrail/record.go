package cloudtrail

import (
	"bytes"
	"cmp"
	"net/url"
	"strings"
	"time"

	"github.com/valyala/fastjson"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/sources/awsevents"
)

// Indexes of the record members the source reads (record.top), matched
// case-insensitively, the first occurrence of a name winning, as
// recordNames spells them.
const (
	mEventVersion = iota
	mEventTime
	mEventSource
	mEventName
	mEventID
	mEventType
	mAWSRegion
	mSourceIP
	mUserAgent
	mErrorCode
	mErrorMessage
	mReadOnly
	mRecipient
	mUserIdentity
	mRequestParameters
	mResponseElements
	mResources
	mInsightDetails
	mOmitted
	nRecordMembers
)

// Indexes of the userIdentity members the source reads (record.identity),
// matched like the record's.
const (
	iType = iota
	iPrincipalID
	iARN
	iAccountID
	iAccessKeyID
	iUserName
	iInvokedBy
	iSessionContext
	iIdentityProvider
	iOnBehalfOf
	nIdentityMembers
)

// nameIndex is a member name, lower-case letters, and the index it fills.
type nameIndex struct {
	name  string
	index int
}

// recordNames are the names of the record members read, at their lengths.
var recordNames = [24][]nameIndex{
	7: {{"eventid", mEventID}, {"omitted", mOmitted}}, 8: {{"readonly", mReadOnly}}, 11: {{"eventsource", mEventSource}},
	9: {{"eventtime", mEventTime}, {"eventname", mEventName}, {"eventtype", mEventType}, {"awsregion", mAWSRegion},
		{"useragent", mUserAgent}, {"errorcode", mErrorCode}, {"resources", mResources}},
	12: {{"eventversion", mEventVersion}, {"errormessage", mErrorMessage}, {"useridentity", mUserIdentity}},
	14: {{"insightdetails", mInsightDetails}}, 15: {{"sourceipaddress", mSourceIP}}, 16: {{"responseelements", mResponseElements}},
	17: {{"requestparameters", mRequestParameters}}, 18: {{"recipientaccountid", mRecipient}},
}

// identityNames are the names of the userIdentity members read, at their
// lengths; "acceskeyid" is a misspelling found in exported data.
var identityNames = [24][]nameIndex{
	3: {{"arn", iARN}}, 4: {{"type", iType}}, 8: {{"username", iUserName}}, 9: {{"accountid", iAccountID}, {"invokedby", iInvokedBy}},
	10: {{"acceskeyid", iAccessKeyID}, {"onbehalfof", iOnBehalfOf}}, 11: {{"principalid", iPrincipalID}, {"accesskeyid", iAccessKeyID}},
	14: {{"sessioncontext", iSessionContext}}, 16: {{"identityprovider", iIdentityProvider}},
}

// record is a parsed CloudTrail record with its members found: the record's
// own (first occurrence in any case) and userIdentity's when it is an object.
// Nested members are read by exact name (fastjson's Get, first occurrence).
type record struct {
	top      [nRecordMembers]*fastjson.Value
	identity [nIdentityMembers]*fastjson.Value
}

// find fills r from the parsed object v.
func (r *record) find(v *fastjson.Value) {
	*r = record{}
	pick(v, &recordNames, r.top[:])
	if id := r.top[mUserIdentity]; is(id, fastjson.TypeObject) {
		pick(id, &identityNames, r.identity[:])
	}
}

// pick keeps in dst the first member of object v of each name of names, in
// any case: a byte matches a name's lower-case letter when it does OR 0x20.
func pick(v *fastjson.Value, names *[24][]nameIndex, dst []*fastjson.Value) {
	o, _ := v.Object()
	o.Visit(func(k []byte, m *fastjson.Value) {
		if len(k) >= len(names) {
			return
		}
	next:
		for _, n := range names[len(k)] {
			name := n.name[:len(k)]
			for j, c := range k {
				if c|0x20 != name[j] {
					continue next
				}
			}
			if dst[n.index] == nil {
				dst[n.index] = m
			}
			return
		}
	})
}

// recognized reports whether the object looks like a CloudTrail record: it
// has at least one member every CloudTrail record (management, data, network
// activity, Insights) carries.
func (r *record) recognized() bool {
	t := &r.top
	return t[mEventVersion] != nil || t[mEventID] != nil || t[mEventName] != nil ||
		t[mEventSource] != nil || t[mEventType] != nil || t[mUserIdentity] != nil
}

// is reports whether v is present and of type t.
func is(v *fastjson.Value, t fastjson.Type) bool { return v != nil && v.Type() == t }

// get is v's member named name when v is an object, else nil.
func get(v *fastjson.Value, name string) *fastjson.Value {
	if !is(v, fastjson.TypeObject) {
		return nil
	}
	return v.Get(name)
}

// text returns a scalar as text: a string unescaped, a number as written,
// true or false; anything else nil. The text is valid until the next parse.
func (sc *scratch) text(v *fastjson.Value) []byte {
	if v == nil {
		return nil
	}
	switch v.Type() {
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		return b
	case fastjson.TypeNumber:
		sc.num = v.MarshalTo(sc.num[:0])
		return sc.num
	case fastjson.TypeTrue:
		return trueText
	case fastjson.TypeFalse:
		return falseText
	}
	return nil
}

var trueText, falseText = []byte("true"), []byte("false")

// str is sc.text as a string (see keep).
func (sc *scratch) str(v *fastjson.Value) string { return sc.keep(sc.text(v)) }

// join is the parts joined, as a string in the arena (see keep).
func (sc *scratch) join(parts ...string) string { return sc.keep(appendAll(sc.buf[:0], parts...)) }

// boolean reads true/false or the strings "true"/"false" in any case into
// *dst and returns dst, or nil when v is neither.
func (sc *scratch) boolean(v *fastjson.Value, dst *bool) *bool {
	// As CloudTrail writes them first: folding costs more.
	switch b := sc.text(v); {
	case string(b) == "true", string(b) == "false", bytes.EqualFold(b, trueText), bytes.EqualFold(b, falseText):
		*dst = len(b) == len("true")
		return dst
	}
	return nil
}

// appendCompact appends a JSON member as compact text: an object or array as
// JSON, a string as its text (some exporters JSON-encode requestParameters
// into a string), a number or boolean as written, null or nothing as nothing.
func (sc *scratch) appendCompact(b []byte, v *fastjson.Value) []byte {
	if is(v, fastjson.TypeObject) || is(v, fastjson.TypeArray) {
		return v.MarshalTo(b)
	}
	return append(b, sc.text(v)...)
}

// activity builds the activity of a recognized record.
func (r *record) activity(sc *scratch, origin *activity.Origin, fallback time.Time) *activity.Activity {
	blk := sc.newBlock()
	actor := r.actor(sc, &blk.actor, &blk.mfa)
	actor.SourceIP = sc.str(r.top[mSourceIP])
	actor.UserAgent = sc.str(r.top[mUserAgent])

	act := &blk.action
	*act = activity.Action{
		Service:      sc.str(r.top[mEventSource]),
		Name:         sc.str(r.top[mEventName]),
		ReadOnly:     sc.boolean(r.top[mReadOnly], &blk.readOnly),
		ErrorCode:    sc.str(r.top[mErrorCode]),
		ErrorMessage: sc.str(r.top[mErrorMessage]),
	}
	// Insights events name the call they measure inside insightDetails.
	insight := r.top[mInsightDetails]
	if act.Service == "" {
		act.Service = sc.str(get(insight, "eventSource"))
	}
	if act.Name == "" {
		act.Name = sc.str(get(insight, "eventName"))
	}
	consoleFailure := r.consoleSignInFailure(sc, act)
	act.Outcome = outcome(act.ErrorCode, consoleFailure)

	eventID, eventTime := sc.str(r.top[mEventID]), sc.str(r.top[mEventTime])
	at, ok := parseTime(eventTime)
	if !ok {
		at = fallback
	}
	region := sc.str(r.top[mAWSRegion])
	a := &blk.activity
	*a = activity.Activity{
		SchemaVersion: activity.SchemaVersion,
		ID:            eventID,
		Source:        SourceName,
		Severity:      severity(actor.Type, act, consoleFailure),
		Time:          at,
		Account:       activity.Account{ID: cmp.Or(sc.str(r.top[mRecipient]), actor.AccountID)},
		Region:        region,
		Actor:         actor,
		Action:        act,
		Resources:     r.resourceList(sc),
		Origin:        origin,
	}
	// The subject, the console link and the request parameters' text are
	// built in one buffer and take one allocation together.
	isInsight, state := is(insight, fastjson.TypeObject), ""
	if isInsight {
		state = sc.str(insight.Get("state"))
	}
	text := appendSubject(sc.buf[:0], actor, act, consoleFailure, isInsight, state)
	subjectEnd := len(text)
	text, hasLink := appendEventLink(text, region, eventID, actor.ARN)
	linkEnd := len(text)
	text = sc.appendCompact(text, r.top[mRequestParameters])
	sc.buf = text
	all := sc.keep(text)
	a.Subject = activity.Truncate(all[:subjectEnd], maxSubjectRunes)

	if r.top[mOmitted] != nil || get(r.top[mRequestParameters], "omitted") != nil || get(r.top[mResponseElements], "omitted") != nil {
		a.Tags = append(a.Tags, TagOmitted)
	}
	a.Fields, a.Truncated = r.fields(sc, blk.fields[:0], a, eventTime, ok, all[linkEnd:])
	if hasLink {
		blk.links[0] = activity.Link{Title: "CloudTrail event history", URL: all[subjectEnd:linkEnd]}
		a.Links = blk.links[:]
	}
	return a
}

// consoleSignInFailure reports a failed console sign-in: ConsoleLogin whose
// responseElements say "Failure" (CloudTrail sets errorMessage, not
// errorCode, for these).
func (r *record) consoleSignInFailure(sc *scratch, act *activity.Action) bool {
	if act.Name != "ConsoleLogin" {
		return false
	}
	resp := r.top[mResponseElements]
	if string(sc.text(get(resp, "ConsoleLogin"))) == "Failure" || is(resp, fastjson.TypeString) && bytes.Contains(sc.text(resp), []byte(`"Failure"`)) {
		return true
	}
	return act.ErrorMessage != "" || (act.ErrorCode != "" && !successCode(act.ErrorCode))
}

func (r *record) resourceList(sc *scratch) []activity.Resource {
	if !is(r.top[mResources], fastjson.TypeArray) {
		return nil
	}
	items, _ := r.top[mResources].Array()
	var out []activity.Resource
	for _, it := range items {
		if !is(it, fastjson.TypeObject) {
			continue
		}
		res := activity.Resource{Type: sc.str(it.Get("type")), ARN: sc.str(it.Get("ARN")), AccountID: sc.str(it.Get("accountId"))}
		if res.ARN == "" {
			res.ARN = sc.str(it.Get("arn"))
		}
		if res != (activity.Resource{}) {
			out = append(out, res)
		}
	}
	return out
}

// fields builds the display fields in the original system's order, extended;
// it reports whether a value was cut.
func (r *record) fields(sc *scratch, fs []activity.Field, a *activity.Activity, eventTime string, timeOK bool, requestParameters string) ([]activity.Field, bool) {
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
		add("Time", sc.formatTime(a.Time, eventTime))
	} else {
		add("Time", eventTime)
	}
	add("Region", a.Region)
	add("Recipient Account ID", sc.str(r.top[mRecipient]))
	add("User Account ID", a.Actor.AccountID)
	add("Username", cmp.Or(sc.str(r.identity[iUserName]), a.Actor.Name))
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
	return len(code) == 3 && (code[0] == '2' || code[0] == '3') && '0' <= code[1] && code[1] <= '9' && '0' <= code[2] && code[2] <= '9'
}

// trailTampering are the CloudTrail calls that stop or narrow logging.
var trailTampering = map[string]bool{"StopLogging": true, "DeleteTrail": true, "UpdateTrail": true, "PutEventSelectors": true}

// severity applies the package's severity table, the most urgent row first.
func severity(actorType string, act *activity.Action, consoleFailure bool) activity.Severity {
	switch {
	case actorType == "Root", trailTampering[act.Name] && (act.Service == "cloudtrail.amazonaws.com" || act.Service == ""):
		return activity.High
	case act.Outcome == activity.Denied, consoleFailure:
		return activity.Medium
	}
	return activity.Info
}

// shortService is eventSource without its domain: "iam.amazonaws.com" → "iam".
func shortService(service string) string {
	if i := strings.IndexByte(service, '.'); i > 0 {
		return service[:i]
	}
	return cmp.Or(service, "unknown")
}

// appendSubject appends the one line a human reads first, e.g.
// "Access denied: IAMUser alice → iam:GetPolicy".
func appendSubject(b []byte, actor *activity.Actor, act *activity.Action, consoleFailure, insight bool, insightState string) []byte {
	name, service := cmp.Or(act.Name, "unknown"), shortService(act.Service)
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
// is already written so, as CloudTrail writes it, else a string in the arena.
func (sc *scratch) formatTime(t time.Time, eventTime string) string {
	var buf [len(time.RFC3339) + 8]byte
	b := t.UTC().AppendFormat(buf[:0], time.RFC3339)
	if string(b) == eventTime {
		return eventTime
	}
	return sc.keep(b)
}

// parseTime reads the eventTime formats found in real data: RFC 3339 with
// any fraction, "2006-01-02 15:04:05" with or without fraction or "Z" (UTC),
// in the one layout that can fit (a failed parse allocates its error).
func parseTime(s string) (time.Time, bool) {
	if len(s) <= 10 || (s[10] != ' ' && s[10] != 'T') {
		return time.Time{}, false
	}
	i := strings.IndexByte(" T", s[10])
	if strings.ContainsAny(s[10:], "Z+-") {
		i += 2 // zoned
	}
	t, err := time.Parse([...]string{"2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02 15:04:05Z", time.RFC3339}[i], s)
	return t.UTC(), err == nil && !t.IsZero()
}

// appendEventLink appends the URL of the CloudTrail console's event-history
// link for the event, in the event's region, on the console of the partition
// (from the region, else from the actor's ARN), and reports whether there is
// one: without an event id or a well-formed region there is none.
func appendEventLink(b []byte, region, id, arn string) ([]byte, bool) {
	if id == "" || !awsevents.ValidRegion(region) {
		return b, false
	}
	// A valid region needs no query escaping; the id may need path escaping.
	frag := url.PathEscape(id)
	switch awsevents.Partition(region, arn) {
	case "aws-us-gov":
		return appendAll(b, "https://console.amazonaws-us-gov.com/cloudtrail/home?region=", region, "#/events/", frag), true
	case "aws-cn":
		return appendAll(b, "https://console.amazonaws.cn/cloudtrail/home?region=", region, "#/events/", frag), true
	}
	return appendAll(b, "https://", region, ".console.aws.amazon.com/cloudtrailv2/home?region=", region, "#/events/", frag), true
}
