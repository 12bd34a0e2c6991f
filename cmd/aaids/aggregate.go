package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/correlation"
	"github.com/activity-aware/ids/detections"
)

// policyFlags are replay's correlation and notification options, the same
// settings the deployed stack takes.
type policyFlags struct {
	aggregate   *bool
	window      *time.Duration
	groupBy     *string
	burstCount  *int
	burstWindow *time.Duration
}

func addPolicyFlags(fs *flag.FlagSet) policyFlags {
	return policyFlags{
		aggregate:   fs.Bool("aggregate", true, "apply the notification policy: post a group's first activity, fold the rest of its window into one digest (false: one message per activity)"),
		window:      fs.Duration("window", correlation.DefaultWindow, "notification window, in event time"),
		groupBy:     fs.String("group-by", "principal,detection", "notification group key: comma-separated dimensions (principal, detection, outcome, account, source-ip, service, action)"),
		burstCount:  fs.Int("burst-count", correlation.DefaultBurstCount, "denied calls by one principal that make a denial burst"),
		burstWindow: fs.Duration("burst-window", correlation.DefaultBurstWindow, "the window of a denial burst, in event time"),
	}
}

// correlator applies the deployed system's correlation and notification
// policy to a replay, with an in-memory store and event time as its clock:
// the clock is the latest event time seen, so the replay is deterministic and
// every window closes at the end of the input.
type correlator struct {
	detector *correlation.Detector
	notifier *correlation.Notifier // nil: one message per activity
	clock    time.Time
}

func newCorrelator(f policyFlags, presets []*detections.Preset) (*correlator, error) {
	groupBy, err := correlation.ParseGroupBy(*f.groupBy)
	if err != nil {
		return nil, fmt.Errorf("--group-by: %w", err)
	}
	if *f.window <= 0 || *f.burstWindow <= 0 || *f.burstCount <= 0 {
		return nil, fmt.Errorf("--window, --burst-window and --burst-count must be positive")
	}
	store := correlation.NewMemoryStore()
	c := &correlator{detector: &correlation.Detector{
		Store: store,
		Rules: append([]correlation.Rule{correlation.DenialBurst(*f.burstCount, *f.burstWindow)}, correlation.ThresholdRules(presets)...),
		// The memory store answers at once: claims in goroutines of their
		// own would only cost (+3.4% of replay's CPU).
		Concurrency: 1,
	}}
	c.detector.Now = func() time.Time { return c.clock }
	if *f.aggregate {
		c.notifier = &correlation.Notifier{Store: store, Policy: correlation.Policy{Destination: "replay", Window: *f.window, GroupBy: groupBy}}
	}
	return c, nil
}

// derive returns acts with the activities they derive appended.
func (c *correlator) derive(ctx context.Context, acts []*activity.Activity) ([]*activity.Activity, error) {
	derived, err := c.detector.Observe(ctx, acts)
	return append(acts, derived...), err
}

// advance moves the clock to t unless it is past t already.
func (c *correlator) advance(t time.Time) {
	if t.After(c.clock) {
		c.clock = t
	}
}

// due returns the digests of the windows that ended by the clock.
func (c *correlator) due(ctx context.Context, end bool) ([]correlation.Digest, error) {
	if c.notifier == nil {
		return nil, nil
	}
	now := c.clock
	if end {
		now = now.Add(100 * 365 * 24 * time.Hour)
	}
	ds, err := c.notifier.Sweep(ctx, now)
	for _, d := range ds {
		if err := c.notifier.Digested(ctx, d); err != nil {
			return ds, err
		}
	}
	return ds, err
}
