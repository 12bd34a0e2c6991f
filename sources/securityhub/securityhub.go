// Package securityhub is the Security Hub source: it turns the "Security Hub
// Findings - Imported" events that AWS Security Hub sends to EventBridge into
// activities, one per finding (an event carries one or more findings in the
// AWS Security Finding Format, ASFF).
//
// # Mapping
//
//	activity      finding (ASFF)
//	id            "securityhub-" + Id + "@" + UpdatedAt
//	subject       Title
//	severity      Severity.Label (CRITICAL, HIGH, MEDIUM, LOW, INFORMATIONAL→info);
//	              without a label, Severity.Normalized by Security Hub's documented
//	              mapping (90–100 critical, 70–89 high, 40–69 medium, 1–39 low, 0 info)
//	time          UpdatedAt, else CreatedAt, else the event's time
//	detections    the control id (ProductFields ControlId or RuleId, or
//	              Compliance.SecurityControlId), else the first finding type
//	resources     Resources (type and id, the id as the ARN when it is one)
//	fields        product, company, control, compliance, workflow and record state,
//	              resources, types, remediation
//	links         the finding in the Security Hub console of its region
//
// # What is not alerted
//
// A finding that is not a new alert yields no activity (the event-source
// function logs each event with the number of activities it yielded, so a
// skipped finding shows as an event with none): workflow status SUPPRESSED or RESOLVED,
// record state ARCHIVED, compliance status PASSED or NOT_AVAILABLE (a control
// check that passed). With Options.SkipProducts the findings those products
// imported are skipped too: GuardDuty's, when the GuardDuty source reports
// them already.
package securityhub

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/sources/awsevents"
)

// SourceName is the activity source name.
const SourceName = "securityhub"

// The EventBridge source and detail-type of imported findings.
const (
	EventSource = "aws.securityhub"
	DetailType  = "Security Hub Findings - Imported"
)

// ProductGuardDuty is the product name of the findings GuardDuty sends to
// Security Hub.
const ProductGuardDuty = "GuardDuty"

// Options configure a Source.
type Options struct {
	// SkipProducts are product names whose findings the source skips (case
	// insensitive), e.g. ProductGuardDuty.
	SkipProducts []string
}

// Source is the Security Hub source; it implements awsevents.Source.
type Source struct {
	skip []string
}

var _ awsevents.Source = (*Source)(nil)

// New returns a Source configured by opts.
func New(opts Options) *Source {
	s := &Source{}
	for _, p := range opts.SkipProducts {
		s.skip = append(s.skip, strings.ToLower(strings.TrimSpace(p)))
	}
	return s
}

// Name is SourceName.
func (*Source) Name() string { return SourceName }

// Accepts reports imported Security Hub findings.
func (*Source) Accepts(source, detailType string) bool {
	return source == EventSource && detailType == DetailType
}

// Activities standardizes one event: one activity per finding that is a new
// alert.
func (s *Source) Activities(ev *awsevents.Event) ([]*activity.Activity, error) {
	var detail struct {
		Findings []json.RawMessage `json:"findings"`
	}
	if err := json.Unmarshal(ev.Detail, &detail); err != nil {
		return nil, fmt.Errorf("%w: securityhub: %w", awsevents.ErrUnreadable, err)
	}
	if len(detail.Findings) == 0 {
		return nil, fmt.Errorf("%w: securityhub: no findings", awsevents.ErrUnreadable)
	}
	var acts []*activity.Activity
	for i, raw := range detail.Findings {
		var f Finding
		if err := json.Unmarshal(raw, &f); err != nil || strings.TrimSpace(f.ID) == "" {
			reason := fmt.Sprintf("finding %d is not an ASFF finding with an Id", i)
			if err != nil {
				reason += ": " + err.Error()
			}
			acts = append(acts, awsevents.Unrecognized(ev, SourceName, reason))
			continue
		}
		if s.Skipped(&f) != "" {
			continue
		}
		acts = append(acts, f.activity(ev, raw))
	}
	return acts, nil
}

// Skipped says why a finding is not a new alert, or "" when it is one.
func (s *Source) Skipped(f *Finding) string {
	switch {
	case slices.Contains(s.skip, strings.ToLower(f.Product())):
		return "product " + f.Product()
	case strings.EqualFold(f.Workflow.Status, "SUPPRESSED"), strings.EqualFold(f.Workflow.Status, "RESOLVED"):
		return "workflow " + f.Workflow.Status
	case f.Workflow.Status == "" && (strings.EqualFold(f.WorkflowState, "SUPPRESSED") || strings.EqualFold(f.WorkflowState, "RESOLVED")):
		return "workflow " + f.WorkflowState
	case strings.EqualFold(f.RecordState, "ARCHIVED"):
		return "record archived"
	case strings.EqualFold(f.Compliance.Status, "PASSED"), strings.EqualFold(f.Compliance.Status, "NOT_AVAILABLE"):
		return "compliance " + f.Compliance.Status
	}
	return ""
}

