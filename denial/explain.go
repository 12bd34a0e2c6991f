// Package denial explains denied AWS calls for the two readers of a denial:
// the engineer who asks which permission to add, and the security reader who
// asks whether a guardrail held. From a CloudTrail activity it derives the IAM
// action evaluated, the resource, the reason class AWS's access-denied message
// states and, when an Allow would have fixed the call, the statement to add;
// Suggest merges many of those into one least-privilege policy document.
package denial

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"regexp"
	"strings"
	"unsafe"

	"github.com/valyala/fastjson"

	"github.com/activity-aware/ids/activity"
)

// AnyResource is the resource of a permission when none is known: the
// statement would grant the action on every resource, and says so plainly.
const AnyResource = "*"

// deniedCodes are the error codes AWS services return for an authorization
// failure, in lower case.
var deniedCodes = map[string]bool{
	"accessdenied":                 true,
	"accessdeniedexception":        true,
	"unauthorizedoperation":        true,
	"client.unauthorizedoperation": true,
	"unauthorizedaccess":           true,
	"unauthorizedexception":        true,
	"authorizationerror":           true,
	"authorizationerrorexception":  true,
	"forbidden":                    true,
	"forbiddenexception":           true,
	"vpceaccessdenied":             true,
	"notauthorized":                true,
	"notauthorizedexception":       true,
}

// IsDenial reports whether an error code or message is an authorization
// failure: a known denial code (AccessDenied, Client.UnauthorizedOperation,
// VpceAccessDenied, …) or AWS's "is not authorized to perform" wording.
func IsDenial(errorCode, errorMessage string) bool {
	if deniedCodes[strings.ToLower(strings.TrimSpace(errorCode))] {
		return true
	}
	return strings.Contains(toLower(errorMessage), "not authorized to perform:")
}

// ones and highs are the byte-wise constants of the eight-bytes-at-a-time
// loops (toLower, singleSpaced): 0x01 and 0x80 in every byte.
const ones, highs = 0x0101010101010101, 0x8080808080808080

// toLower is strings.ToLower, eight bytes at a time for ASCII text: the
// explanation lowers every denial's message, and EC2's carry a kilobyte of
// encoded authorization message. Like strings.ToLower, it returns s itself
// when s has no upper-case letter.
func toLower(s string) string {
	src := unsafe.Slice(unsafe.StringData(s), len(s)) // only read
	var b []byte                                      // made at the first upper-case letter
	i := 0
	for ; i+8 <= len(s); i += 8 {
		x := binary.LittleEndian.Uint64(src[i:])
		if x&highs != 0 {
			return strings.ToLower(s)
		}
		// The high bit of each byte: at least 'A' and not above 'Z'.
		upper := (x + (0x80-'A')*ones) &^ (x + (0x80-'Z'-1)*ones) & highs
		if upper != 0 && b == nil {
			b = withPrefix(s, i)
		}
		if b != nil {
			binary.LittleEndian.PutUint64(b[i:], x|upper>>2)
		}
	}
	for ; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 {
			return strings.ToLower(s)
		}
		if 'A' <= c && c <= 'Z' {
			if b == nil {
				b = withPrefix(s, i)
			}
			c += 'a' - 'A'
		}
		if b != nil {
			b[i] = c
		}
	}
	if b == nil {
		return s
	}
	return unsafe.String(unsafe.SliceData(b), len(b)) // b is not written again
}

// withPrefix returns a slice of len(s) bytes holding s[:i], for toLower to
// write the rest into.
func withPrefix(s string, i int) []byte {
	b := make([]byte, len(s))
	copy(b, s[:i])
	return b
}

// encodedMessage finds the encoded authorization failure message.
var encodedMessage = regexp.MustCompile(`(?i)encoded authorization failure message:\s*([A-Za-z0-9_\-+/=]+)`)

// EncodedMessage returns the encoded authorization failure message in an
// error message (EC2's "Encoded authorization failure message: …"), the input
// of sts:DecodeAuthorizationMessage.
func EncodedMessage(errorMessage string) (string, bool) {
	from, ok := fromPhrase(errorMessage, toLower(errorMessage), encodedPhrase)
	if !ok {
		return "", false
	}
	m := encodedMessage.FindStringSubmatch(from)
	if m == nil {
		return "", false
	}
	return m[1], true
}

// stated is what an access-denied message says.
type stated struct {
	action   string
	resource string
	reason   string
	encoded  bool
}

