// Package activity defines the standardized activity: the one contract between
// sources, which turn events of one kind into activities and publish them on the
// activity bus, and destinations, which render and deliver them.
//
// An activity travels as the Detail of an EventBridge entry whose Source starts
// with SourcePrefix and whose DetailType is DetailType.
package activity

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// SchemaVersion is the version of the activity schema this package writes.
// Readers accept any 1.x.
const SchemaVersion = "1.0"

// SchemaMajor is the major version this package can read.
const SchemaMajor = "1"

// SourcePrefix starts the EventBridge Source of every activity entry, followed
// by the activity's source name, e.g. "activity-aware-ids.cloudtrail".
const SourcePrefix = "activity-aware-ids."

// DetailType is the EventBridge DetailType of every activity entry.
const DetailType = "Activity"

// Sentinel errors, for errors.Is.
var (
	// ErrInvalid reports an activity that lacks a required field or has an
	// invalid value.
	ErrInvalid = errors.New("activity: invalid")
	// ErrUnsupportedVersion reports an activity of a schema major version this
	// package cannot read.
	ErrUnsupportedVersion = errors.New("activity: unsupported schema version")
	// ErrTooLarge reports an activity that cannot be bounded to the requested
	// size without dropping what must never be dropped.
	ErrTooLarge = errors.New("activity: too large")
)

// Severity ranks how urgently a human should look at an activity.
type Severity string

// The severities, most urgent first.
const (
	Critical Severity = "critical"
	High     Severity = "high"
	Medium   Severity = "medium"
	Low      Severity = "low"
	Info     Severity = "info"
)

// Rank orders severities: Critical is 5, Info is 1, an unknown severity 0.
func (s Severity) Rank() int {
	switch s {
	case Critical:
		return 5
	case High:
		return 4
	case Medium:
		return 3
	case Low:
		return 2
	case Info:
		return 1
	}
	return 0
}

// Valid reports whether s is one of the defined severities.
func (s Severity) Valid() bool { return s.Rank() > 0 }

// Max returns the more urgent of s and o.
func (s Severity) Max(o Severity) Severity {
	if o.Rank() > s.Rank() {
		return o
	}
	return s
}

// Outcome says how the underlying call ended.
type Outcome string

// The outcomes.
const (
	// Denied: the call was refused for lack of permission.
	Denied Outcome = "denied"
	// Failed: the call returned another error.
	Failed Outcome = "failed"
	// Success: the call succeeded.
	Success Outcome = "success"
)

// Activity is one standardized activity (schema version 1).
type Activity struct {
	SchemaVersion string     `json:"schemaVersion"`
	ID            string     `json:"id"`
	Source        string     `json:"source"`
	Subject       string     `json:"subject"`
	Severity      Severity   `json:"severity"`
	Time          time.Time  `json:"time"`
	Account       Account    `json:"account"`
	Region        string     `json:"region,omitempty"`
	Actor         *Actor     `json:"actor,omitempty"`
	Action        *Action    `json:"action,omitempty"`
	Resources     []Resource `json:"resources,omitempty"`
	// Fields are the display fields, in display order. Values are plain text
	// taken from the event: destinations must escape them.
	Fields []Field  `json:"fields,omitempty"`
	Tags   []string `json:"tags,omitempty"`
	Links  []Link   `json:"links,omitempty"`
	// Detections are the detection presets the underlying event matched.
	Detections []Detection `json:"detections,omitempty"`
	// Permission explains a denial: what was missing and why.
	Permission *Permission `json:"permission,omitempty"`
	Origin     *Origin     `json:"origin,omitempty"`
	// Detail is the original event (a JSON value), trimmed when the activity
	// would exceed the bus's entry size limit.
	Detail json.RawMessage `json:"detail,omitempty"`
	// Truncated is set when Detail or any field value was trimmed.
	Truncated bool `json:"truncated,omitempty"`

	// checkedDetail is the Detail SetCheckedDetail vouched for.
	checkedDetail []byte
}

// SetCheckedDetail sets Detail to detail, which the caller has checked to be
// valid JSON without whitespace outside strings (as internal/jsonscan.Check
// reports it): Marshal copies it as it is. A Detail set otherwise, or
// replaced later, is checked and compacted as encoding/json does.
func (a *Activity) SetCheckedDetail(detail json.RawMessage) {
	a.Detail, a.checkedDetail = detail, detail
}

// Account is the AWS account the activity happened in.
type Account struct {
	ID   string `json:"id,omitempty"`
	Name string `json:"name,omitempty"`
}

// Actor is who made the call.
type Actor struct {
	// Type is the identity type as the source names it (CloudTrail:
	// userIdentity.type, e.g. "IAMUser", "AssumedRole", "Root").
	Type string `json:"type,omitempty"`
	ARN  string `json:"arn,omitempty"`
	// Name is a readable name, e.g. "role/Admin (session alice@corp)".
	Name          string `json:"name,omitempty"`
	AccountID     string `json:"accountId,omitempty"`
	PrincipalID   string `json:"principalId,omitempty"`
	AccessKeyID   string `json:"accessKeyId,omitempty"`
	SessionIssuer string `json:"sessionIssuer,omitempty"`
	// MFA is whether the session was MFA-authenticated; nil when unknown.
	MFA       *bool  `json:"mfa,omitempty"`
	SourceIP  string `json:"sourceIp,omitempty"`
	UserAgent string `json:"userAgent,omitempty"`
	// InvokedBy names the AWS service that made the call on the actor's behalf.
	InvokedBy string `json:"invokedBy,omitempty"`
}

