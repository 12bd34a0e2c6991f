package awsevents

import (
	"errors"
	"fmt"
	"strings"

	"github.com/activity-aware/ids/eventbus"
)

// The environment of the event-source function: the constructs write it
// (Config.Environment), the function's main reads it (ConfigFromEnv).
const (
	// EnvEventBusName names the activity bus. Required.
	EnvEventBusName = eventbus.EnvBusName
	// EnvSources lists the source names the function reads, comma-separated,
	// e.g. "guardduty". Required.
	EnvSources = "EVENT_SOURCES"
	// EnvPutEventsMaxBytes bounds one PutEvents request and entry.
	EnvPutEventsMaxBytes = eventbus.EnvMaxBytes
	// EnvSkipProducts lists the Security Hub product names whose findings the
	// Security Hub source skips, comma-separated ("GuardDuty" when the
	// GuardDuty source reports them already).
	EnvSkipProducts = "SECURITYHUB_SKIP_PRODUCTS"
)

// ErrConfig reports an environment the event-source function cannot run
// with.
var ErrConfig = errors.New("awsevents: configuration")

// Config is what the event-source function is configured with.
type Config struct {
	// EventBusName is the activity bus the activities are published on.
	EventBusName string
	// Sources are the names of the sources the function reads.
	Sources []string
	// PutEventsMaxBytes bounds one PutEvents request and entry; 0 means
	// activity.DefaultMaxEntrySize.
	PutEventsMaxBytes int
	// SkipProducts are the Security Hub products whose findings are skipped.
	SkipProducts []string
}

// ConfigFromEnv reads and checks the configuration from getenv (os.Getenv in
// the function). A missing variable or a malformed size is an error wrapping
// ErrConfig that names the variable; the function's main checks the source
// names, which it alone knows.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := Config{Sources: List(getenv(EnvSources)), SkipProducts: List(getenv(EnvSkipProducts))}
	var err error
	if c.EventBusName, c.PutEventsMaxBytes, err = eventbus.FromEnv(getenv); err != nil {
		return Config{}, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if len(c.Sources) == 0 {
		return Config{}, fmt.Errorf("%w: %s is not set", ErrConfig, EnvSources)
	}
	return c, nil
}

// Environment returns the variables that configure the function with c:
// what ConfigFromEnv reads back. Values may be CDK tokens.
func (c Config) Environment() map[string]string {
	env := eventbus.Environment(c.EventBusName, c.PutEventsMaxBytes)
	env[EnvSources] = strings.Join(c.Sources, ",")
	if len(c.SkipProducts) > 0 {
		env[EnvSkipProducts] = strings.Join(c.SkipProducts, ",")
	}
	return env
}

// List splits a comma-separated list, dropping blanks.
func List(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}
