// Package accessanalyzer is the IAM Access Analyzer source: it turns the
// finding events IAM Access Analyzer sends to EventBridge into activities,
// one per active finding: external access ("Access Analyzer Finding"),
// unused access ("Unused Access Finding for IAM entities") and internal
// access ("Internal Access Finding").
//
// # Mapping
//
//	activity      finding
//	id            "accessanalyzer-" + id (or findingId) + "@" + updatedAt
//	subject       what is granted or unused, on which resource, to whom
//	severity      public access high; access from outside the zone of trust medium;
//	              internal and unused access, and findings Access Analyzer could not
//	              analyze (error), low
//	detections    the finding type (ExternalAccess for external findings, which name none)
//	resources     the resource the finding is about
//	fields        finding type, status, resource, principal granted access, actions,
//	              condition, public, access type, unused services and actions, error,
//	              analyzer
//	links         the finding in the IAM Access Analyzer console
//
// Only ACTIVE findings are new alerts: an event for an ARCHIVED or RESOLVED
// finding, or for a deleted one (isDeleted), yields no activity.
package accessanalyzer

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/sources/awsevents"
)

// SourceName is the activity source name.
const SourceName = "accessanalyzer"

// EventSource is the EventBridge source of IAM Access Analyzer events.
const EventSource = "aws.access-analyzer"

// DetailTypes are the finding events the source reads.
var DetailTypes = []string{"Access Analyzer Finding", "Unused Access Finding for IAM entities", "Internal Access Finding"}

// Source is the IAM Access Analyzer source; it implements awsevents.Source.
// Its zero value is ready to use.
type Source struct{}

var _ awsevents.Source = Source{}

// Name is SourceName.
func (Source) Name() string { return SourceName }

// Accepts reports IAM Access Analyzer finding events.
func (Source) Accepts(source, detailType string) bool {
	return source == EventSource && slices.Contains(DetailTypes, detailType)
}

// Finding is the part of a finding event's detail the source reads (the
// GetFinding response, with accountId, region and isDeleted).
type Finding struct {
	ID                     string                     `json:"id"`
	FindingID              string                     `json:"findingId"`
	AccountID              string                     `json:"accountId"`
	Region                 string                     `json:"region"`
	FindingType            string                     `json:"findingType"`
	Status                 string                     `json:"status"`
	IsDeleted              bool                       `json:"isDeleted"`
	IsPublic               bool                       `json:"isPublic"`
	Resource               string                     `json:"resource"`
	ResourceType           string                     `json:"resourceType"`
	Principal              map[string]json.RawMessage `json:"principal"`
	Action                 []string                   `json:"action"`
	Condition              map[string]json.RawMessage `json:"condition"`
	AccessType             string                     `json:"accessType"`
	Error                  string                     `json:"error"`
	CreatedAt              string                     `json:"createdAt"`
	UpdatedAt              string                     `json:"updatedAt"`
	NumberOfUnusedServices *int                       `json:"numberOfUnusedServices"`
	NumberOfUnusedActions  *int                       `json:"numberOfUnusedActions"`
}

// Activities standardizes one finding event: one activity when the finding
// is active.
func (Source) Activities(ev *awsevents.Event) ([]*activity.Activity, error) {
	var f Finding
	if err := json.Unmarshal(ev.Detail, &f); err != nil {
		return nil, fmt.Errorf("%w: accessanalyzer: %w", awsevents.ErrUnreadable, err)
	}
	if f.id() == "" || f.Resource == "" {
		return nil, fmt.Errorf("%w: accessanalyzer: finding without id or resource", awsevents.ErrUnreadable)
	}
	if f.IsDeleted || !strings.EqualFold(f.Status, "ACTIVE") {
		return nil, nil
	}
	return []*activity.Activity{f.activity(ev)}, nil
}

func (f *Finding) id() string { return awsevents.FirstOf(f.ID, f.FindingID) }

// kind is the finding type; external access findings name none.
func (f *Finding) kind(detailType string) string {
	if f.FindingType != "" {
		return f.FindingType
	}
	if detailType == DetailTypes[0] {
		return "ExternalAccess"
	}
	return "Unknown"
}

// Severity ranks a finding: public access high, external access medium,
// everything else (internal, unused, could not analyze) low.
func (f *Finding) Severity(kind string) activity.Severity {
	switch {
	case f.Error != "":
		return activity.Low
	case f.IsPublic:
		return activity.High
	case kind == "ExternalAccess":
		return activity.Medium
	}
	return activity.Low
}