// Action is what was attempted.
type Action struct {
	// Service is the service endpoint, e.g. "iam.amazonaws.com".
	Service string `json:"service,omitempty"`
	// Name is the API operation, e.g. "GetPolicy".
	Name string `json:"name,omitempty"`
	// ReadOnly is nil when unknown.
	ReadOnly     *bool   `json:"readOnly,omitempty"`
	ErrorCode    string  `json:"errorCode,omitempty"`
	ErrorMessage string  `json:"errorMessage,omitempty"`
	Outcome      Outcome `json:"outcome,omitempty"`
}

// Resource is a resource the call touched.
type Resource struct {
	Type      string `json:"type,omitempty"`
	ARN       string `json:"arn,omitempty"`
	AccountID string `json:"accountId,omitempty"`
}

// Field is one display field. Both key and value are plain text.
type Field struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Link is a link for a human, e.g. a console deep link.
type Link struct {
	Title string `json:"title"`
	URL   string `json:"url"`
}

// Detection is a detection preset that matched the underlying event.
type Detection struct {
	ID       string   `json:"id"`
	Title    string   `json:"title"`
	Severity Severity `json:"severity,omitempty"`
}

// Permission explains a denied call for the engineer who must fix it and the
// security reader who asks whether a guardrail held.
type Permission struct {
	// Action is the IAM action evaluated, e.g. "iam:GetPolicy".
	Action string `json:"action,omitempty"`
	// Resource is the resource ARN evaluated, or "*" when none is known.
	Resource string `json:"resource,omitempty"`
	// Reason is the class of the denial, e.g. "no-identity-policy",
	// "explicit-deny-scp".
	Reason string `json:"reason,omitempty"`
	// ReasonText is the reason for a human.
	ReasonText string `json:"reasonText,omitempty"`
	// Guardrail is set when a guardrail (SCP, RCP, permissions boundary, session
	// or VPC endpoint policy) refused the call: the guardrail worked.
	Guardrail bool `json:"guardrail,omitempty"`
	// Fixable is set when an Allow statement would have permitted the call.
	Fixable bool `json:"fixable,omitempty"`
	// Encoded is set when the reason is in an encoded authorization message.
	Encoded bool `json:"encoded,omitempty"`
	// Statement is the suggested IAM policy statement (JSON), when Fixable.
	Statement json.RawMessage `json:"statement,omitempty"`
}

// Origin says where the underlying event was read.
type Origin struct {
	LogGroup            string   `json:"logGroup,omitempty"`
	LogStream           string   `json:"logStream,omitempty"`
	SubscriptionFilters []string `json:"subscriptionFilters,omitempty"`
	Owner               string   `json:"owner,omitempty"`
	LogEventID          string   `json:"logEventId,omitempty"`
}

// Validate reports the first missing required field or invalid value, wrapping
// ErrInvalid (or ErrUnsupportedVersion for another major version).
func (a *Activity) Validate() error {
	if err := checkVersion(a.SchemaVersion); err != nil {
		return err
	}
	switch {
	case a.ID == "":
		return fmt.Errorf("%w: id is missing", ErrInvalid)
	case a.Source == "":
		return fmt.Errorf("%w: source is missing", ErrInvalid)
	case a.Subject == "":
		return fmt.Errorf("%w: subject is missing", ErrInvalid)
	case a.Severity == "":
		return fmt.Errorf("%w: severity is missing", ErrInvalid)
	case !a.Severity.Valid():
		return fmt.Errorf("%w: unknown severity %q", ErrInvalid, a.Severity)
	case a.Time.IsZero():
		return fmt.Errorf("%w: time is missing", ErrInvalid)
	}
	return nil
}

func checkVersion(v string) error {
	if v == "" {
		return fmt.Errorf("%w: schemaVersion is missing", ErrInvalid)
	}
	major, _, _ := strings.Cut(v, ".")
	if major != SchemaMajor {
		return fmt.Errorf("%w: %q (this reader understands %s.x)", ErrUnsupportedVersion, v, SchemaMajor)
	}
	return nil
}

// Parse decodes and validates an activity. It accepts any schema version 1.x
// and rejects another major version with ErrUnsupportedVersion, naming it.
func Parse(data []byte) (*Activity, error) {
	var probe struct {
		SchemaVersion string `json:"schemaVersion"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, fmt.Errorf("activity: decode: %w", err)
	}
	if err := checkVersion(probe.SchemaVersion); err != nil {
		return nil, err
	}
	var a Activity
	if err := json.Unmarshal(data, &a); err != nil {
		return nil, fmt.Errorf("activity: decode: %w", err)
	}
	if err := a.Validate(); err != nil {
		return nil, err
	}
	return &a, nil
}
