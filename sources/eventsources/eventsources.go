// Package eventsources names the sources that read AWS service events from
// EventBridge and builds the router the event-source function and `aaids
// replay` run them with, so both run the same set the same way.
package eventsources

import (
	"fmt"
	"slices"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/sources/accessanalyzer"
	"github.com/activity-aware/ids/sources/awsevents"
	"github.com/activity-aware/ids/sources/cloudtrail"
	"github.com/activity-aware/ids/sources/cloudtrailevents"
	"github.com/activity-aware/ids/sources/guardduty"
	"github.com/activity-aware/ids/sources/securityhub"
)

// Names lists every source this package builds, by configuration name.
var Names = []string{guardduty.SourceName, securityhub.SourceName, accessanalyzer.SourceName, cloudtrailevents.SourceName}

// Router returns the router of the sources cfg names, configured by cfg; the
// CloudTrail-events source reads its detections with cloudtrail.ConfigFromEnv
// from getenv (the variables the log-group function reads). An unknown name
// is an error wrapping awsevents.ErrConfig.
func Router(cfg awsevents.Config, getenv func(string) string) (*awsevents.Router, error) {
	var records *cloudtrail.Source
	var keep bool
	if slices.Contains(cfg.Sources, cloudtrailevents.SourceName) {
		ct, err := cloudtrail.ConfigFromEnv(getenv)
		if err != nil {
			return nil, err
		}
		if records, err = ct.NewSource(); err != nil {
			return nil, err
		}
		keep = ct.DetectionsOnly
	}
	return build(cfg, records, keep)
}

// All returns the router of every source, skipping nothing, with records
// standardizing CloudTrail records: what `aaids replay` reads events with.
func All(records *cloudtrail.Source) *awsevents.Router {
	r, err := build(awsevents.Config{Sources: Names}, records, false)
	if err != nil {
		panic(err) // Names and build disagree: a programming error
	}
	return r
}

func build(cfg awsevents.Config, records *cloudtrail.Source, detectionsOnly bool) (*awsevents.Router, error) {
	r := &awsevents.Router{}
	for _, name := range cfg.Sources {
		switch name {
		case guardduty.SourceName:
			r.Sources = append(r.Sources, guardduty.Source{})
		case securityhub.SourceName:
			r.Sources = append(r.Sources, securityhub.New(securityhub.Options{SkipProducts: cfg.SkipProducts}))
		case accessanalyzer.SourceName:
			r.Sources = append(r.Sources, accessanalyzer.Source{})
		case cloudtrailevents.SourceName:
			var keep func(*activity.Activity) bool
			if detectionsOnly {
				keep = cloudtrail.KeepLabelled
			}
			r.Sources = append(r.Sources, cloudtrailevents.New(records, keep))
		default:
			return nil, fmt.Errorf("%w: %s: unknown source %q", awsevents.ErrConfig, awsevents.EnvSources, name)
		}
	}
	return r, nil
}
