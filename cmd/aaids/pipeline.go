package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/cmd/aaids/internal/logfile"
	"github.com/activity-aware/ids/detections"
	"github.com/activity-aware/ids/detections/filterpattern"
	"github.com/activity-aware/ids/sources/awsevents"
	"github.com/activity-aware/ids/sources/cloudtrail"
	"github.com/activity-aware/ids/sources/eventsources"
)

// pipeline standardizes what logfile reads as the deployed system would: the
// subscription filter pattern selects log events, the CloudTrail source turns
// each into an activity, explains denials and labels the activity with the
// detection presets it matches. EventBridge events (GuardDuty findings, …)
// go to the source that reads them, as the event-source function routes
// them.
type pipeline struct {
	source *cloudtrail.Source
	events *awsevents.Router
	// filter selects log events; nil selects every one.
	filter *filterpattern.Pattern
	// now is the time of records that carry none.
	now time.Time
	// batch, when set, is the memory every subscription batch is built in,
	// each overwriting the activities of the one before: set only by a
	// command that keeps no activity past its item (replay, whose
	// correlation store keeps copies).
	batch *cloudtrail.Batch
}

// newPipeline builds a pipeline evaluating the comma-separated detection
// preset ids, and, when filterPattern is not empty, filtering with it.
func newPipeline(detectionIDs, filterPattern string) (*pipeline, error) {
	presets, err := detections.ParseList(detectionIDs)
	if err != nil {
		return nil, fmt.Errorf("--detections: %w", err)
	}
	// The source the deployed function runs, configured with these presets.
	cfg := cloudtrail.Config{}
	for _, preset := range presets {
		cfg.Detections = append(cfg.Detections, preset.ID)
	}
	src, err := cfg.NewSource()
	if err != nil {
		return nil, fmt.Errorf("--detections: %w", err)
	}
	p := &pipeline{
		source: src,
		events: eventsources.All(src),
		now:    time.Now().UTC(),
	}
	if filterPattern != "" {
		if p.filter, err = filterpattern.Parse(filterPattern); err != nil {
			return nil, fmt.Errorf("--filter-pattern: %w", err)
		}
	}
	return p, nil
}

// activities standardizes one item: a subscription event or batch is every
// record in it the filter selects, a record is one activity if selected. It
// returns the activities and how many log events were read. An error names
// the item.
func (p *pipeline) activities(it logfile.Item) (acts []*activity.Activity, read int, err error) {
	switch it.Kind {
	case logfile.Subscription:
		if p.filter == nil {
			acts, err := p.source.FromSubscription(*it.Subscription, p.batch)
			if err != nil {
				return nil, 0, fmt.Errorf("%s: %w", where(it), err)
			}
			return acts, len(acts), nil
		}
		data, err := it.Subscription.AWSLogs.Parse()
		if err != nil {
			return nil, 0, fmt.Errorf("%s: decode subscription payload: %w", where(it), err)
		}
		return p.fromLogsData(&data)
	case logfile.LogsData:
		return p.fromLogsData(it.LogsData)
	case logfile.Record:
		if _, ok := busActivityEvent(it); ok {
			// An event from the activity bus carries its activity already:
			// the caller verifies and emits it (replay), or skips it.
			return nil, 1, nil
		}
		if awsevents.IsEvent(it.Raw) {
			acts, err := p.events.FromEvent(it.Raw)
			if err != nil {
				return nil, 1, fmt.Errorf("%s: %w", where(it), err)
			}
			return acts, 1, nil
		}
		if p.filter != nil && !p.filter.Match(it.Raw) {
			return nil, 1, nil
		}
		return []*activity.Activity{p.source.FromRecord(it.Raw, nil, p.now)}, 1, nil
	}
	return nil, 0, nil
}

func (p *pipeline) fromLogsData(d *events.CloudwatchLogsData) ([]*activity.Activity, int, error) {
	read := len(d.LogEvents)
	if d.MessageType != "DATA_MESSAGE" {
		return nil, 0, nil
	}
	if p.filter != nil {
		kept := *d
		kept.LogEvents = nil
		for _, le := range d.LogEvents {
			if p.filter.Match([]byte(le.Message)) {
				kept.LogEvents = append(kept.LogEvents, le)
			}
		}
		d = &kept
	}
	return p.source.FromLogsData(d), read, nil
}

// runStats counts what a pipeline run read.
type runStats struct {
	files, records, errors int
}

// run reads paths with logfile and hands each item's activities to each. Input
// that cannot be read or decoded is reported on errOut, prefixed by name, and
// counted; the rest is still processed. Cancelling ctx stops the run.
func (p *pipeline) run(ctx context.Context, paths []string, name string, errOut io.Writer, each func(it logfile.Item, acts []*activity.Activity)) runStats {
	var st runStats
	fail := func(err error) {
		st.errors++
		fmt.Fprintf(errOut, "%s: %v\n", name, err)
	}
	read, errs, stop := logfile.Read(paths, logfile.Options{}, func(it logfile.Item) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		acts, n, err := p.activities(it)
		st.records += n
		if err != nil {
			fail(err)
			return nil
		}
		each(it, acts)
		return nil
	})
	st.files = read.Files
	for _, err := range errs {
		fail(err)
	}
	if stop != nil {
		fail(stop)
	}
	return st
}

// busActivityEvent returns the EventBridge event an item holds when it is an
// activity event from the bus, or claims to be one: its detail type is
// activity.DetailType or its source starts with activity.SourcePrefix. Such an
// event is verified as the destination verifies it, never standardized again.
func busActivityEvent(it logfile.Item) (events.EventBridgeEvent, bool) {
	var ev events.EventBridgeEvent
	if it.Kind != logfile.Record || !awsevents.IsEvent(it.Raw) || json.Unmarshal(it.Raw, &ev) != nil {
		return events.EventBridgeEvent{}, false
	}
	return ev, ev.DetailType == activity.DetailType || strings.HasPrefix(ev.Source, activity.SourcePrefix)
}