// parseMessage reads the action, resource and reason class from an
// access-denied message. Missing parts are empty.
func parseMessage(msg string) stated {
	var s stated
	lower := toLower(msg)
	if from, ok := fromPhrase(msg, lower, notAuthorized); !ok {
		// Nothing for statedIn to find; skip its scan.
	} else if m, ok := statedIn(from); ok {
		s.action = normalizeAction(m.action)
		res := m.quoted
		if res == "" {
			// A sentence may end right after the resource.
			res = strings.TrimRight(m.arn+m.other, ".,;")
		}
		if isARN(res) || res == AnyResource {
			s.resource = res
		}
	}
	if i := strings.Index(lower, encodedPhrase); i >= 0 {
		// What encodedMessage requires after the phrase: a character of
		// the encoding, after any spaces.
		rest := strings.TrimLeft(lower[i+len(encodedPhrase):], " \t\n\r\f")
		s.encoded = rest != "" && strings.IndexByte(encodingChars, rest[0]) >= 0
	}
	s.reason = classifyLower(lower)
	return s
}

// encodedPhrase introduces an encoded authorization failure message, and
// encodingChars are the characters of one.
const (
	encodedPhrase = "encoded authorization failure message:"
	encodingChars = "abcdefghijklmnopqrstuvwxyz0123456789_-+/="
)

// fromPhrase returns s from the first place its lower-case form lower holds
// phrase (all of s when lowering changed its length), and whether it does: a
// search that must match the phrase first then scans less.
func fromPhrase(s, lower, phrase string) (string, bool) {
	i := strings.Index(lower, phrase)
	switch {
	case i < 0:
		return "", false
	case len(lower) != len(s):
		return s, true
	}
	return s[i:], true
}

// normalizeAction lower-cases the service prefix ("SNS:Publish" →
// "sns:Publish"): IAM matches actions case-insensitively, and one spelling
// lets Suggest deduplicate.
func normalizeAction(a string) string {
	prefix, name, ok := strings.Cut(a, ":")
	if !ok {
		return a
	}
	return strings.ToLower(prefix) + ":" + name
}

func isARN(s string) bool {
	parts := strings.SplitN(s, ":", 6)
	return len(parts) == 6 && parts[0] == "arn" && parts[1] != "" && parts[2] != ""
}

// validBucket matches S3 bucket names (general purpose buckets' rules).
var validBucket = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

// Explain says what permission a denied call lacked and why: the IAM action
// (from the message where AWS states it, else from the event source and
// name), the resource (from the message, the activity's resources or, for S3,
// the bucket and key requested; else AnyResource), the reason class and, when
// an Allow would have fixed it, the statement to add. rec is the original
// record as the source parsed it, read for what the activity does not carry;
// it may be nil. Explain returns nil when the activity is not a denial, having
// read nothing of rec unless the activity has no action to go by.
func Explain(a *activity.Activity, rec *fastjson.Value) *activity.Permission {
	if a == nil {
		return nil
	}
	var service, name, code, msg string
	outcome := activity.Outcome("")
	if act := a.Action; act != nil {
		service, name, code, msg, outcome = act.Service, act.Name, act.ErrorCode, act.ErrorMessage, act.Outcome
	} else {
		service, name = memberText(rec, "eventSource"), memberText(rec, "eventName")
		code, msg = memberText(rec, "errorCode"), memberText(rec, "errorMessage")
	}
	if outcome != activity.Denied && !IsDenial(code, msg) {
		return nil
	}

	s := parseMessage(msg)
	p := &activity.Permission{Action: s.action, Resource: s.resource, Encoded: s.encoded}
	if p.Action == "" {
		p.Action = IAMAction(service, name)
	}
	if p.Resource == "" {
		p.Resource = resourceOf(a, parameters(rec), p.Action)
	}
	p.Reason = s.reason
	switch {
	case p.Reason != "":
	case strings.EqualFold(code, "VpceAccessDenied"):
		p.Reason = ReasonVPCEndpointPolicy
	case s.encoded:
		p.Reason = ReasonEncoded
	default:
		p.Reason = ReasonUnknown
	}
	class := reasonClasses[p.Reason]
	p.ReasonText = class.text
	p.Guardrail = class.guardrail
	p.Fixable = class.fixable && p.Action != ""
	if p.Reason == ReasonUnknown && strings.HasPrefix(p.Action, "s3:") && p.Resource != "" && p.Resource != AnyResource {
		// S3 answers a bare "Access Denied" whatever refused the call; the
		// most common cause is that no policy allows it, so the statement is
		// suggested, marked as the reason AWS did not state (ReasonNotStated).
		// Only for a named bucket or object: a guess is never a grant on
		// every resource.
		p.Fixable = true
	}
	if p.Fixable {
		p.Statement = allowStatement(p.Action, statementResource(p))
	}
	return p
}

