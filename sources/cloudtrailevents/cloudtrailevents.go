// Package cloudtrailevents is the CloudTrail source for records CloudTrail
// delivers to EventBridge instead of (or besides) a CloudWatch Logs log
// group: "AWS API Call via CloudTrail", "AWS Console Sign In via
// CloudTrail" (and the "Signin" spelling of the EventBridge User Guide),
// "AWS Service Event via CloudTrail", "AWS Console Action via CloudTrail"
// and "AWS Insight via CloudTrail".
//
// The event's detail is the CloudTrail record. It goes through the
// CloudTrail source's own record reader (cloudtrail.Source.FromRecord), so an
// activity is the same (id, subject, severity, fields, detections,
// permission) as the log-group path's for the same record, and both paths
// can run side by side and be deduplicated by id; only Origin (the log
// group) is absent here. The envelope's time stands in for a record without
// a usable eventTime.
package cloudtrailevents

import (
	"slices"
	"strings"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/sources/awsevents"
	"github.com/activity-aware/ids/sources/cloudtrail"
)

// SourceName names the source in configuration (EVENT_SOURCES); its
// activities carry the CloudTrail source's name, cloudtrail.SourceName, as
// the log-group path's do.
const SourceName = "cloudtrail-events"

// The detail-types CloudTrail sends to EventBridge.
const (
	APICall       = "AWS API Call via CloudTrail"
	ConsoleSignIn = "AWS Console Sign In via CloudTrail"
	// ConsoleSignin is the spelling of the EventBridge User Guide ("AWS
	// service events delivered via AWS CloudTrail").
	ConsoleSignin = "AWS Console Signin via CloudTrail"
	ServiceEvent  = "AWS Service Event via CloudTrail"
	ConsoleAction = "AWS Console Action via CloudTrail"
	Insight       = "AWS Insight via CloudTrail"
)

// DetailTypes are the detail-types the source reads.
var DetailTypes = []string{APICall, ConsoleSignIn, ConsoleSignin, ServiceEvent, ConsoleAction, Insight}

// Source reads CloudTrail records from EventBridge events; it implements
// awsevents.Source.
type Source struct {
	records *cloudtrail.Source
	keep    func(*activity.Activity) bool
}

var _ awsevents.Source = (*Source)(nil)

// New returns a source that standardizes records with records (built by
// cloudtrail.Config.NewSource, as the log-group function builds its own). When
// keep is set, only the activities it keeps are published: behind a rule
// broader than the detections (cloudtrail.KeepLabelled).
func New(records *cloudtrail.Source, keep func(*activity.Activity) bool) *Source {
	return &Source{records: records, keep: keep}
}

// Name is SourceName.
func (*Source) Name() string { return SourceName }

// Accepts reports CloudTrail's events: an "aws." source and one of
// DetailTypes.
func (*Source) Accepts(source, detailType string) bool {
	return strings.HasPrefix(source, "aws.") && slices.Contains(DetailTypes, detailType)
}

// Activities standardizes the record in the event's detail, laid out on one
// line as CloudTrail writes it to the log group, so that the activity's
// Detail is the log path's whatever layout the envelope came in.
func (s *Source) Activities(ev *awsevents.Event) ([]*activity.Activity, error) {
	a := s.records.FromRecord(awsevents.CompactDetail(ev), nil, ev.Time.UTC())
	if s.keep != nil && !s.keep(a) {
		return nil, nil
	}
	return []*activity.Activity{a}, nil
}