func (f *Finding) activity(ev *awsevents.Event) *activity.Activity {
	kind := f.kind(ev.DetailType)
	sev := f.Severity(kind)
	region := awsevents.FirstOf(f.Region, ev.Region)
	principal := f.principal()
	a := awsevents.Finding{
		Source: SourceName, ID: f.id(), UpdatedAt: f.UpdatedAt, CreatedAt: f.CreatedAt,
		AccountID: f.AccountID, Subject: f.subject(kind, principal), Severity: sev, Region: region,
	}.Activity(ev)
	a.Detections = []activity.Detection{{
		ID:       activity.Truncate(kind, awsevents.MaxFieldRunes),
		Title:    activity.Truncate(kind, awsevents.MaxFieldRunes),
		Severity: sev,
	}}
	a.Detail = awsevents.CompactDetail(ev)
	if strings.HasPrefix(f.Resource, "arn:") {
		a.Resources = []activity.Resource{{Type: f.ResourceType, ARN: f.Resource, AccountID: awsevents.ARNField(f.Resource, 4)}}
	}
	var fields awsevents.Fields
	fields.Add("Finding type", kind)
	fields.Add("Status", f.Status)
	fields.Add("Resource", strings.TrimSpace(f.ResourceType+" "+f.Resource))
	fields.Add("Principal", principal)
	fields.Add("Actions", strings.Join(f.Action, ", "))
	fields.Add("Condition", f.condition())
	if kind == "ExternalAccess" && f.Error == "" {
		fields.Add("Public", strconv.FormatBool(f.IsPublic))
	}
	fields.Add("Access type", f.AccessType)
	if n := f.NumberOfUnusedServices; n != nil {
		fields.Add("Unused services", strconv.Itoa(*n))
	}
	if n := f.NumberOfUnusedActions; n != nil {
		fields.Add("Unused actions", strconv.Itoa(*n))
	}
	fields.Add("Error", f.Error)
	analyzer := ""
	if len(ev.Resources) > 0 {
		analyzer = ev.Resources[0]
	}
	fields.Add("Analyzer", analyzer)
	a.Fields = fields
	if link, ok := findingLink(region, analyzer, f.id()); ok {
		a.Links = []activity.Link{{Title: "IAM Access Analyzer finding", URL: link}}
	}
	return a
}

func (f *Finding) subject(kind, principal string) string {
	switch {
	case f.Error != "":
		return "IAM Access Analyzer could not analyze " + f.Resource + " (" + f.Error + ")"
	case f.IsPublic:
		return "Public access to " + f.Resource + actions(f.Action)
	case strings.HasPrefix(kind, "Unused"):
		s := kind + " on " + f.Resource
		if n := f.NumberOfUnusedActions; n != nil && *n > 0 {
			s += fmt.Sprintf(": %d unused actions", *n)
		} else if n := f.NumberOfUnusedServices; n != nil && *n > 0 {
			s += fmt.Sprintf(": %d unused services", *n)
		}
		return s
	case principal != "":
		return f.Resource + " grants " + principal + actions(f.Action)
	}
	return kind + " on " + f.Resource
}

func actions(as []string) string {
	if len(as) == 0 {
		return ""
	}
	return " (" + strings.Join(as, ", ") + ")"
}

// principal renders the principal granted access, e.g. "AWS 999988887777".
func (f *Finding) principal() string {
	return pairs(f.Principal, " ")
}

// condition renders the condition under which access is granted, e.g.
// "aws:SourceVpc=vpc-1234".
func (f *Finding) condition() string {
	return pairs(f.Condition, "=")
}

// pairs renders a map of the finding, keys sorted: a string value as it
// is, any other as its JSON.
func pairs(m map[string]json.RawMessage, sep string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		var v string
		if json.Unmarshal(m[k], &v) != nil {
			v = string(m[k])
		}
		out = append(out, k+sep+v)
	}
	return strings.Join(out, ", ")
}

// safeName matches analyzer names and finding ids the console link may
// carry.
var safeName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$`)

// findingLink is the finding's page in the IAM Access Analyzer console,
// named by its analyzer and id.
func findingLink(region, analyzerARN, id string) (string, bool) {
	_, name, ok := strings.Cut(analyzerARN, ":analyzer/")
	if !ok || !safeName.MatchString(name) || !safeName.MatchString(id) {
		return "", false
	}
	return awsevents.ConsoleURL(region, "access-analyzer", "region="+url.QueryEscape(region),
		"/findings/details/"+name+"/"+id)
}
