package correlation

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/activity-aware/ids/activity"
)

// Notification defaults.
const (
	// DefaultWindow is how long a group's notifications are folded after its
	// first is posted: long enough that a flood costs two messages, short
	// enough that a digest arrives while the incident is still live.
	DefaultWindow = 10 * time.Minute
	// DefaultLease bounds how long an invocation holds an activity or a
	// digest before another may take it over; longer than a destination
	// function's timeout.
	DefaultLease = 2 * time.Minute
	// DefaultSuppressionCache is how long a notifier reuses the suppressions
	// it read, so one change applies within a minute.
	DefaultSuppressionCache = time.Minute
	// claimExpiry is how long an activity id is remembered: longer than
	// CloudTrail's and EventBridge's re-delivery horizons.
	claimExpiry = 24 * time.Hour
	// windowExpiry is how long a window outlives its end, for its digest.
	windowExpiry = 24 * time.Hour
)

// Group dimensions a Policy's GroupBy may list.
const (
	ByPrincipal = "principal"
	// ByDetection is the activity's first detection id, or its outcome when
	// it carries none.
	ByDetection = "detection"
	ByOutcome   = "outcome"
	ByAccount   = "account"
	BySourceIP  = "source-ip"
	ByService   = "service"
	ByAction    = "action"
)

// DefaultGroupBy groups by who did it and what it was: one flood from one
// principal is one group, while a second principal or a different detection
// gets its own first message.
var DefaultGroupBy = []string{ByPrincipal, ByDetection}

// Policy is one destination's notification policy.
type Policy struct {
	// Destination names the destination (one Slack channel): state is kept
	// per destination.
	Destination string
	// Window is how long a group is folded after its first post (default
	// DefaultWindow).
	Window time.Duration
	// GroupBy lists the dimensions of the group key (default DefaultGroupBy).
	GroupBy []string
}

