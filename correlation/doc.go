// Package correlation remembers what the system saw: it derives activities
// from bursts (one principal's many denials, and every detection preset with
// a Threshold), and applies each destination's notification policy:
// aggregation into digests, suppressions with expiry, and posting an activity
// id once.
//
// # Bursts and thresholds (Detector)
//
// A Rule counts the activities it selects per principal in tumbling windows
// of event time (so a replay derives exactly what the deployed source does).
// The activity that brings a window's count to the rule's Count makes one
// derived activity: source "correlation", its own deterministic id (rule,
// principal, window), the rule's severity and detection id, the breakdown
// (per service and action, source IPs, user agents, first and last time) in
// its fields. The default rule is DenialBurst: 20 denied calls within 10
// minutes, severity high, detection id "denial-burst". Windows are tumbling,
// so a burst split evenly across a window boundary may stay under the count
// in both halves; at the default count an enumeration tool (hundreds of
// calls a minute) crosses it within seconds either way.
//
// # Notification policy (Notifier)
//
// Per destination, activities are grouped by a key (default principal and
// detection, or principal and outcome when the activity carries no
// detection; critical and high activities form groups of their own). The
// first activity of a group opens a window (default 10 minutes, anchored at
// it) and is posted at once; the rest of the window is folded; when the
// window ends, Sweep returns one Digest with the window's total and its
// breakdown. Suppressed activities are counted in their suppression's own
// digest and never posted one by one; a suppression never applies to a
// critical activity unless it names the activity's detection, and stops
// applying when it expires. The deployed destination sweeps once a minute
// (a scheduled rule), so a digest follows its window's end within a minute
// without further traffic; aaids replay sweeps as its event-time clock
// advances and at the end of the input.
//
// A destination that can thread (the Slack app mode) hands the notifier the
// first post's Thread (channel, ts, the rendered message) with Posted; it is
// kept on the window, and the window's later activities are decided Reply
// instead of Fold: posted in that thread, claimed until posted (a failed
// reply is retried in the same thread), and counted on the window, whose
// Digest carries the Thread so the destination can update the first
// message's count and post the digest in the thread. A repeat decided before
// the first post recorded its thread is folded as before: counted in the
// digest, never lost.
//
// # State and concurrency (Store)
//
// Every Store operation is one conditional write or atomic counter update
// on one item, so MemoryStore (replay, tests) and DynamoDBStore (deployed)
// share the logic. An activity is claimed per destination (a conditional
// put with a lease): a re-delivered activity finds the claim and is dropped,
// one being handled elsewhere is retried later, and a failed post leaves the
// claim owed so its retry posts it at once without counting it again. A
// window is opened by a conditional write that only one invocation wins;
// counts are atomic additions; a digest seals its window (a conditional
// write) before reading the counts, so nothing is added after the digest
// and exactly one sweep writes it. A process that dies between counting an
// activity and recording its claim settled may count that activity twice
// when its retry takes the claim over: a count is never lost, and at worst
// one too many.
package correlation