// Severity maps an ASFF severity: the label, else the normalized score by
// the mapping the Security Hub API reference documents (Severity).
func Severity(label string, normalized float64, hasNormalized bool) activity.Severity {
	switch strings.ToUpper(strings.TrimSpace(label)) {
	case "CRITICAL":
		return activity.Critical
	case "HIGH":
		return activity.High
	case "MEDIUM":
		return activity.Medium
	case "LOW":
		return activity.Low
	case "INFORMATIONAL":
		return activity.Info
	}
	if !hasNormalized {
		return activity.Medium // a finding must carry one of the two; unknown is not quiet
	}
	return awsevents.Rank(normalized, activity.Info, awsevents.Band{Min: 90, Severity: activity.Critical},
		awsevents.Band{Min: 70, Severity: activity.High}, awsevents.Band{Min: 40, Severity: activity.Medium},
		awsevents.Band{Min: 1, Severity: activity.Low})
}

func (f *Finding) activity(ev *awsevents.Event, raw json.RawMessage) *activity.Activity {
	// Older findings carry no Region; their Id (an ARN) names it.
	region := awsevents.FirstOf(f.Region, awsevents.ARNField(f.ID, 3), ev.Region)
	sev := Severity(f.Severity.Label, f.Severity.Normalized.value, f.Severity.Normalized.set)
	subject := awsevents.FirstOf(f.Title, f.control(), f.ID)
	detection := awsevents.FirstOf(f.control(), firstType(f.Types), f.GeneratorID)
	a := awsevents.Finding{
		Source: SourceName, ID: f.ID, UpdatedAt: f.UpdatedAt, CreatedAt: f.CreatedAt,
		AccountID: f.AwsAccountID, Subject: subject, Severity: sev, Region: region,
	}.Activity(ev)
	a.Detail = compact(raw)
	if detection != "" {
		a.Detections = []activity.Detection{{
			ID:       activity.Truncate(detection, awsevents.MaxFieldRunes),
			Title:    activity.Truncate(subject, awsevents.MaxSubjectRunes),
			Severity: sev,
		}}
	}
	var names []string
	for _, r := range f.Resources {
		if strings.HasPrefix(r.ID, "arn:") {
			a.Resources = append(a.Resources, activity.Resource{Type: r.Type, ARN: r.ID, AccountID: awsevents.ARNField(r.ID, 4)})
		}
		names = append(names, strings.TrimSpace(r.Type+" "+r.ID))
	}
	var fields awsevents.Fields
	fields.Add("Product", f.Product())
	fields.Add("Company", awsevents.FirstOf(f.CompanyName, f.ProductFields["aws/securityhub/CompanyName"]))
	fields.Add("Control", f.control())
	fields.Add("Severity", awsevents.FirstOf(strings.ToUpper(f.Severity.Label), string(sev)))
	fields.Add("Compliance", f.Compliance.Status)
	fields.Add("Workflow", awsevents.FirstOf(f.Workflow.Status, f.WorkflowState))
	fields.Add("Record state", f.RecordState)
	fields.Add("Resources", strings.Join(names, ", "))
	fields.Add("Types", strings.Join(f.Types, ", "))
	fields.Add("Description", f.Description)
	fields.Add("Remediation", f.Remediation.Recommendation.Text)
	a.Fields = fields
	if link, ok := findingLink(region, f.ID); ok {
		a.Links = []activity.Link{{Title: "Security Hub finding", URL: link}}
	}
	return a
}

// findingLink is the finding in the Security Hub console: the findings page
// filtered on its Id.
func findingLink(region, id string) (string, bool) {
	// The console reads the filter from the fragment, escaped twice.
	filter := url.QueryEscape(url.QueryEscape(`\operator\:EQUALS\:` + id))
	return awsevents.ConsoleURL(region, "securityhub", "region="+url.QueryEscape(region),
		"/findings?search=Id%3D"+filter)
}

func compact(raw json.RawMessage) json.RawMessage {
	return awsevents.CompactDetail(&awsevents.Event{Detail: raw})
}

func firstType(ts []string) string {
	if len(ts) == 0 {
		return ""
	}
	return ts[0]
}
