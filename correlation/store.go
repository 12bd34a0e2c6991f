package correlation

import (
	"context"
	"errors"
	"time"
)

// Sentinel errors, for errors.Is.
var (
	// ErrSealed reports an Add to a window whose digest is being or has been
	// written: the caller counts into the next window instead.
	ErrSealed = errors.New("correlation: window sealed")
	// ErrBusy reports an activity another invocation is handling right now
	// (its claim's lease has not expired): retry it later.
	ErrBusy = errors.New("correlation: activity is being handled elsewhere")
	// ErrNotFound reports a suppression id that names none.
	ErrNotFound = errors.New("correlation: not found")
)

// Key locates one item of state: a partition and a sort key, as the
// DynamoDB table's pk and sk.
type Key struct {
	PK, SK string
}

// Claim states. A claim records what became of one activity at one scope
// (a destination, or a correlation), so that a re-delivered activity is
// handled once.
const (
	// StatePending: an invocation holds the claim until its lease ends.
	StatePending = "pending"
	// StateCounted: a correlation counted the activity.
	StateCounted = "counted"
	// StatePosted, StateFolded, StateSuppressed: what a destination did.
	StatePosted     = "posted"
	StateFolded     = "folded"
	StateSuppressed = "suppressed"
)

// Claimed is a claim as it was before a Claim call replaced it.
type Claimed struct {
	State string
	// Opener is set when the activity opened its window (its post is owed).
	Opener bool
	// Counted is set once the activity was added to its window.
	Counted bool
	// Reply is set when the activity is owed as a reply in its window's
	// thread (Action Reply).
	Reply bool
	// Window is the window the activity was counted in, for an opener and a
	// reply (whose retry must find the thread); zero otherwise.
	Window Key
	// By names the claimant that made the claim, when it named one.
	By string
}

// ClaimResult says whether the caller won the claim and, when it took over
// an expired pending claim or lost, what the claim held.
type ClaimResult struct {
	Won bool
	// Old is the claim as it was; nil when there was none.
	Old *Claimed
}

// Delta is what activities add to a window item, in one atomic update.
type Delta struct {
	// Add increments numeric attributes (creating them at zero).
	Add map[string]int64
	// SetOnce sets string attributes that are not set yet.
	SetOnce map[string]string
	// Set overwrites string attributes.
	Set map[string]string
	// Due, when not zero, lists the window in the due index of partition
	// DuePartition at that time, so Due finds it once it ends.
	Due          time.Time
	DuePartition string
	// Expires is when the item may be deleted (the table's TTL); zero
	// leaves it as it is.
	Expires time.Time
	// Once, when set, names what the delta counts (an activity id): the
	// item keeps a short hash of every Once it applied, and a delta whose
	// Once it holds already is not applied again (Item.Repeated). A retried
	// request whose first answer was lost, or an invocation retried after
	// it counted, so counts an activity once. Past OnceLimit hashes the
	// item counts without them.
	Once string
}

// OnceLimit bounds the hashes of Delta.Once a window item keeps (8 bytes
// each): DynamoDB bills a write by the item's size, so the set would
// otherwise make every count of a flooded window dearer. Beyond it a
// retried activity may be counted twice, one in over a thousand.
const OnceLimit = 1000

// Item is a window item's counters and strings after an update.
type Item struct {
	Nums map[string]int64
	Strs map[string]string
	// Repeated reports an Add whose Delta.Once the item had applied
	// already: nothing changed.
	Repeated bool
}

// Head is the current window of a group: activities at times in [Start, End)
// are counted in the window item whose sort key is WindowSK(Start).
type Head struct {
	Start, End time.Time
}

// Store keeps correlation state. Every method is one atomic, conditional
// operation on one item, so that concurrent invocations never count an
// activity twice, lose a count or post one activity twice. MemoryStore and
// DynamoDBStore implement it.
type Store interface {
	// Claim records state for key when no claim exists, when the existing
	// one is pending and its lease has ended (a takeover), or when by is not
	// empty and the existing claim is by's (a claimant's retry takes back
	// its own claims; Old is that claim). With state StatePending the claim
	// is held until now+lease.
	Claim(ctx context.Context, key Key, state, by string, now time.Time, lease time.Duration, expires time.Time) (ClaimResult, error)
	// Settle sets a claim's final state, or with StatePending ends its
	// lease (so a retry takes it over at once) keeping the given marks.
	Settle(ctx context.Context, key Key, state string, marks Claimed, expires time.Time) error
	// Release deletes a claim, so the activity is handled again.
	Release(ctx context.Context, key Key) error

	// Head returns the group's current window, ok false when it has none.
	Head(ctx context.Context, key Key) (h Head, ok bool, err error)
	// Open makes h the group's window when it has none or its window ended
	// at or before h.Start; won is false when another window is current.
	Open(ctx context.Context, key Key, h Head, expires time.Time) (won bool, err error)
	// Add applies d to the item atomically and returns the item after it;
	// ErrSealed when the item is sealed.
	Add(ctx context.Context, key Key, d Delta) (Item, error)
	// Get returns a window item as it is, sealed or not; ok is false when
	// there is none.
	Get(ctx context.Context, key Key) (it Item, ok bool, err error)

	// Due returns the keys of the windows listed in partition's due index at
	// or before now.
	Due(ctx context.Context, partition string, now time.Time) ([]Key, error)
	// Seal stops Adds to the window and returns its final counts; ok is
	// false when it is done or another sweep holds it (until its lease ends).
	Seal(ctx context.Context, key Key, now time.Time, lease time.Duration) (it Item, ok bool, err error)
	// Done marks a sealed window's digest written and drops it from the due
	// index.
	Done(ctx context.Context, key Key) error

	// PutSuppression stores a suppression, replacing one with its id.
	PutSuppression(ctx context.Context, s Suppression) error
	// Suppressions lists every stored suppression, expired ones included.
	Suppressions(ctx context.Context) ([]Suppression, error)
	// DeleteSuppression removes one; ErrNotFound when there is none.
	DeleteSuppression(ctx context.Context, id string) error
}
