package cloudtrail

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"

	"github.com/valyala/fastjson"

	"github.com/activity-aware/ids/activity"
)

// kind is the JSON type of a member, or kindAbsent.
type kind uint8

const (
	kindAbsent kind = iota
	kindNull
	kindString
	kindNumber
	kindTrue
	kindFalse
	kindObject
	kindArray
)

// member is one member of a record as the source reads it, whichever reader
// read it: its kind and, for a string, its unescaped text, for a number its
// text as written. The text may point into the record, a parser or the
// scratch; it is valid until the scratch reads the next record.
type member struct {
	kind kind
	text []byte
}

// Indexes of the record members the source reads (members.rec), matched
// case-insensitively by recordMember.
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

// recordMember returns the index of the record member named k (in any
// case), or -1.
func recordMember(k []byte) int {
	var buf [24]byte
	if len(k) > len(buf) {
		return -1
	}
	switch string(lowerASCII(buf[:], k)) {
	case "eventversion":
		return mEventVersion
	case "eventtime":
		return mEventTime
	case "eventsource":
		return mEventSource
	case "eventname":
		return mEventName
	case "eventid":
		return mEventID
	case "eventtype":
		return mEventType
	case "awsregion":
		return mAWSRegion
	case "sourceipaddress":
		return mSourceIP
	case "useragent":
		return mUserAgent
	case "errorcode":
		return mErrorCode
	case "errormessage":
		return mErrorMessage
	case "readonly":
		return mReadOnly
	case "recipientaccountid":
		return mRecipient
	case "useridentity":
		return mUserIdentity
	case "requestparameters":
		return mRequestParameters
	case "responseelements":
		return mResponseElements
	case "resources":
		return mResources
	case "insightdetails":
		return mInsightDetails
	case "omitted":
		return mOmitted
	}
	return -1
}

// Indexes of the userIdentity members the source reads (members.id), matched
// case-insensitively by identityMember.
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

// identityMember returns the index of the userIdentity member named k (in
// any case), or -1.
func identityMember(k []byte) int {
	var buf [24]byte
	if len(k) > len(buf) {
		return -1
	}
	switch string(lowerASCII(buf[:], k)) {
	case "type":
		return iType
	case "principalid":
		return iPrincipalID
	case "arn":
		return iARN
	case "accountid":
		return iAccountID
	case "accesskeyid", "acceskeyid": // the misspelling occurs in exported data
		return iAccessKeyID
	case "username":
		return iUserName
	case "invokedby":
		return iInvokedBy
	case "sessioncontext":
		return iSessionContext
	case "identityprovider":
		return iIdentityProvider
	case "onbehalfof":
		return iOnBehalfOf
	}
	return -1
}

// Members of nested objects, matched exactly (the first of a name wins), in
// the order of their arrays in members.
var (
	issuerNames     = []string{"arn", "userName"}
	attributeNames  = []string{"mfaAuthenticated"}
	onBehalfOfNames = []string{"userId"}
	insightNames    = []string{"eventSource", "eventName", "state"}
	responseNames   = []string{"ConsoleLogin", "omitted"}
	requestNames    = []string{"omitted"}
	resourceNames   = []string{"type", "ARN", "accountId", "arn"}
)

// members is everything the source reads from one record: the record's
// members (first occurrence in any case), userIdentity's members when it is
// an object (likewise) and a few members of nested objects (exact names).
// For an object or array only the kind is kept, except requestParameters,
// whose text is its compact JSON (as appendCompact writes it).
type members struct {
	rec        [nRecordMembers]member
	id         [nIdentityMembers]member
	issuer     [2]member // sessionContext.sessionIssuer: arn, userName
	attributes [1]member // sessionContext.attributes: mfaAuthenticated
	onBehalfOf [1]member // onBehalfOf: userId
	insight    [3]member // insightDetails: eventSource, eventName, state
	response   [2]member // responseElements: ConsoleLogin, omitted
	request    [1]member // requestParameters: omitted
	// resources holds the members of each object of resources[], in order.
	resources [][4]member
	// hashID is the record's fallback id when it has no eventID and came
	// without a log event id (general reader only; the one-pass reader
	// leaves such records to it).
	hashID string
}

