// Package eventsources names the sources that read AWS service events from
// EventBridge and builds the router the event-source function and `aaids
// replay` run them with, so both run the same set the same way.
package eventsources

import (
	"fmt"

	"github.com/activity-aware/ids/sources/accessanalyzer"
	"github.com/activity-aware/ids/sources/awsevents"
	"github.com/activity-aware/ids/sources/guardduty"
	"github.com/activity-aware/ids/sources/securityhub"
)

// Names lists every source this package builds, by activity source name.
var Names = []string{guardduty.SourceName, securityhub.SourceName, accessanalyzer.SourceName}

// Router returns the router of the sources cfg names, configured by cfg. An
// unknown name is an error wrapping awsevents.ErrConfig.
func Router(cfg awsevents.Config) (*awsevents.Router, error) {
	r := &awsevents.Router{}
	for _, name := range cfg.Sources {
		switch name {
		case guardduty.SourceName:
			r.Sources = append(r.Sources, guardduty.Source{})
		case securityhub.SourceName:
			r.Sources = append(r.Sources, securityhub.New(securityhub.Options{SkipProducts: cfg.SkipProducts}))
		case accessanalyzer.SourceName:
			r.Sources = append(r.Sources, accessanalyzer.Source{})
		default:
			return nil, fmt.Errorf("%w: %s: unknown source %q", awsevents.ErrConfig, awsevents.EnvSources, name)
		}
	}
	return r, nil
}

// All returns the router of every source, skipping nothing: what `aaids
// replay` reads events with.
func All() *awsevents.Router {
	r, err := Router(awsevents.Config{Sources: Names})
	if err != nil {
		panic(err) // Names and Router disagree: a programming error
	}
	return r
}
