package cloudtrail

import (
	"errors"
	"fmt"
	"strings"

	"github.com/activity-aware/ids/denial"
	"github.com/activity-aware/ids/detections"
	"github.com/activity-aware/ids/eventbus"
	"github.com/activity-aware/ids/sources/awsevents"
)

// The environment of the source function: the construct writes it
// (Config.Environment), the function's main reads it (ConfigFromEnv).
const (
	// EnvEventBusName names the activity bus. Required.
	EnvEventBusName = eventbus.EnvBusName
	// EnvDetections lists the detection preset ids or packs to evaluate,
	// comma-separated.
	EnvDetections = "DETECTIONS"
	// EnvExclusions tunes the presets: a JSON object of preset id to the
	// principal ARNs it ignores (detections.ParseExclusions). Optional.
	EnvExclusions = "DETECTION_EXCLUSIONS"
	// EnvDetectionsOnly, "true", publishes only what a detection labels
	// (Handler.Keep = KeepLabelled): the subscription filter delivers more
	// than the presets match (the broad prefilter, or tuned presets).
	// Optional, default false.
	EnvDetectionsOnly = "DETECTIONS_ONLY"
	// EnvPutEventsMaxBytes bounds one PutEvents request and entry.
	EnvPutEventsMaxBytes = eventbus.EnvMaxBytes
	// EnvNamingPrefix and EnvNamingTrailLogGroup tell the self-protection
	// presets how the deployment names its resources (detections.Naming):
	// the stack name its resources carry, and the CloudTrail log group it
	// reads. Optional, default detections.DefaultNaming; the log group
	// alone is an error, the prefix alone keeps the default log group (a
	// stack without a subscription).
	EnvNamingPrefix        = "DETECTIONS_NAMING_PREFIX"
	EnvNamingTrailLogGroup = "DETECTIONS_TRAIL_LOG_GROUP"
	// EnvFailureQueueURL is the queue the log events of a partly published
	// batch are parked in (Handler.Failures). Default: none, such a batch
	// fails as a whole.
	EnvFailureQueueURL = "FAILURE_QUEUE_URL"
)

// ErrConfig reports an environment the source function cannot run with.
var ErrConfig = errors.New("cloudtrail: configuration")

// Config is what the source function is configured with; each field comes
// from the variable of its name above (Naming from the two EnvNaming ones).
type Config struct {
	EventBusName      string
	Detections        []string // preset ids or packs
	Exclusions        detections.Exclusions
	DetectionsOnly    bool
	PutEventsMaxBytes int               // 0: activity.DefaultMaxEntrySize
	Naming            detections.Naming // zero: detections.DefaultNaming
	FailureQueueURL   string            // "": a partly published batch fails as a whole
}

// ConfigFromEnv reads and checks the configuration from getenv (os.Getenv in
// the function). A missing bus name, a malformed size or an unknown preset
// id is an error wrapping ErrConfig that names the variable.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := Config{FailureQueueURL: getenv(EnvFailureQueueURL)}
	var err error
	if c.EventBusName, c.PutEventsMaxBytes, err = eventbus.FromEnv(getenv); err != nil {
		return Config{}, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	c.Detections = awsevents.List(getenv(EnvDetections))
	c.Naming = detections.Naming{Prefix: getenv(EnvNamingPrefix), TrailLogGroup: getenv(EnvNamingTrailLogGroup)}
	switch {
	case c.Naming.Prefix == "" && c.Naming.TrailLogGroup != "":
		return Config{}, fmt.Errorf("%w: %s is set without %s", ErrConfig, EnvNamingTrailLogGroup, EnvNamingPrefix)
	case c.Naming.Prefix != "" && c.Naming.TrailLogGroup == "":
		c.Naming.TrailLogGroup = detections.DefaultNaming.TrailLogGroup
	}
	presets, err := detections.LookupFor(c.Naming, c.Detections...)
	if err != nil {
		return Config{}, fmt.Errorf("%w: %s: %w", ErrConfig, EnvDetections, err)
	}
	if c.Exclusions, err = detections.ParseExclusions(getenv(EnvExclusions)); err != nil {
		return Config{}, fmt.Errorf("%w: %s: %w", ErrConfig, EnvExclusions, err)
	}
	if _, err := detections.Tune(presets, c.Exclusions); err != nil {
		return Config{}, fmt.Errorf("%w: %s: %w", ErrConfig, EnvExclusions, err)
	}
	switch v := getenv(EnvDetectionsOnly); v {
	case "", "false":
	case "true":
		c.DetectionsOnly = true
	default:
		return Config{}, fmt.Errorf("%w: %s: want true or false, got %q", ErrConfig, EnvDetectionsOnly, v)
	}
	return c, nil
}

// Presets returns the configured presets, tuned by the exclusions.
func (c Config) Presets() ([]*detections.Preset, error) {
	presets, err := detections.LookupFor(c.Naming, c.Detections...)
	if err != nil {
		return nil, fmt.Errorf("cloudtrail: %s: %w", EnvDetections, err)
	}
	return detections.Tune(presets, c.Exclusions)
}

// NewSource returns the source the function runs with c: the labels of the
// detection presets c names (tuned by its exclusions), then the denial
// explanation, on every activity. The Lambda main builds its source so, and
// so do the benchmark and aaids replay, so that they measure and show what
// is deployed.
func (c Config) NewSource() (*Source, error) {
	presets, err := c.Presets()
	if err != nil {
		return nil, err
	}
	return New(Options{Enrichers: []Enricher{detections.NewSet(presets), denial.Enricher{}}}), nil
}

// Environment returns the variables that configure the function with c:
// what ConfigFromEnv reads back. Values may be CDK tokens.
func (c Config) Environment() map[string]string {
	env := eventbus.Environment(c.EventBusName, c.PutEventsMaxBytes)
	env[EnvDetections] = strings.Join(c.Detections, ",")
	if len(c.Exclusions) > 0 {
		env[EnvExclusions] = c.Exclusions.String()
	}
	if c.DetectionsOnly {
		env[EnvDetectionsOnly] = "true"
	}
	if c.FailureQueueURL != "" {
		env[EnvFailureQueueURL] = c.FailureQueueURL
	}
	if c.Naming != (detections.Naming{}) {
		env[EnvNamingPrefix] = c.Naming.Prefix
		env[EnvNamingTrailLogGroup] = c.Naming.TrailLogGroup
	}
	return env
}