// reset empties m, keeping its resources' storage.
func (m *members) reset() {
	*m = members{resources: m.resources[:0]}
}

// recognized reports whether the object looks like a CloudTrail record: it
// has at least one member every CloudTrail record (management, data, network
// activity, Insights) carries.
func (m *members) recognized() bool {
	return m.rec[mEventVersion].kind != kindAbsent || m.rec[mEventID].kind != kindAbsent ||
		m.rec[mEventName].kind != kindAbsent || m.rec[mEventSource].kind != kindAbsent ||
		m.rec[mEventType].kind != kindAbsent || m.rec[mUserIdentity].kind != kindAbsent
}

// str returns a scalar member as text, interned: strings unescaped, numbers
// and booleans as written, anything else "".
func (sc *scratch) str(m *member) string {
	switch m.kind {
	case kindString, kindNumber:
		return sc.intern(m.text)
	case kindTrue:
		return "true"
	case kindFalse:
		return "false"
	}
	return ""
}

// plainStr is sc.str not interned, for values unique to a record, such as
// eventID.
func plainStr(m *member) string {
	switch m.kind {
	case kindString, kindNumber:
		return string(m.text)
	case kindTrue:
		return "true"
	case kindFalse:
		return "false"
	}
	return ""
}

// hasText reports whether plainStr(m) would not be "".
func hasText(m *member) bool {
	switch m.kind {
	case kindString, kindNumber:
		return len(m.text) > 0
	case kindTrue, kindFalse:
		return true
	}
	return false
}

// boolean reads true/false or the strings "true"/"false" in any case into
// *dst and returns dst, or nil when m is neither.
func boolean(m *member, dst *bool) *bool {
	switch m.kind {
	case kindTrue:
		*dst = true
	case kindFalse:
		*dst = false
	case kindString:
		switch {
		case bytes.EqualFold(m.text, []byte("true")):
			*dst = true
		case bytes.EqualFold(m.text, []byte("false")):
			*dst = false
		default:
			return nil
		}
	default:
		return nil
	}
	return dst
}

// record holds the members of a CloudTrail record parsed by fastjson, the
// general reader, which reads any JSON the one-pass reader leaves to it.
type record struct {
	vals [nRecordMembers]*fastjson.Value
	sc   *scratch
}

// read fills m from the parsed record v, reading the members in the order
// the fallback id's hash expects (fastjson rewrites a string's escaping once
// it has been read).
func (r *record) read(m *members, v *fastjson.Value, origin *activity.Origin) {
	if o, err := v.Object(); err == nil {
		o.Visit(func(k []byte, v *fastjson.Value) {
			if i := recordMember(k); i >= 0 && r.vals[i] == nil {
				r.vals[i] = v
			}
		})
	}
	sc := r.sc
	r.readIdentity(m)
	for i, v := range r.vals {
		switch i {
		case mUserIdentity, mRequestParameters:
			m.rec[i].kind = kindOf(v)
		default:
			m.rec[i] = sc.member(v)
		}
	}
	if v := r.vals[mInsightDetails]; kindOf(v) == kindObject {
		sc.pick(v, insightNames, m.insight[:])
	}
	if v := r.vals[mResponseElements]; kindOf(v) == kindObject {
		sc.pick(v, responseNames, m.response[:])
	}
	if v := r.vals[mResources]; kindOf(v) == kindArray {
		items, _ := v.Array()
		for _, it := range items {
			if it.Type() == fastjson.TypeObject {
				m.resources = append(m.resources, [4]member{})
				sc.pick(it, resourceNames, m.resources[len(m.resources)-1][:])
			}
		}
	}
	if !hasText(&m.rec[mEventID]) && (origin == nil || origin.LogEventID == "") {
		m.hashID = r.hashID()
	}
	if v := r.vals[mRequestParameters]; v != nil {
		start := len(sc.vals)
		sc.vals = sc.appendCompact(sc.vals, v)
		m.rec[mRequestParameters].text = sc.vals[start:]
		if v.Type() == fastjson.TypeObject {
			sc.pick(v, requestNames, m.request[:])
		}
	}
}

