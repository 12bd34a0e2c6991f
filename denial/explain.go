// Package denial explains denied AWS calls for the two readers of a denial:
// the engineer who asks which permission to add, and the security reader who
// asks whether a guardrail held. From a CloudTrail activity it derives the IAM
// action evaluated, the resource, the reason class AWS's access-denied message
// states and, when an Allow would have fixed the call, the statement to add;
// Suggest merges many of those into one least-privilege policy document.
package denial

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"

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
	return strings.Contains(strings.ToLower(errorMessage), "not authorized to perform:")
}

var (
	// statedAction finds the action and resource in AWS's wording: "is not
	// authorized to perform: iam:GetPolicy on resource: arn:…", S3's quoted
	// resource, IAM's typed one ("on resource: policy arn:…") and STS's "Not
	// authorized to perform sts:AssumeRoleWithWebIdentity".
	statedAction = regexp.MustCompile(`(?i)not authorized to perform:?\s+([a-z0-9-]+:[a-z0-9*]+)(?:\s+on\s+resource:?\s+(?:"([^"]*)"|(?:[a-z-]+\s+)?(arn:\S+)|(\S+)))?`)
	// encodedMessage finds the encoded authorization failure message.
	encodedMessage = regexp.MustCompile(`(?i)encoded authorization failure message:\s*([A-Za-z0-9_\-+/=]+)`)
)

// EncodedMessage returns the encoded authorization failure message in an
// error message (EC2's "Encoded authorization failure message: …"), the input
// of sts:DecodeAuthorizationMessage.
func EncodedMessage(errorMessage string) (string, bool) {
	m := encodedMessage.FindStringSubmatch(errorMessage)
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
	if m := statedAction.FindStringSubmatch(msg); m != nil {
		s.action = normalizeAction(m[1])
		res := m[2]
		if res == "" {
			// A sentence may end right after the resource.
			res = strings.TrimRight(m[3]+m[4], ".,;")
		}
		if isARN(res) || res == AnyResource {
			s.resource = res
		}
	}
	_, s.encoded = EncodedMessage(msg)
	s.reason = classify(msg)
	return s
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

// record holds the members of a raw CloudTrail record Explain reads beyond the
// activity. encoding/json matches member names case-insensitively, which
// covers exports with lower-case keys.
type record struct {
	EventSource       string          `json:"eventSource"`
	EventName         string          `json:"eventName"`
	ErrorCode         string          `json:"errorCode"`
	ErrorMessage      string          `json:"errorMessage"`
	RequestParameters json.RawMessage `json:"requestParameters"`
}

// s3Request is the part of S3's requestParameters that names the resource.
type s3Request struct {
	BucketName string `json:"bucketName"`
	Key        string `json:"key"`
}

// validBucket matches S3 bucket names (general purpose buckets' rules).
var validBucket = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

// Explain says what permission a denied call lacked and why: the IAM action
// (from the message where AWS states it, else from the event source and
// name), the resource (from the message, the activity's resources or, for S3,
// the bucket and key requested; else AnyResource), the reason class and, when
// an Allow would have fixed it, the statement to add. raw is the original
// record, used for what the activity does not carry; it may be nil. Explain
// returns nil when the activity is not a denial.
func Explain(a *activity.Activity, raw []byte) *activity.Permission {
	if a == nil {
		return nil
	}
	var rec record
	if len(raw) > 0 {
		// A record that does not decode still has its activity to go by.
		_ = json.Unmarshal(raw, &rec)
	}
	service, name, code, msg, outcome := rec.EventSource, rec.EventName, rec.ErrorCode, rec.ErrorMessage, activity.Outcome("")
	if act := a.Action; act != nil {
		service = firstNonEmpty(act.Service, service)
		name = firstNonEmpty(act.Name, name)
		code = firstNonEmpty(act.ErrorCode, code)
		msg = firstNonEmpty(act.ErrorMessage, msg)
		outcome = act.Outcome
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
		p.Resource = resourceOf(a, &rec, p.Action)
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
	if p.Fixable {
		p.Statement = allowStatement(p.Action, p.Resource)
	}
	return p
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
func resourceOf(a *activity.Activity, rec *record, action string) string {
	prefix, op, _ := strings.Cut(action, ":")
	if prefix != "s3" {
		for _, r := range a.Resources {
			if isARN(r.ARN) {
				return r.ARN
			}
		}
		if arn := parameterARN(rec.RequestParameters, prefix); arn != "" {
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
	var req s3Request
	if !decodeParameters(rec.RequestParameters, &req) || !validBucket.MatchString(req.BucketName) {
		return AnyResource
	}
	arn := "arn:" + partition(a) + ":s3:::" + req.BucketName
	if !object {
		return arn
	}
	if req.Key == "" {
		return AnyResource
	}
	return arn + "/" + req.Key
}

// parameterARN returns the one ARN of the action's own service among the
// top-level request parameters (resourceArn, secretId, keyId, …), or "" when
// there is none or more than one.
func parameterARN(raw json.RawMessage, service string) string {
	var params map[string]any
	if service == "" || !decodeParameters(raw, &params) {
		return ""
	}
	found := ""
	for _, v := range params {
		s, ok := v.(string)
		if !ok || !isARN(s) || strings.SplitN(s, ":", 4)[2] != service {
			continue
		}
		if found != "" && found != s {
			return ""
		}
		found = s
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

// decodeParameters decodes requestParameters, which some exports carry as a
// JSON-encoded string.
func decodeParameters(raw json.RawMessage, v any) bool {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return false
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return false
		}
		raw = []byte(s)
	}
	return json.Unmarshal(raw, v) == nil
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

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// Enricher adds the permission explanation to denied activities. It is the
// CloudTrail source's enrichment hook.
type Enricher struct{}

// Enrich sets a.Permission when a is a denial; other activities are left
// as they are.
func (Enricher) Enrich(a *activity.Activity, raw []byte) {
	if p := Explain(a, raw); p != nil {
		a.Permission = p
	}
}
