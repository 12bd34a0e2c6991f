package eventbus

import (
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/activity-aware/ids/activity"
)

// ErrNotActivity reports an EventBridge event that is not an activity entry.
var ErrNotActivity = errors.New("eventbus: not an activity")

// Decode returns the activity an EventBridge rule delivered. It checks the
// envelope (source prefix and detail type) and the activity's schema version:
// any 1.x is accepted, another major version is an error that names it.
func Decode(ev events.EventBridgeEvent) (*activity.Activity, error) {
	if !strings.HasPrefix(ev.Source, activity.SourcePrefix) {
		return nil, fmt.Errorf("%w: source %q does not start with %q", ErrNotActivity, ev.Source, activity.SourcePrefix)
	}
	if ev.DetailType != activity.DetailType {
		return nil, fmt.Errorf("%w: detail-type %q, want %q", ErrNotActivity, ev.DetailType, activity.DetailType)
	}
	if len(ev.Detail) == 0 {
		return nil, fmt.Errorf("%w: event %s has no detail", ErrNotActivity, ev.ID)
	}
	a, err := activity.Parse(ev.Detail)
	if err != nil {
		return nil, fmt.Errorf("eventbus: event %s: %w", ev.ID, err)
	}
	return a, nil
}