// member returns the member of object v named name, matched as
// encoding/json matches names: exactly, else in any case; nil when v is not
// an object or has no such member.
func member(v *fastjson.Value, name string) *fastjson.Value {
	if v == nil || v.Type() != fastjson.TypeObject {
		return nil
	}
	if m := v.Get(name); m != nil {
		return m
	}
	var found *fastjson.Value
	o, _ := v.Object()
	o.Visit(func(k []byte, m *fastjson.Value) {
		if found == nil && strings.EqualFold(string(k), name) {
			found = m
		}
	})
	return found
}

// memberText is member's text when it is a string, else "".
func memberText(v *fastjson.Value, name string) string {
	m := member(v, name)
	if m == nil || m.Type() != fastjson.TypeString {
		return ""
	}
	return string(m.GetStringBytes())
}

// parameters returns the record's requestParameters as an object, parsing
// it when an export JSON-encoded it into a string; nil when it is neither.
func parameters(rec *fastjson.Value) *fastjson.Value {
	v := member(rec, "requestParameters")
	if v != nil && v.Type() == fastjson.TypeString {
		v, _ = fastjson.ParseBytes(v.GetStringBytes())
	}
	if v == nil || v.Type() != fastjson.TypeObject {
		return nil
	}
	return v
}

// allowStatement is the IAM statement that allows action on resource.
func allowStatement(action, resource string) json.RawMessage {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(struct {
		Effect   string `json:"Effect"`
		Action   string `json:"Action"`
		Resource string `json:"Resource"`
	}{"Allow", action, resource})
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// resourceOf picks the resource of a denial the message does not name: the
// activity's resource ARN (for S3, the object for an object action and the
// bucket otherwise), else the one ARN of the action's service in the request
// parameters, or the bucket and key S3 was asked for, else AnyResource.
func resourceOf(a *activity.Activity, params *fastjson.Value, action string) string {
	prefix, op, _ := strings.Cut(action, ":")
	if prefix != "s3" {
		for _, r := range a.Resources {
			if isARN(r.ARN) {
				return r.ARN
			}
		}
		if arn := parameterARN(params, prefix); arn != "" {
			return arn
		}
		return AnyResource
	}
	object := s3ObjectAction(op)
	for _, r := range a.Resources {
		if !isARN(r.ARN) {
			continue
		}
		isObject := strings.Contains(strings.TrimPrefix(r.ARN, "arn:"), "/")
		if isObject == object && strings.Contains(r.ARN, ":s3:::") {
			return r.ARN
		}
	}
	if op == "ListAllMyBuckets" {
		return AnyResource
	}
	bucket, key := memberText(params, "bucketName"), memberText(params, "key")
	if !validBucket.MatchString(bucket) {
		return AnyResource
	}
	arn := "arn:" + partition(a) + ":s3:::" + bucket
	if !object {
		return arn
	}
	if key == "" {
		return AnyResource
	}
	return arn + "/" + key
}

// parameterARN returns the one ARN of the action's own service among the
// top-level request parameters (resourceArn, secretId, keyId, …), or "" when
// there is none or more than one.
func parameterARN(params *fastjson.Value, service string) string {
	if service == "" || params == nil {
		return ""
	}
	found, many := "", false
	o, _ := params.Object()
	o.Visit(func(_ []byte, v *fastjson.Value) {
		if v.Type() != fastjson.TypeString {
			return
		}
		s := string(v.GetStringBytes())
		if !isARN(s) || strings.SplitN(s, ":", 4)[2] != service {
			return
		}
		many = many || found != "" && found != s
		found = s
	})
	if many {
		return ""
	}
	return found
}

// s3ObjectAction reports whether an S3 action applies to objects rather than
// buckets.
func s3ObjectAction(op string) bool {
	switch op {
	case "AbortMultipartUpload", "ListMultipartUploadParts", "RestoreObject":
		return true
	}
	return strings.Contains(op, "Object") && !strings.Contains(op, "LockConfiguration") && !strings.HasPrefix(op, "ListBucket")
}

// partition is the AWS partition of the activity: the actor's ARN's, else the
// region's.
func partition(a *activity.Activity) string {
	if a.Actor != nil && isARN(a.Actor.ARN) {
		return strings.SplitN(a.Actor.ARN, ":", 3)[1]
	}
	switch {
	case strings.HasPrefix(a.Region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(a.Region, "us-gov-"):
		return "aws-us-gov"
	}
	return "aws"
}

// Enricher adds the permission explanation to denied activities. It is the
// CloudTrail source's enrichment hook.
type Enricher struct{}

// Enrich sets a.Permission when a is a denial; other activities are left
// as they are. rec is the record as the source parsed it.
func (Enricher) Enrich(a *activity.Activity, _ []byte, rec *fastjson.Value) {
	if p := Explain(a, rec); p != nil {
		a.Permission = p
	}
}
