package eventbus_test

import (
	"bytes"
	"testing"
	"unsafe"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/eventbus"
)

// TestEntryBlock encodes a mix of small entries, entries larger than a block
// and entries that must be bounded, and checks each is what NewEntry gives,
// that no Detail's capacity reaches into the next, and that the Details
// sharing a block do not overlap: after all are encoded, each still reads as its own.
func TestEntryBlock(t *testing.T) {
	const block = 1 << 20 // the largest block
	var acts []*activity.Activity
	acts = append(acts, activities(t, 300)...)   // 300 × ~2 KB: several blocks
	acts = append(acts, large(t, 3, 3*block)...) // beyond the limit: Bound
	acts = append(acts, large(t, 3, block/2)...) // larger than the room left
	acts = append(acts, activities(t, 50)...)
	const maxSize = 2 * block
	var b eventbus.EntryBlock
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
}
