package eventbus

import (
	"sync"
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
// few blocks instead of one allocation per entry, and Release hands the
// blocks on to the next EntryBlock, so that a function publishing batch after
// batch reuses the same few megabytes instead of allocating, clearing and
// collecting them each time. Publish uses one per call and releases it when
// its requests are done; the source's benchmark (tools/bench/standardize)
// does as Publish does. The zero value is ready to use; it is not safe for
// concurrent use. An entry's Detail stays valid until Release.
type EntryBlock struct {
	free  []byte    // the unused part of the current block
	size  int       // the last block size of the schedule: the next new block is twice it
	taken []*[]byte // every block in use, for Release
}

// recycled holds the blocks of released EntryBlocks, of any of the sizes
// above.
var recycled sync.Pool

// take returns an empty block: a released one, else a new one of b.size.
func (b *EntryBlock) take() []byte {
	p, _ := recycled.Get().(*[]byte)
	if p == nil {
		blk := make([]byte, 0, b.size)
		p = &blk
	}
	b.taken = append(b.taken, p)
	return (*p)[:0]
}

// Release gives b's blocks to later EntryBlocks and empties b: the Details of
// the entries it returned must not be read after it.
func (b *EntryBlock) Release() {
	for _, p := range b.taken {
		recycled.Put(p)
	}
	*b = EntryBlock{}
}

// Entry returns activity.AppendEntry of a, its Detail in the current block
// when it fits there (Bound's result and a Detail larger than the room left
// are allocated on their own).
func (b *EntryBlock) Entry(a *activity.Activity, maxSize int) (activity.Entry, error) {
	if cap(b.free) < entryBlockSlack {
		b.size = min(max(2*b.size, entryBlockMin), entryBlockMax)
		b.free = b.take()
	}
	e, err := activity.AppendEntry(b.free, a, maxSize)
	if n := len(e.Detail); n > 0 && n <= cap(b.free) && unsafe.SliceData(e.Detail) == unsafe.SliceData(b.free) {
		e.Detail = e.Detail[:n:n] // an append by its owner copies
		b.free = b.free[n:n]
	}
	return e, err
}
