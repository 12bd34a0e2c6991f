package awsevents

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/activity-aware/ids/activity"
)

// The environment of the event-source function: the constructs write it
// (Config.Environment), the function's main reads it (ConfigFromEnv).
const (
	// EnvEventBusName is the activity bus. Required.
	EnvEventBusName = "EVENT_BUS_NAME"
	// EnvSources lists the source names the function reads, comma-separated,
	// e.g. "guardduty". Required.
	EnvSources = "EVENT_SOURCES"
	// EnvPutEventsMaxBytes bounds one PutEvents request and entry. Default
	// activity.DefaultMaxEntrySize.
	EnvPutEventsMaxBytes = "PUT_EVENTS_MAX_BYTES"
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
	c := Config{
		EventBusName:      getenv(EnvEventBusName),
		Sources:           List(getenv(EnvSources)),
		PutEventsMaxBytes: activity.DefaultMaxEntrySize,
		SkipProducts:      List(getenv(EnvSkipProducts)),
	}
	if c.EventBusName == "" {
		return Config{}, fmt.Errorf("%w: %s is not set", ErrConfig, EnvEventBusName)
	}
	if len(c.Sources) == 0 {
		return Config{}, fmt.Errorf("%w: %s is not set", ErrConfig, EnvSources)
	}
	if v := getenv(EnvPutEventsMaxBytes); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return Config{}, fmt.Errorf("%w: %s: want a positive number of bytes, got %q", ErrConfig, EnvPutEventsMaxBytes, v)
		}
		c.PutEventsMaxBytes = n
	}
	return c, nil
}

// Environment returns the variables that configure the function with c:
// what ConfigFromEnv reads back. Values may be CDK tokens.
func (c Config) Environment() map[string]string {
	env := map[string]string{
		EnvEventBusName: c.EventBusName,
		EnvSources:      strings.Join(c.Sources, ","),
	}
	if c.PutEventsMaxBytes != 0 {
		env[EnvPutEventsMaxBytes] = strconv.Itoa(c.PutEventsMaxBytes)
	}
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
