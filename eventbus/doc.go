// Package eventbus is the EventBridge adapter between sources and
// destinations: a Publisher puts activities on the activity bus (batched
// within PutEvents' entry and size limits, entry-level partial failures
// retried), NewClient configures the SDK client it uses for a Lambda
// deadline, and Decode turns the event a destination's rule delivers back
// into the activity, refusing anything that is not an activity entry.
package eventbus
