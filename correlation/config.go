package correlation

import (
	"errors"
	"fmt"
	"strconv"
	"time"
)

// The environment of a source function that correlates what it publishes:
// the cloudtrailsource construct writes it (DetectorConfig.Environment),
// the function's main reads it (DetectorConfigFromEnv).
const (
	// EnvStateTable is the state table; unset, the source derives nothing.
	EnvStateTable = "STATE_TABLE"
	// EnvBurstCount and EnvBurstWindow configure DenialBurst. Defaults
	// DefaultBurstCount and DefaultBurstWindow.
	EnvBurstCount  = "BURST_COUNT"
	EnvBurstWindow = "BURST_WINDOW"
)

// The environment of a destination function that applies a notification
// policy: the destination constructs write it, NotifierConfigFromEnv reads
// it (with EnvStateTable).
const (
	// EnvDestinationName names the destination in the state table, so
	// destinations sharing a table keep their own groups.
	EnvDestinationName = "DESTINATION_NAME"
	// EnvNotifyWindow is the aggregation window (a Go duration). Default
	// DefaultWindow.
	EnvNotifyWindow = "NOTIFY_WINDOW"
	// EnvNotifyGroupBy is the group key's dimensions, comma-separated.
	// Default DefaultGroupBy.
	EnvNotifyGroupBy = "NOTIFY_GROUP_BY"
)

// ErrConfig reports an environment a correlating function cannot run with.
var ErrConfig = errors.New("correlation: configuration")

// DetectorConfig configures a source's Detector.
type DetectorConfig struct {
	// StateTable is the state table; empty: no correlation.
	StateTable  string
	BurstCount  int
	BurstWindow time.Duration
}

// DetectorConfigFromEnv reads the configuration from getenv; a malformed
// value is an error wrapping ErrConfig that names the variable.
func DetectorConfigFromEnv(getenv func(string) string) (DetectorConfig, error) {
	c := DetectorConfig{StateTable: getenv(EnvStateTable), BurstCount: DefaultBurstCount, BurstWindow: DefaultBurstWindow}
	if c.StateTable == "" {
		return DetectorConfig{}, nil
	}
	if v := getenv(EnvBurstCount); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return DetectorConfig{}, fmt.Errorf("%w: %s: want a positive count, got %q", ErrConfig, EnvBurstCount, v)
		}
		c.BurstCount = n
	}
	if v := getenv(EnvBurstWindow); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return DetectorConfig{}, fmt.Errorf("%w: %s: want a duration such as 10m, got %q", ErrConfig, EnvBurstWindow, v)
		}
		c.BurstWindow = d
	}
	return c, nil
}

// Environment returns the variables DetectorConfigFromEnv reads back.
func (c DetectorConfig) Environment() map[string]string {
	if c.StateTable == "" {
		return map[string]string{}
	}
	return map[string]string{
		EnvStateTable:  c.StateTable,
		EnvBurstCount:  strconv.Itoa(c.BurstCount),
		EnvBurstWindow: c.BurstWindow.String(),
	}
}

// NotifierConfig configures a destination's Notifier.
type NotifierConfig struct {
	// StateTable is the state table; empty: no notification policy, every
	// activity is delivered.
	StateTable string
	Policy     Policy
}

// NotifierConfigFromEnv reads the configuration from getenv; the
// destination's name defaults to name. A malformed value is an error
// wrapping ErrConfig that names the variable.
func NotifierConfigFromEnv(getenv func(string) string, name string) (NotifierConfig, error) {
	c := NotifierConfig{StateTable: getenv(EnvStateTable)}
	if c.StateTable == "" {
		return NotifierConfig{}, nil
	}
	c.Policy = Policy{Destination: getenv(EnvDestinationName), Window: DefaultWindow, GroupBy: DefaultGroupBy}
	if c.Policy.Destination == "" {
		c.Policy.Destination = name
	}
	if v := getenv(EnvNotifyWindow); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return NotifierConfig{}, fmt.Errorf("%w: %s: want a duration such as 10m, got %q", ErrConfig, EnvNotifyWindow, v)
		}
		c.Policy.Window = d
	}
	if v := getenv(EnvNotifyGroupBy); v != "" {
		dims, err := ParseGroupBy(v)
		if err != nil {
			return NotifierConfig{}, fmt.Errorf("%w: %s: %w", ErrConfig, EnvNotifyGroupBy, err)
		}
		c.Policy.GroupBy = dims
	}
	return c, nil
}
