package eventbus_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/eventbus"
)

// failingSender fails every Publish with err.
type failingSender struct{ err error }

func (s failingSender) Publish(context.Context, []*activity.Activity) error { return s.err }

// published is an error of a Publish that put every activity on the bus.
type published struct{}

func (published) Error() string   { return "published, not counted" }
func (published) Published() bool { return true }

// TestSendCountsFailures: Send counts as failed every activity of a failed
// Publish, those an UndeliveredError names, and none for a PublishedError,
// however wrapped.
func TestSendCountsFailures(t *testing.T) {
	acts := make([]*activity.Activity, 5)
	for _, tc := range []struct {
		name string
		err  error
		want int
	}{
		{"delivered", nil, 0},
		{"failed", errors.New("throttled"), 5},
		{"undelivered", fmt.Errorf("publish: %w", &eventbus.UndeliveredError{Failures: make([]eventbus.Failure, 2), Total: 5}), 2},
		{"published, then something failed", fmt.Errorf("source: %w", published{}), 0},
	} {
		sent, err := eventbus.Send(context.Background(), failingSender{tc.err}, acts)
		if sent.Failed != tc.want || !errors.Is(err, tc.err) {
			t.Errorf("%s: %d failed, %v; want %d, %v", tc.name, sent.Failed, err, tc.want, tc.err)
		}
	}
}