// ParseGroupBy parses a comma-separated list of dimensions.
func ParseGroupBy(s string) ([]string, error) {
	var out []string
	for _, d := range strings.Split(s, ",") {
		d = strings.TrimSpace(d)
		switch d {
		case "":
			continue
		case ByPrincipal, ByDetection, ByOutcome, ByAccount, BySourceIP, ByService, ByAction:
			out = append(out, d)
		default:
			return nil, fmt.Errorf("correlation: unknown group dimension %q (want principal, detection, outcome, account, source-ip, service or action)", d)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("correlation: no group dimension in %q", s)
	}
	return out, nil
}

// Action is what a destination does with one activity.
type Action int

// The actions.
const (
	// Post: post the activity now.
	Post Action = iota + 1
	// Fold: count it in its group's digest.
	Fold
	// Suppress: a suppression applies; count it in the suppression's digest.
	Suppress
	// Duplicate: this destination handled the activity already.
	Duplicate
	// Reply: post the activity as a reply in the thread of its group's
	// first message (Decision.Thread), then record it with Replied. Only a
	// destination whose first post returned a thread (Decision.Thread set
	// before Posted: the Slack app mode) gets replies.
	Reply
)

func (a Action) String() string {
	switch a {
	case Post:
		return "post"
	case Fold:
		return "fold"
	case Suppress:
		return "suppress"
	case Duplicate:
		return "duplicate"
	case Reply:
		return "reply"
	}
	return "unknown"
}

// Decision is what to do with one activity, and how to record it done.
type Decision struct {
	Action Action
	// Suppression is the one that applies (Suppress).
	Suppression *Suppression
	// Thread is, for a Reply, the thread to reply in. For a Post, the
	// destination sets it before Posted when its message can carry a thread,
	// so that the group's repeats become replies.
	Thread *Thread
	claim  Key
	marks  Claimed
}

// Notifier applies a destination's policy: the first activity of a group
// within a window is posted at once; the rest are folded into a digest the
// window's end produces (Sweep); suppressed ones are counted in the
// suppression's digest; an activity id is handled once. Critical and high
// activities form groups of their own, so a flood of lower ones never folds
// their first occurrence.
type Notifier struct {
	Store  Store
	Policy Policy
	// Lease and SuppressionCache default to DefaultLease and
	// DefaultSuppressionCache.
	Lease            time.Duration
	SuppressionCache time.Duration

	mu        sync.Mutex
	cached    []Suppression
	cachedAt  time.Time
	cacheOnce bool
}

func (n *Notifier) window() time.Duration {
	if n.Policy.Window > 0 {
		return n.Policy.Window
	}
	return DefaultWindow
}

func (n *Notifier) lease() time.Duration {
	if n.Lease > 0 {
		return n.Lease
	}
	return DefaultLease
}

func (n *Notifier) scope() string { return n.Policy.Destination }

// Decide records a at time now and says what to do with it. A Post must be
// followed by Posted once delivered, or Failed when delivery failed; other
// actions are recorded already. ErrBusy means another invocation handles
// the activity right now: retry later.
func (n *Notifier) Decide(ctx context.Context, a *activity.Activity, now time.Time) (Decision, error) {
	d := Decision{claim: Key{PK: "claim#" + n.scope() + "#" + a.ID, SK: "-"}}
	res, err := n.Store.Claim(ctx, d.claim, StatePending, "", now, n.lease(), now.Add(claimExpiry))
	if err != nil {
		return d, fmt.Errorf("correlation: claim %s: %w", a.ID, err)
	}
	if !res.Won {
		if res.Old != nil && res.Old.State == StatePending {
			return d, fmt.Errorf("%w: %s", ErrBusy, a.ID)
		}
		d.Action = Duplicate
		return d, nil
	}
	if res.Old != nil && res.Old.Opener && res.Old.Counted {
		// A post that failed before: it is owed, and counted already.
		d.Action, d.marks = Post, *res.Old
		return d, nil
	}
	if res.Old != nil && res.Old.Reply && res.Old.Counted {
		// A reply that failed before: owed in the same thread.
		return n.retryReply(ctx, d, *res.Old, now)
	}
	sup, err := n.suppression(ctx, a, now)
	if err != nil {
		return d, err
	}
	group, label := n.groupKey(a)
	counter := attrCount
	if sup != nil {
		group, label = "suppression\x00"+sup.ID, "suppressed by "+sup.ID
		counter = attrSuppressed
		d.Suppression = sup
	}
	pk := "group#" + n.scope() + "#" + hashKey(group)
	var delta Delta
	addBreakdown(&delta, a, counter)
	opened, window, item, err := n.count(ctx, pk, now, delta, a, label, sup)
	if err != nil {
		return d, err
	}
	switch {
	case sup != nil:
		d.Action = Suppress
	case opened:
		d.Action, d.marks = Post, Claimed{Opener: true, Counted: true, Window: window}
		return d, nil
	case item.Strs[attrThreadTS] != "":
		// The group's first message has a thread: the repeat goes there.
		t := threadOf(item)
		d.Action, d.Thread, d.marks = Reply, &t, Claimed{Reply: true, Counted: true, Window: window}
		return d, nil
	default:
		// Folded into the digest; so is a repeat whose first message is
		// not posted yet (its thread is not known).
		d.Action = Fold
	}
	state := map[Action]string{Fold: StateFolded, Suppress: StateSuppressed}[d.Action]
	if err := n.Store.Settle(ctx, d.claim, state, Claimed{Counted: true}, now.Add(claimExpiry)); err != nil {
		return d, fmt.Errorf("correlation: settle %s: %w", a.ID, err)
	}
	return d, nil
}

// count adds delta to the group's current window, opening one when there is
// none; opened reports that a opened it, window and it are the window's key
// and its item after the addition.
func (n *Notifier) count(ctx context.Context, pk string, now time.Time, delta Delta, a *activity.Activity, label string, sup *Suppression) (opened bool, window Key, it Item, err error) {
	head := Key{PK: pk, SK: "head"}
	delta.Once = a.ID
	for range 8 {
		h, ok, err := n.Store.Head(ctx, head)
		if err != nil {
			return false, Key{}, Item{}, fmt.Errorf("correlation: read group: %w", err)
		}
		if ok && now.Before(h.End) {
			delta.Expires = h.End.Add(windowExpiry)
			window = windowKey(pk, h.Start)
			it, err := n.Store.Add(ctx, window, delta)
			if errors.Is(err, ErrSealed) {
				// Another clock closed the window: count in the next one.
				now = h.End
				continue
			}
			if err != nil {
				return false, Key{}, Item{}, fmt.Errorf("correlation: count: %w", err)
			}
			// Counted before by an attempt that did not settle: if that
			// attempt opened the window, its post is owed still.
			return it.Repeated && it.Strs[attrFirstID] == a.ID, window, it, nil
		}
		h = Head{Start: now, End: now.Add(n.window())}
		won, err := n.Store.Open(ctx, head, h, h.End.Add(windowExpiry))
		if err != nil {
			return false, Key{}, Item{}, fmt.Errorf("correlation: open window: %w", err)
		}
		if !won {
			continue
		}
		delta.Due, delta.DuePartition, delta.Expires = h.End, duePartition(n.scope()), h.End.Add(windowExpiry)
		for k, v := range map[string]string{
			attrFirstID: a.ID, attrSubject: activity.Truncate(a.Subject, 300), attrLabel: label,
			attrPrincipal: principalLabel(a), attrSeverity: string(a.Severity),
			attrStart: h.Start.UTC().Format(time.RFC3339Nano), attrEnd: h.End.UTC().Format(time.RFC3339Nano),
		} {
			delta.SetOnce[k] = v
		}
		if len(a.Links) > 0 {
			delta.SetOnce[attrLink] = a.Links[0].URL
		}
		if sup != nil {
			delta.SetOnce[attrMode] = "suppressed"
			delta.SetOnce["reason"] = activity.Truncate(sup.Reason, 300)
		} else if a.Action != nil && a.Action.Outcome == activity.Denied {
			delta.SetOnce[attrMode] = "denied"
		}
		window = windowKey(pk, h.Start)
		it, err := n.Store.Add(ctx, window, delta)
		if err != nil {
			return false, Key{}, Item{}, fmt.Errorf("correlation: count: %w", err)
		}
		return true, window, it, nil
	}
	return false, Key{}, Item{}, fmt.Errorf("correlation: group of %s: window contended, retry", a.ID)
}

// Posted records a posted activity. For the first of a window with
// d.Thread set (by the destination), the thread is kept on the window, so
// the group's next activities are Replies in it.
func (n *Notifier) Posted(ctx context.Context, d Decision, now time.Time) error {
	if err := n.Store.Settle(ctx, d.claim, StatePosted, d.marks, now.Add(claimExpiry)); err != nil {
		return fmt.Errorf("correlation: settle: %w", err)
	}
	if d.Thread == nil || !d.marks.Opener || d.marks.Window == (Key{}) {
		return nil
	}
	_, err := n.Store.Add(ctx, d.marks.Window, Delta{Set: map[string]string{
		attrThreadChannel: d.Thread.Channel, attrThreadTS: d.Thread.TS, attrThreadParent: d.Thread.Parent,
	}})
	if errors.Is(err, ErrSealed) {
		// The window closed while its first post was in flight: its
		// digest went out without a thread.
		return nil
	}
	if err != nil {
		return fmt.Errorf("correlation: keep thread: %w", err)
	}
	return nil
}

// Replied records a Reply posted and returns the thread with its counts
// after it (for the parent's count line). A window closed meanwhile keeps
// its final counts: the thread is returned as the decision saw it.
func (n *Notifier) Replied(ctx context.Context, d Decision, now time.Time) (Thread, error) {
	var t Thread
	if d.Thread != nil {
		t = *d.Thread
	}
	if err := n.Store.Settle(ctx, d.claim, StatePosted, d.marks, now.Add(claimExpiry)); err != nil {
		return t, fmt.Errorf("correlation: settle: %w", err)
	}
	// Once: the claim's key, which names the activity, so a retried
	// request counts its reply once.
	it, err := n.Store.Add(ctx, d.marks.Window, Delta{Add: map[string]int64{attrReplies: 1}, Once: d.claim.PK})
	if errors.Is(err, ErrSealed) {
		return t, nil
	}
	if err != nil {
		return t, fmt.Errorf("correlation: count reply: %w", err)
	}
	return threadOf(it), nil
}

// retryReply is the Decision for a reply whose post failed before: its
// window's thread, read again.
func (n *Notifier) retryReply(ctx context.Context, d Decision, old Claimed, now time.Time) (Decision, error) {
	it, ok, err := n.Store.Get(ctx, old.Window)
	if err != nil {
		return d, fmt.Errorf("correlation: read thread: %w", err)
	}
	d.marks = old
	if !ok || it.Strs[attrThreadTS] == "" {
		// The window expired: the activity was counted in its digest.
		d.Action = Fold
		if err := n.Store.Settle(ctx, d.claim, StateFolded, old, now.Add(claimExpiry)); err != nil {
			return d, fmt.Errorf("correlation: settle: %w", err)
		}
		return d, nil
	}
	t := threadOf(it)
	d.Action, d.Thread = Reply, &t
	return d, nil
}

// Failed records that the post of d failed: the activity stays counted and
// owed, and its retry posts it at once.
func (n *Notifier) Failed(ctx context.Context, d Decision, now time.Time) error {
	if err := n.Store.Settle(ctx, d.claim, StatePending, d.marks, now.Add(claimExpiry)); err != nil {
		return fmt.Errorf("correlation: release: %w", err)
	}
	return nil
}

func windowKey(pk string, start time.Time) Key {
	return Key{PK: pk, SK: "w#" + strconv.FormatInt(start.UnixNano(), 10)}
}

func duePartition(scope string) string { return "due#" + scope }

// hashKey bounds a group key (whose parts come from the event) to a fixed
// length for the table's key.
func hashKey(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:16])
}

