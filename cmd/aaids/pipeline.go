package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/cmd/aaids/internal/logfile"
	"github.com/activity-aware/ids/detections"
	"github.com/activity-aware/ids/detections/filterpattern"
	"github.com/activity-aware/ids/internal/jsonscan"
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
	// reuse builds subscription batches in memory used again
	// (cloudtrail.Batch), each overwriting the activities of an item
	// visited before: set only by a command that keeps no activity past
	// its item (replay, whose correlation store keeps copies).
	reuse bool
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

// standardized is what an item gave: its activities and how many log events
// were read, or the event an item from the activity bus holds (see
// busActivityEvent), or an error that names the item.
type standardized struct {
	acts []*activity.Activity
	read int
	bus  *events.EventBridgeEvent
	err  error
}

// activities standardizes one item that is not a Record (see standardize):
// a subscription event or batch is every record in it the filter selects.
func (p *pipeline) activities(it logfile.Item, batch *cloudtrail.Batch) standardized {
	switch it.Kind {
	case logfile.Subscription:
		if p.filter == nil {
			acts, err := p.source.FromSubscription(*it.Subscription, batch)
			if err != nil {
				return standardized{err: fmt.Errorf("%s: %w", where(it), err)}
			}
			return standardized{acts: acts, read: len(acts)}
		}
		data, err := it.Subscription.AWSLogs.Parse()
		if err != nil {
			return standardized{err: fmt.Errorf("%s: decode subscription payload: %w", where(it), err)}
		}
		return p.fromLogsData(&data)
	case logfile.LogsData:
		return p.fromLogsData(it.LogsData)
	}
	return standardized{}
}

// result is an item and what it gave.
type result struct {
	it logfile.Item
	standardized
}

// standardize fills in the results of one job, in batch: a subscription
// item, or a run of other items whose CloudTrail records the filter keeps
// are standardized together (FromRecords), each Detail a slice of the file
// read, which nothing changes; an EventBridge event is standardized alone.
func (p *pipeline) standardize(results []result, batch *cloudtrail.Batch) {
	var records [][]byte
	var checked jsonscan.Verdicts
	var at []int // the results they go to
	for i := range results {
		r := &results[i]
		if r.it.Kind != logfile.Record {
			r.standardized = p.activities(r.it, batch)
			continue
		}
		switch record, kept := p.trailRecord(r.it); {
		case !record:
			r.standardized = p.event(r.it)
		case kept:
			records, checked, at = append(records, r.it.Raw), append(checked, verdict(r.it)), append(at, i)
			fallthrough
		default:
			r.read = 1
		}
	}
	if len(records) > 0 {
		acts := p.source.FromRecords(records, checked, p.now, batch)
		for k, i := range at {
			results[i].acts = acts[k : k+1 : k+1]
		}
	}
}

// event standardizes an item that is an EventBridge event.
func (p *pipeline) event(it logfile.Item) standardized {
	if ev, ok := busActivityEvent(it.Raw); ok {
		// An event from the activity bus carries its activity already:
		// the caller verifies and emits it (replay), or skips it.
		return standardized{read: 1, bus: &ev}
	}
	acts, err := p.events.FromEvent(it.Raw)
	if err != nil {
		return standardized{read: 1, err: fmt.Errorf("%s: %w", where(it), err)}
	}
	return standardized{acts: acts, read: 1}
}

// verdict is jsonscan.Check's answer for a record read from a document
// found valid and compact, when it has no backslash (as FromRecords takes
// it); unknown otherwise.
func verdict(it logfile.Item) jsonscan.Verdict {
	if it.Compact && bytes.IndexByte(it.Raw, '\\') < 0 {
		return jsonscan.Verdict{Known: true, Valid: true, Compact: true}
	}
	return jsonscan.Verdict{}
}

// trailRecord reports whether a Record item is a CloudTrail record (not an
// EventBridge event) and whether the filter keeps it; an event is kept.
func (p *pipeline) trailRecord(it logfile.Item) (record, kept bool) {
	if awsevents.IsEvent(it.Raw) {
		return false, true
	}
	return true, p.filter == nil || p.filter.Match(it.Raw)
}

