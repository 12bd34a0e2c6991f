// Package heartbeat is the pipeline's canary: a schedule invokes the source
// function with a Request, the source publishes the synthetic activity
// Activity builds through its real publisher, the bus's rule hands it to each
// destination like any activity, and a destination that recognizes it (Is)
// records a delivered-canary metric instead of posting. An alarm on that
// metric, with missing data treated as breaching, fires when any link of the
// path (schedule, source, its bus permission, bus, rule, destination, its
// secret) stops working.
package heartbeat

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/eventbus"
	"github.com/activity-aware/ids/monitoring/metrics"
)

// Source is the activity source of the canary; its entries carry
// activity.SourcePrefix + Source.
const Source = "heartbeat"

// Tag marks the canary activity.
const Tag = "heartbeat"

// Request is the payload the schedule invokes the source function with:
// {"heartbeat":{"scheduledTime":"…","executionId":"…"}}, the two values
// filled in by EventBridge Scheduler's context attributes.
type Request struct {
	ScheduledTime string `json:"scheduledTime"`
	ExecutionID   string `json:"executionId"`
}

// probe is how far into a payload the heartbeat member may start; a
// CloudWatch Logs payload starts with {"awslogs" and is never parsed here.
const probe = 32

// ParseRequest reports whether payload is a heartbeat request, and reads it.
func ParseRequest(payload []byte) (Request, bool) {
	head := payload[:min(len(payload), probe)]
	if !bytes.Contains(head, []byte(`"heartbeat"`)) {
		return Request{}, false
	}
	var p struct {
		Heartbeat *Request `json:"heartbeat"`
	}
	if err := json.Unmarshal(payload, &p); err != nil || p.Heartbeat == nil {
		return Request{}, false
	}
	return *p.Heartbeat, true
}

// Activity is the canary for req: an info activity whose id is unique per
// schedule run (so no deduplication folds two runs into one), stamped with
// the scheduled time (now when the request has none or an unreadable one),
// so a destination can measure how long the path took.
func Activity(req Request, now time.Time) *activity.Activity {
	at, err := time.Parse(time.RFC3339, req.ScheduledTime)
	if err != nil {
		at = now
	}
	id := req.ExecutionID
	if id == "" {
		id = now.UTC().Format("20060102T150405.000000000Z")
	}
	return &activity.Activity{
		SchemaVersion: activity.SchemaVersion,
		ID:            "heartbeat-" + id,
		Source:        Source,
		Subject:       "Heartbeat: the Activity Aware IDS pipeline is delivering",
		Severity:      activity.Info,
		Time:          at.UTC(),
		Tags:          []string{Tag},
	}
}

// Is reports whether an activity that arrived from the bus is a canary the
// destination may absorb: published under the heartbeat source, tagged, and
// sent from account (the envelope's account, which EventBridge sets to the
// sender's; "" skips the check). A heartbeat from another account is not
// one: it is delivered like any activity, so a forged canary is seen rather
// than silently counted.
func Is(eventSource, eventAccount, account string, a *activity.Activity) bool {
	if eventSource != activity.SourcePrefix+Source || a.Source != Source {
		return false
	}
	if account != "" && eventAccount != account {
		return false
	}
	for _, t := range a.Tags {
		if strings.EqualFold(t, Tag) {
			return true
		}
	}
	return false
}

// Publisher delivers activities to the bus; eventbus.Publisher implements
// it, and its Retried count, when it has one, feeds PublishRetries.
type Publisher = eventbus.Sender

// Send publishes the canary for req through pub, as a source does when the
// schedule invokes it, and records one metric line on m (HeartbeatsSent,
// PublishFailures, PublishRetries) and one log line on log, which names
// component (e.g. "cloudtrail source"). A failed publish is an error, so
// the invocation fails and the heartbeat alarm's missing canary follows.
func Send(ctx context.Context, pub Publisher, req Request, now time.Time, m *metrics.Emitter, log *slog.Logger, component string) error {
	a := Activity(req, now)
	sent, err := eventbus.Send(ctx, pub, []*activity.Activity{a})
	values := []metrics.Value{metrics.N(metrics.PublishRetries, sent.Retries)}
	if err != nil {
		m.Emit(append(values, metrics.N(metrics.PublishFailures, 1))...)
		log.ErrorContext(ctx, component+": heartbeat publish failed", "activityId", a.ID, "error", err.Error())
		return fmt.Errorf("heartbeat: publish %s: %w", a.ID, err)
	}
	m.Emit(append(values, metrics.N(metrics.HeartbeatsSent, 1), metrics.N(metrics.PublishFailures, 0))...)
	log.InfoContext(ctx, component+": heartbeat published", "activityId", a.ID)
	return nil
}
