package eventbus

import (
	"unsafe"

	"github.com/activity-aware/ids/activity"
)

// Sizes of the blocks an EntryBlock encodes Details into: the first is small,
// for a call that publishes a few activities, each next one twice the last,
// up to entryBlockMax; a block with less than entryBlockSlack bytes free is
// left to the entries in it.
const (
	entryBlockMin   = 32 << 10
	entryBlockMax   = 1 << 20
	entryBlockSlack = 8 << 10
)

// EntryBlock encodes activities as entries whose Details share large blocks
// of memory: a maximum subscription batch (864 entries of about 3 KB) takes a
// few allocations instead of one per entry. Publish uses one per call; the
// source's benchmark (tools/bench/standardize) does as Publish does. The
// zero value is ready to use; it is not safe for concurrent use. An entry's
// Detail stays valid as long as the entry is referenced.
type EntryBlock struct {
	free []byte // the unused part of the current block
	size int    // of the current block
}

// Entry returns activity.AppendEntry of a, its Detail in the current block
// when it fits there (Bound's result and a Detail larger than the room left
// are allocated on their own).
func (b *EntryBlock) Entry(a *activity.Activity, maxSize int) (activity.Entry, error) {
	if cap(b.free) < entryBlockSlack {
		b.size = min(max(2*b.size, entryBlockMin), entryBlockMax)
		b.free = make([]byte, 0, b.size)
	}
	e, err := activity.AppendEntry(b.free, a, maxSize)
	if n := len(e.Detail); n > 0 && n <= cap(b.free) && unsafe.SliceData(e.Detail) == unsafe.SliceData(b.free) {
		e.Detail = e.Detail[:n:n] // an append by its owner copies
		b.free = b.free[n:n]
	}
	return e, err
}
