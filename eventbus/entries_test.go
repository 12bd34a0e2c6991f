package eventbus_test

import (
	"bytes"
	"runtime/debug"
	"testing"
	"unsafe"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/eventbus"
)

// TestEntryBlock encodes a mix of small entries, entries larger than a block
// and entries that must be bounded, and checks each is what NewEntry gives,
// that no Detail's capacity reaches into the next, and that the Details
// sharing a block do not overlap: after all are encoded, each still reads as
// its own. It does so three times, releasing the blocks in between: the
// second and third rounds write into the blocks of the rounds before.
func TestEntryBlock(t *testing.T) {
	const block = 1 << 20 // the largest block
	var acts []*activity.Activity
	acts = append(acts, activities(t, 300)...)   // 300 × ~2 KB: several blocks
	acts = append(acts, large(t, 3, 3*block)...) // beyond the limit: Bound
	acts = append(acts, large(t, 3, block/2)...) // larger than the room left
	acts = append(acts, activities(t, 50)...)
	// No collection between the rounds, which would empty the pool of
	// released blocks.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	seen := map[*byte]bool{} // the start of every block a round wrote into
	reused := 0
	for round := range 3 {
		var b eventbus.EntryBlock
		got := entryBlockRound(t, &b, acts)
		for _, e := range got {
			p := unsafe.SliceData(e.Detail)
			if round == 0 {
				seen[p] = true
			} else if seen[p] {
				reused++
			}
		}
		b.Release()
	}
	// The race detector drops a quarter of what a sync.Pool is given; the
	// pool still returns most of the blocks.
	if reused == 0 {
		t.Error("no entry of the later rounds starts a block of the first: Release did not hand its blocks on")
	}
}

// entryBlockRound encodes acts with b and checks the entries (see
// TestEntryBlock).
func entryBlockRound(t *testing.T, b *eventbus.EntryBlock, acts []*activity.Activity) []activity.Entry {
	t.Helper()
	const maxSize = 2 << 20
	got := make([]activity.Entry, len(acts))
	shared := 0
	for i, a := range acts {
		e, err := b.Entry(a, maxSize)
		if err != nil {
			t.Fatal(err)
		}
		if prev := got[max(i-1, 0)].Detail; i > 0 && unsafe.Add(unsafe.Pointer(unsafe.SliceData(prev)), len(prev)) == unsafe.Pointer(unsafe.SliceData(e.Detail)) {
			shared++ // written right after the previous one, in the same block
		}
		got[i] = e
	}
	// No entry's capacity reaches into another's Detail: an append to one
	// must not write over the next.
	for i := 1; i < len(got); i++ {
		prev := got[i-1].Detail
		end, next := uintptr(unsafe.Pointer(unsafe.SliceData(prev))), uintptr(unsafe.Pointer(unsafe.SliceData(got[i].Detail)))
		if next >= end+uintptr(len(prev)) && next < end+uintptr(cap(prev)) {
			t.Fatalf("entry %d: its capacity %d beyond its length %d reaches entry %d", i-1, cap(prev), len(prev), i)
		}
	}
	for i, a := range acts {
		want, err := activity.NewEntry(a, maxSize)
		if err != nil {
			t.Fatal(err)
		}
		if got[i].Source != want.Source || got[i].DetailType != want.DetailType || !bytes.Equal(got[i].Detail, want.Detail) {
			t.Fatalf("entry %d differs from NewEntry's:\n got %.200s\nwant %.200s", i, got[i].Detail, want.Detail)
		}
	}
	if shared < 300 {
		t.Errorf("%d of %d entries followed the previous one in its block, want most", shared, len(acts))
	}
	return got
}
