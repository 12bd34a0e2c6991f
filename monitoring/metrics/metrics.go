// Package metrics is what the functions measure and how they report it:
// CloudWatch embedded metric format (EMF) lines on standard output, which
// CloudWatch Logs turns into metrics with no API call, no client and no
// permission. The names below are the contract between the functions that
// emit them and the monitoring construct that alarms on them.
//
// The lines are written by github.com/prozz/aws-embedded-metrics-golang, the
// Go EMF library the module proxy serves (its maintained fork,
// dangrier/aws-embedded-metrics-golang, needs Go 1.27 and is not on the
// proxy; udhos/aws-emf is not either). It is used without its Lambda default
// dimensions (a ServiceName/ServiceType set that would double every metric)
// and always with one dimension set, because it writes "Dimensions": null
// without one, which CloudWatch rejects.
package metrics

import (
	"io"
	"os"
	"sync"
	"time"

	"github.com/prozz/aws-embedded-metrics-golang/emf"
)

// Namespace holds every metric the project emits.
const Namespace = "ActivityAwareIDS"

// Dimension names. Each line carries the function's name and either the
// source or the destination it serves, and nothing else: every distinct
// combination is a billed custom metric.
const (
	DimFunction    = "Function"
	DimSource      = "Source"
	DimDestination = "Destination"
)

// Metrics a source emits, once per invocation.
const (
	// RecordsIn counts the log events (CloudTrail records) a batch carried.
	RecordsIn = "RecordsIn"
	// ActivitiesPublished counts activities put on the bus.
	ActivitiesPublished = "ActivitiesPublished"
	// Unrecognized counts records the source could not read as CloudTrail
	// and published as "unrecognized" activities.
	Unrecognized = "Unrecognized"
	// PublishFailures counts activities an invocation could not put on the
	// bus (the invocation fails, Lambda retries it, and finally parks the
	// batch in the on-failure queue).
	PublishFailures = "PublishFailures"
	// PublishRetries counts entries sent again after PutEvents reported them
	// failed with a retryable code.
	PublishRetries = "PublishRetries"
	// HeartbeatsSent counts canary activities the source published.
	HeartbeatsSent = "HeartbeatsSent"
	// RecordsFiltered counts records a broad subscription filter delivered
	// that no enabled detection labelled, which the source did not publish.
	RecordsFiltered = "RecordsFiltered"
)

// Metrics a destination emits, once per invocation.
const (
	// Posts counts messages delivered.
	Posts = "Posts"
	// DeliveryFailures counts activities whose delivery failed this
	// invocation (Lambda retries them, then parks them).
	DeliveryFailures = "DeliveryFailures"
	// PermanentErrors counts deliveries the destination's service refused
	// for good (Slack: a 4xx other than 429).
	PermanentErrors = "PermanentErrors"
	// ColdStartPermanentErrors counts permanent errors on the first delivery
	// of an execution environment: the webhook itself is refused (revoked,
	// channel archived, secret pointing elsewhere), so every later delivery
	// will fail too and the alarm fires at once rather than after retries.
	ColdStartPermanentErrors = "ColdStartPermanentErrors"
	// DeliveryLatency is the time from the event to its delivery.
	DeliveryLatency = "DeliveryLatency"
	// CanaryDelivered counts heartbeat activities that reached the
	// destination through the bus and its rule. It is the heartbeat alarm's
	// metric: none in a period means the path is broken.
	CanaryDelivered = "CanaryDelivered"
	// CanaryLatency is the time from the heartbeat's schedule to its
	// arrival at the destination.
	CanaryLatency = "CanaryLatency"
	// Digests and Folded count digest messages and the activities they
	// fold, for destinations that digest.
	Digests = "Digests"
	Folded  = "Folded"
	// Suppressed counts activities a suppression kept from being posted
	// (counted in the suppression's digest); Duplicates counts re-delivered
	// activities a destination had handled already.
	Suppressed = "Suppressed"
	Duplicates = "Duplicates"
)

// Unit is a CloudWatch metric unit.
type Unit = emf.MetricUnit

// Units the project uses.
const (
	Count        = emf.Count
	Milliseconds = emf.Milliseconds
)

// Value is one metric's value in a line.
type Value struct {
	Name  string
	Value float64
	Unit  Unit
}

// N is a count.
func N(name string, n int) Value { return Value{Name: name, Value: float64(n), Unit: Count} }

// Duration is a duration in milliseconds.
func Duration(name string, d time.Duration) Value {
	return Value{Name: name, Value: float64(d) / float64(time.Millisecond), Unit: Milliseconds}
}

// Emitter writes EMF lines for one function. It is safe for concurrent use;
// each Emit is one write of one line.
type Emitter struct {
	out  io.Writer
	dims []emf.Dimension
	// Now stamps each line; time.Now when nil.
	Now func() time.Time
	mu  sync.Mutex
}

// New returns an emitter writing to out (os.Stdout when nil) with the
// function's name and the source or destination dimension, e.g.
// New(nil, fn, DimSource, "cloudtrail").
func New(out io.Writer, function, dim, value string) *Emitter {
	if out == nil {
		out = os.Stdout
	}
	return &Emitter{out: out, dims: []emf.Dimension{emf.NewDimension(DimFunction, function), emf.NewDimension(dim, value)}}
}

// Emit writes one line with values; it writes nothing when values is empty.
func (e *Emitter) Emit(values ...Value) {
	if e == nil || len(values) == 0 {
		return
	}
	now := time.Now
	if e.Now != nil {
		now = e.Now
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	l := emf.New(emf.WithWriter(e.out), emf.WithoutDimensions(), emf.WithTimestamp(now())).
		Namespace(Namespace).
		DimensionSet(e.dims...)
	for _, v := range values {
		l.MetricFloatAs(v.Name, v.Value, v.Unit)
	}
	l.Log()
}