func (p *pipeline) fromLogsData(d *events.CloudwatchLogsData) standardized {
	read := len(d.LogEvents)
	if d.MessageType != "DATA_MESSAGE" {
		return standardized{}
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
	return standardized{acts: p.source.FromLogsData(d), read: read}
}

// runStats counts what a pipeline run read.
type runStats struct {
	files, records, errors int
}

// run reads paths with logfile and hands each item's activities (or the event
// from the activity bus it holds) to each, in the order of the input, from
// the calling goroutine. Items are standardized ahead of each, on other
// cores (up to GOMAXPROCS jobs at a time, four at most, each a subscription
// batch or a run of records), so that a replay uses them while its output
// stays in order. Input that cannot be read or decoded is reported on errOut,
// prefixed by name, and counted; the rest is still processed. Cancelling ctx
// stops the run.
func (p *pipeline) run(ctx context.Context, paths []string, name string, errOut io.Writer, each func(it logfile.Item, acts []*activity.Activity, bus *events.EventBridgeEvent)) runStats {
	// A job is one subscription item or a run of up to runLength other
	// items (the records of a CloudTrail log file, mostly: a goroutine and
	// a hand-over for each would cost as much as standardizing it),
	// standardized in a goroutine of its own.
	type job struct {
		batch   *cloudtrail.Batch // its slot's memory, when reused
		results []result
		done    chan struct{}
	}
	const runLength, maxSlots = 256, 4
	// A job takes a slot (and its batch memory, when reused) until each
	// has returned, so at most one job per core is held at once: with two,
	// the next batch is standardized while each prints the last. (More
	// slots than cores cost more CPU, the memory of each batch moving
	// between them, for no shorter a run.) Printing a batch takes about a
	// third of the time standardizing it does, so beyond four slots each
	// would only wait, holding a batch's memory.
	slots := make(chan *cloudtrail.Batch, min(runtime.GOMAXPROCS(0), maxSlots))
	for range cap(slots) {
		var b *cloudtrail.Batch
		if p.reuse {
			b = new(cloudtrail.Batch)
		}
		slots <- b
	}
	jobs := make(chan *job, cap(slots))
	var (
		read logfile.Stats
		errs []error
		stop error
	)
	go func() {
		defer close(jobs)
		var run *job // the run being filled
		start := func(j *job) {
			go func() {
				defer close(j.done)
				batch := j.batch
				if batch == nil { // its activities are kept: memory of its own
					batch = new(cloudtrail.Batch)
				}
				p.standardize(j.results, batch)
			}()
			jobs <- j
		}
		flush := func() {
			if run != nil {
				start(run)
				run = nil
			}
		}
		defer flush()
		read, errs, stop = logfile.Read(paths, logfile.Options{}, func(it logfile.Item) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			if it.Kind == logfile.Subscription { // up to 10,000 log events
				flush()
				start(&job{batch: <-slots, results: []result{{it: it}}, done: make(chan struct{})})
				return nil
			}
			if run == nil {
				run = &job{batch: <-slots, done: make(chan struct{})}
			}
			if run.results = append(run.results, result{it: it}); len(run.results) == runLength {
				flush()
			}
			return nil
		})
	}()
	var st runStats
	fail := func(err error) {
		st.errors++
		fmt.Fprintf(errOut, "%s: %v\n", name, err)
	}
	for j := range jobs {
		<-j.done
		for _, r := range j.results {
			st.records += r.read
			if r.err != nil {
				fail(r.err)
			} else {
				each(r.it, r.acts, r.bus)
			}
		}
		slots <- j.batch
	}
	// jobs is closed: Read has returned.
	st.files = read.Files
	for _, err := range errs {
		fail(err)
	}
	if stop != nil {
		fail(stop)
	}
	return st
}

// busActivityEvent returns the EventBridge event in raw, an event envelope
// (awsevents.IsEvent), when it is an activity event from the bus, or claims to
// be one: its detail type is activity.DetailType or its source starts with
// activity.SourcePrefix. Such an event is verified as the destination verifies
// it, never standardized again.
func busActivityEvent(raw []byte) (events.EventBridgeEvent, bool) {
	var ev events.EventBridgeEvent
	if json.Unmarshal(raw, &ev) != nil {
		return events.EventBridgeEvent{}, false
	}
	return ev, ev.DetailType == activity.DetailType || strings.HasPrefix(ev.Source, activity.SourcePrefix)
}