// groupKey returns the activity's group key and its label for a digest.
func (n *Notifier) groupKey(a *activity.Activity) (key, label string) {
	dims := n.Policy.GroupBy
	if len(dims) == 0 {
		dims = DefaultGroupBy
	}
	var keys, labels []string
	for _, dim := range dims {
		k, l := dimension(a, dim)
		keys = append(keys, dim+"="+k)
		labels = append(labels, l)
	}
	if a.Severity.Rank() >= activity.High.Rank() {
		keys = append(keys, "severity="+string(a.Severity))
	}
	return strings.Join(keys, "\x00"), strings.Join(labels, ", ")
}

func dimension(a *activity.Activity, dim string) (key, label string) {
	outcome := "unknown"
	if a.Action != nil && a.Action.Outcome != "" {
		outcome = string(a.Action.Outcome)
	}
	switch dim {
	case ByPrincipal:
		return principalKey(a), principalLabel(a)
	case ByDetection:
		if len(a.Detections) > 0 {
			return a.Detections[0].ID, a.Detections[0].Title
		}
		return "outcome:" + outcome, outcome
	case ByOutcome:
		return outcome, outcome
	case ByAccount:
		return a.Account.ID, "account " + a.Account.ID
	case BySourceIP:
		if a.Actor != nil {
			return a.Actor.SourceIP, a.Actor.SourceIP
		}
	case ByService:
		return serviceName(a), serviceName(a)
	case ByAction:
		return actionName(a), actionName(a)
	}
	return "", ""
}