// readIdentity fills m's identity members from userIdentity when it is an
// object.
func (r *record) readIdentity(m *members) {
	v := r.vals[mUserIdentity]
	if kindOf(v) != kindObject {
		return
	}
	var vals [nIdentityMembers]*fastjson.Value
	o, _ := v.Object()
	o.Visit(func(k []byte, v *fastjson.Value) {
		if i := identityMember(k); i >= 0 && vals[i] == nil {
			vals[i] = v
		}
	})
	sc := r.sc
	for i, v := range vals {
		switch i {
		case iSessionContext, iOnBehalfOf:
			m.id[i].kind = kindOf(v)
		case iIdentityProvider:
			// Read (and so re-escaped by fastjson, which the fallback id
			// hashes) only where the actor's name uses it.
		default:
			m.id[i] = sc.member(v)
		}
	}
	typ := plainStr(&m.id[iType])
	named := plainStr(&m.id[iUserName]) != ""
	if (typ == "SAMLUser" || typ == "WebIdentityUser") && named {
		m.id[iIdentityProvider] = sc.member(vals[iIdentityProvider])
	}
	if s := vals[iSessionContext]; kindOf(s) == kindObject {
		if is := s.Get("sessionIssuer"); kindOf(is) == kindObject {
			sc.pick(is, issuerNames, m.issuer[:])
		}
		if at := s.Get("attributes"); kindOf(at) == kindObject {
			sc.pick(at, attributeNames, m.attributes[:])
		}
	}
	if ob := vals[iOnBehalfOf]; kindOf(ob) == kindObject && typ == "IdentityCenterUser" && !named {
		sc.pick(ob, onBehalfOfNames, m.onBehalfOf[:])
	}
}

// hashID derives a stable id for a record without eventID from the members
// that identify the call.
func (r *record) hashID() string {
	h := sha256.New()
	for _, i := range []int{mEventTime, mEventSource, mEventName, mUserIdentity, mSourceIP, mRequestParameters} {
		if v := r.vals[i]; v != nil {
			h.Write(v.MarshalTo(nil))
		}
		h.Write([]byte{0})
	}
	return "record-" + hex.EncodeToString(h.Sum(nil)[:16])
}

// pick reads the members of object v named names into dst.
func (sc *scratch) pick(v *fastjson.Value, names []string, dst []member) {
	for i, name := range names {
		dst[i] = sc.member(v.Get(name))
	}
}

// kindOf is the kind of a parsed value.
func kindOf(v *fastjson.Value) kind {
	if v == nil {
		return kindAbsent
	}
	switch v.Type() {
	case fastjson.TypeString:
		return kindString
	case fastjson.TypeNumber:
		return kindNumber
	case fastjson.TypeTrue:
		return kindTrue
	case fastjson.TypeFalse:
		return kindFalse
	case fastjson.TypeObject:
		return kindObject
	case fastjson.TypeArray:
		return kindArray
	}
	return kindNull
}

// member reads a parsed value as a member; a number's text goes to sc.vals.
func (sc *scratch) member(v *fastjson.Value) member {
	m := member{kind: kindOf(v)}
	switch m.kind {
	case kindString:
		m.text, _ = v.StringBytes()
	case kindNumber:
		start := len(sc.vals)
		sc.vals = v.MarshalTo(sc.vals)
		m.text = sc.vals[start:]
	}
	return m
}
