// Package guardduty is the GuardDuty source: it turns the "GuardDuty Finding"
// events that Amazon GuardDuty sends to EventBridge into activities, one per
// finding.
//
// # Mapping
//
//	activity      finding
//	id            "guardduty-" + id + "@" + updatedAt (each update of a repeated finding is news)
//	subject       title (else the finding type)
//	severity      from the numeric severity, by GuardDuty's documented bands:
//	              9.0–10.0 critical, 7.0–8.9 high, 4.0–6.9 medium, below 4.0 low;
//	              an archived finding is info (it is not a new alert)
//	time          updatedAt, else createdAt, else the event's time
//	detections    the finding type, with the finding's severity
//	actor         the access key (user type, name, principal id, key id) and the
//	              remote IP of the action (its city, country and organization in fields)
//	action        the API call of an AWS_API_CALL finding (service, name, error code)
//	resources     the instance, buckets, cluster, function or database the finding names
//	fields        finding type, severity, resource, role, action, remote location and
//	              organization, count, first and last seen, description
//	links         the finding in the GuardDuty console of its region and partition
//
// GuardDuty aggregates repeated occurrences into one finding whose
// service.count grows; every update arrives as an event, and each is its own
// activity (its id carries updatedAt), with the count in its fields.
//
// The detail is decoded with encoding/json: its member names are matched
// case-insensitively, so the camelCase of EventBridge events and the
// PascalCase of the GetFindings API both read. Members whose type GuardDuty
// has varied between examples (organization.asn, launchTime) are not read.
package guardduty

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/sources/awsevents"
)

// SourceName is the activity source name.
const SourceName = "guardduty"

// The EventBridge source and detail-type of GuardDuty findings.
const (
	EventSource = "aws.guardduty"
	DetailType  = "GuardDuty Finding"
)

// Tags the source puts on activities.
const (
	TagArchived = "archived"
	TagSample   = "sample"
)

// Source is the GuardDuty source; it implements awsevents.Source. Its zero
// value is ready to use.
type Source struct{}

var _ awsevents.Source = Source{}

// Name is SourceName.
func (Source) Name() string { return SourceName }

// Accepts reports GuardDuty findings.
func (Source) Accepts(source, detailType string) bool {
	return source == EventSource && detailType == DetailType
}

// Activities standardizes one "GuardDuty Finding" event into one activity.
func (Source) Activities(ev *awsevents.Event) ([]*activity.Activity, error) {
	var f Finding
	if err := json.Unmarshal(ev.Detail, &f); err != nil {
		return nil, fmt.Errorf("%w: guardduty: %w", awsevents.ErrUnreadable, err)
	}
	if strings.TrimSpace(f.ID) == "" || strings.TrimSpace(f.Type) == "" {
		return nil, fmt.Errorf("%w: guardduty: finding without id or type", awsevents.ErrUnreadable)
	}
	return []*activity.Activity{f.activity(ev)}, nil
}

// Severity maps GuardDuty's numeric severity to an activity severity by the
// bands of the GuardDuty User Guide ("Severity levels of GuardDuty
// findings"): Critical 9.0–10.0, High 7.0–8.9, Medium 4.0–6.9, Low 1.0–3.9.
// Values below 1.0 (reserved) are low.
func Severity(v float64) activity.Severity {
	return awsevents.Rank(v, activity.Low, awsevents.Band{Min: 9, Severity: activity.Critical},
		awsevents.Band{Min: 7, Severity: activity.High}, awsevents.Band{Min: 4, Severity: activity.Medium})
}

// bandName is the GuardDuty console's name for a severity band.
func bandName(s activity.Severity) string {
	return strings.ToUpper(string(s[:1])) + string(s[1:])
}

