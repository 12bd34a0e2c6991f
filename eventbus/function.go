package eventbus

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/activity-aware/ids/activity"
)

// The environment every function that publishes activities reads (the
// CloudTrail source and the event-source function): the constructs write it
// (Environment), the functions' mains read it (FromEnv).
const (
	// EnvBusName names the activity bus. Required.
	EnvBusName = "EVENT_BUS_NAME"
	// EnvMaxBytes bounds one PutEvents request and entry. Default
	// activity.DefaultMaxEntrySize.
	EnvMaxBytes = "PUT_EVENTS_MAX_BYTES"
)

// FromEnv reads the bus name and the request bound from getenv (os.Getenv in
// the function): a missing name or a size that is not a positive number is
// an error that names the variable; a missing size is
// activity.DefaultMaxEntrySize.
func FromEnv(getenv func(string) string) (busName string, maxBytes int, err error) {
	busName, maxBytes = getenv(EnvBusName), activity.DefaultMaxEntrySize
	if busName == "" {
		return "", 0, fmt.Errorf("%s is not set", EnvBusName)
	}
	if v := getenv(EnvMaxBytes); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return "", 0, fmt.Errorf("%s: want a positive number of bytes, got %q", EnvMaxBytes, v)
		}
		maxBytes = n
	}
	return busName, maxBytes, nil
}

// Environment returns the variables FromEnv reads back (maxBytes 0 leaves
// the default). Values may be CDK tokens.
func Environment(busName string, maxBytes int) map[string]string {
	env := map[string]string{EnvBusName: busName}
	if maxBytes != 0 {
		env[EnvMaxBytes] = strconv.Itoa(maxBytes)
	}
	return env
}

// Sender delivers activities to the activity bus; *Publisher implements it.
// It returns an error unless every activity was delivered. It keeps no
// activity once it returns: a caller may build the next ones in their
// memory (the CloudTrail source does).
type Sender interface {
	Publish(ctx context.Context, acts []*activity.Activity) error
}

var _ Sender = (*Publisher)(nil)

// Sent is what one Publish through a Sender came to, for the metrics.
type Sent struct {
	// Failed counts the activities that are not on the bus: those an
	// *UndeliveredError names, none for a PublishedError, else all of them
	// when Publish failed.
	Failed int
	// Retries counts the entries sent again (Publisher.Retried); 0 for a
	// Sender that does not count them.
	Retries int
}

// PublishedError is an error of a Publish that put every activity on the
// bus: what failed came after (correlation.CountError).
type PublishedError interface {
	error
	Published() bool
}

// Send publishes acts through s and reports, beside Publish's error, how
// many were not delivered and how many entries were sent again.
func Send(ctx context.Context, s Sender, acts []*activity.Activity) (Sent, error) {
	rc, _ := s.(interface{ Retried() int64 })
	retried := func() int64 {
		if rc == nil {
			return 0
		}
		return rc.Retried()
	}
	before := retried()
	err := s.Publish(ctx, acts)
	sent := Sent{Retries: int(retried() - before)}
	if p, ok := errors.AsType[PublishedError](err); ok && p.Published() {
		return sent, err
	}
	if err != nil {
		sent.Failed = len(acts)
		if ue, ok := errors.AsType[*UndeliveredError](err); ok && len(ue.Failures) > 0 {
			sent.Failed = len(ue.Failures)
		}
	}
	return sent, err
}