// suppression returns the first active suppression matching a, reading the
// store at most once per SuppressionCache.
func (n *Notifier) suppression(ctx context.Context, a *activity.Activity, now time.Time) (*Suppression, error) {
	ttl := n.SuppressionCache
	if ttl <= 0 {
		ttl = DefaultSuppressionCache
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	wall := time.Now()
	if !n.cacheOnce || wall.Sub(n.cachedAt) >= ttl {
		list, err := n.Store.Suppressions(ctx)
		if err != nil {
			return nil, fmt.Errorf("correlation: read suppressions: %w", err)
		}
		n.cached, n.cachedAt, n.cacheOnce = list, wall, true
	}
	i := slices.IndexFunc(n.cached, func(s Suppression) bool { return s.Matches(a, now) })
	if i < 0 {
		return nil, nil
	}
	s := n.cached[i]
	return &s, nil
}

// Digest is what a group's window folded, produced once when it ends.
type Digest struct {
	// Label names the group, e.g. "IAMUser ci-deployer, Unauthorized API calls".
	Label     string
	Principal string
	Severity  activity.Severity
	// BySuppression is set for a suppression's digest; Reason is its reason.
	BySuppression bool
	Reason        string
	// Denied is set when the group's activities are denied calls.
	Denied bool
	Start  time.Time
	End    time.Time
	// FirstID, FirstSubject and FirstLink describe the activity posted first.
	FirstID, FirstSubject, FirstLink string
	// Thread is the first message's thread, when the destination threads
	// (Slack app mode); nil otherwise.
	Thread *Thread
	Breakdown
	key Key
}

// Group is the hashed key of the digest's group, as GroupKeyBy returns it
// for the group's activities (a suppression's digest: of the suppression).
func (d *Digest) Group() string {
	return d.key.PK[strings.LastIndexByte(d.key.PK, '#')+1:]
}

// Folded is how many activities the digest stands for beyond the first
// post: the group's folded activities, or a suppression's suppressed ones.
func (d *Digest) Folded() int64 {
	if d.BySuppression {
		return d.Suppressed
	}
	return d.Count - 1
}

// Sweep seals every window of the destination that ended at or before now
// and returns the digests owed: a window whose first post was all it held
// needs none. Each returned digest must be followed by Digested once
// posted; one that is not is swept again when its lease ends.
func (n *Notifier) Sweep(ctx context.Context, now time.Time) ([]Digest, error) {
	keys, err := n.Store.Due(ctx, duePartition(n.scope()), now)
	if err != nil {
		return nil, fmt.Errorf("correlation: due windows: %w", err)
	}
	var out []Digest
	for _, k := range keys {
		it, ok, err := n.Store.Seal(ctx, k, now, n.lease())
		if err != nil {
			return out, fmt.Errorf("correlation: seal window: %w", err)
		}
		if !ok {
			continue
		}
		dg := digestOf(it, k)
		if dg.Count <= 1 && dg.Suppressed == 0 {
			if err := n.Store.Done(ctx, k); err != nil {
				return out, fmt.Errorf("correlation: close window: %w", err)
			}
			continue
		}
		out = append(out, dg)
	}
	return out, nil
}

// Digested records a digest posted.
func (n *Notifier) Digested(ctx context.Context, d Digest) error {
	if err := n.Store.Done(ctx, d.key); err != nil {
		return fmt.Errorf("correlation: close window: %w", err)
	}
	return nil
}

func digestOf(it Item, k Key) Digest {
	d := Digest{
		Label: it.Strs[attrLabel], Principal: it.Strs[attrPrincipal], Severity: activity.Severity(it.Strs[attrSeverity]),
		BySuppression: it.Strs[attrMode] == "suppressed", Denied: it.Strs[attrMode] == "denied", Reason: it.Strs["reason"],
		FirstID: it.Strs[attrFirstID], FirstSubject: it.Strs[attrSubject], FirstLink: it.Strs[attrLink],
		Breakdown: breakdownOf(it), key: k,
	}
	d.Start, _ = time.Parse(time.RFC3339Nano, it.Strs[attrStart])
	d.End, _ = time.Parse(time.RFC3339Nano, it.Strs[attrEnd])
	if it.Strs[attrThreadTS] != "" {
		t := threadOf(it)
		d.Thread = &t
	}
	return d
}