func (f *Finding) activity(ev *awsevents.Event) *activity.Activity {
	region := awsevents.FirstOf(f.Region, ev.Region)
	account := awsevents.FirstOf(f.AccountID, ev.AccountID)
	partition := awsevents.FirstOf(f.Partition, awsevents.Partition(region, f.Arn))
	band := Severity(f.Severity.Float())
	sev := band
	var tags []string
	if f.Service.Archived {
		sev = activity.Info
		tags = append(tags, TagArchived)
	}
	if f.Service.AdditionalInfo.Sample.Bool() {
		tags = append(tags, TagSample)
	}
	a := awsevents.Finding{
		Source: SourceName, ID: f.ID, UpdatedAt: f.UpdatedAt, CreatedAt: f.CreatedAt,
		AccountID: account, Subject: awsevents.FirstOf(f.Title, f.Type), Severity: sev, Region: region,
	}.Activity(ev)
	a.Tags = tags
	a.Detections = []activity.Detection{{
		ID:       activity.Truncate(f.Type, awsevents.MaxFieldRunes),
		Title:    activity.Truncate(f.Type, awsevents.MaxFieldRunes),
		Severity: band,
	}}
	a.Detail = awsevents.CompactDetail(ev)
	remote := f.Service.Action.remote()
	a.Actor = f.actor(remote)
	a.Action = f.Service.Action.apiCall()
	a.Resources = f.Resource.list(partition, region, account)

	var fields awsevents.Fields
	fields.Add("Finding type", f.Type)
	fields.Add("Severity", fmt.Sprintf("%s (%s)", f.Severity.String(), bandName(band)))
	fields.Add("Resource", f.Resource.describe())
	fields.Add("Resource role", f.Service.ResourceRole)
	fields.Add("Action", f.Service.Action.describe())
	if remote != nil {
		fields.Add("Remote location", joinNonEmpty(", ", remote.City.CityName, remote.Country.CountryName))
		fields.Add("Remote organization", joinNonEmpty(" / ", awsevents.FirstOf(remote.Organization.AsnOrg, remote.Organization.Org), remote.Organization.Isp))
	}
	if n := f.Service.Count.Int(); n > 0 {
		fields.Add("Count", strconv.FormatInt(n, 10))
	}
	fields.Add("First seen", f.Service.EventFirstSeen)
	fields.Add("Last seen", f.Service.EventLastSeen)
	if f.Service.Archived {
		fields.Add("Archived", "yes")
	}
	fields.Add("Description", f.Description)
	a.Fields = fields

	if link, ok := findingLink(region, f.ID); ok {
		a.Links = []activity.Link{{Title: "GuardDuty finding", URL: link}}
	}
	return a
}

// findingLink is the finding's page in the GuardDuty console. GuardDuty
// finding ids are hexadecimal; any other id gets no link.
func findingLink(region, id string) (string, bool) {
	if id == "" || len(id) > 64 || strings.Trim(id, "0123456789abcdefABCDEF") != "" {
		return "", false
	}
	return awsevents.ConsoleURL(region, "guardduty", "region="+url.QueryEscape(region),
		"/findings?macros=current&fId="+id)
}

func (f *Finding) actor(remote *RemoteIPDetails) *activity.Actor {
	var act activity.Actor
	if k := f.Resource.AccessKeyDetails; k != nil {
		act.Type = k.UserType
		act.Name = k.UserName
		act.PrincipalID = k.PrincipalID
		act.AccessKeyID = k.AccessKeyID
		if k.UserType == "IAMUser" || k.UserType == "Root" {
			act.AccountID = f.AccountID
		}
	}
	if remote != nil {
		act.SourceIP = awsevents.FirstOf(remote.IPAddressV4, remote.IPAddressV6)
	}
	if api := f.Service.Action.AwsAPICallAction; api != nil {
		act.UserAgent = api.UserAgent.FullUserAgent
	}
	if act == (activity.Actor{}) {
		return nil
	}
	return &act
}

func joinNonEmpty(sep string, vs ...string) string {
	var out []string
	for _, v := range vs {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return strings.Join(out, sep)
}
