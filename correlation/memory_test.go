package correlation_test

import (
	"context"
	"testing"
	"time"
	"unsafe"

	"github.com/activity-aware/ids/correlation"
)

// TestStoreKeepsCopies: a store keeps what it is given, not the caller's
// memory, which aaids replay reuses for batch after batch of activities.
func TestStoreKeepsCopies(t *testing.T) { stores(t, testStoreKeepsCopies) }

func testStoreKeepsCopies(t *testing.T, s correlation.Store) {
	ctx := context.Background()
	var buf []byte
	// borrowed returns v as a string in buf's memory, as an activity built
	// in a reused batch holds its strings.
	borrowed := func(v string) string {
		start := len(buf)
		buf = append(buf, v...)
		return unsafe.String(&buf[start], len(v))
	}
	buf = make([]byte, 0, 4096)
	claim := correlation.Key{PK: borrowed("claim#id-1"), SK: borrowed("scope")}
	window := correlation.Key{PK: borrowed("group#alice"), SK: borrowed("window#1")}
	head := correlation.Key{PK: borrowed("group#alice"), SK: borrowed("head")}
	if r, err := s.Claim(ctx, claim, borrowed(correlation.StateCounted), borrowed("batch-1"), t0, time.Minute, t0.Add(time.Hour)); err != nil || !r.Won {
		t.Fatalf("Claim = %+v, %v", r, err)
	}
	if ok, err := s.Open(ctx, head, correlation.Head{Start: t0, End: t0.Add(time.Hour)}, t0.Add(2*time.Hour)); err != nil || !ok {
		t.Fatalf("Open = %v, %v", ok, err)
	}
	d := correlation.Delta{
		Add: map[string]int64{borrowed("count"): 2}, SetOnce: map[string]string{borrowed("first"): borrowed("id-1")},
		Set: map[string]string{borrowed("last"): borrowed("id-2")}, Once: borrowed("id-2"),
		Due: t0.Add(time.Hour), DuePartition: borrowed("replay"), Expires: t0.Add(2 * time.Hour),
	}
	if _, err := s.Add(ctx, window, d); err != nil {
		t.Fatal(err)
	}
	// The caller's memory is used again.
	for i := range buf {
		buf[i] = 'x'
	}

	if r, err := s.Claim(ctx, correlation.Key{PK: "claim#id-1", SK: "scope"}, correlation.StatePending, "", t0, time.Minute, t0.Add(time.Hour)); err != nil || r.Won || r.Old == nil || r.Old.State != correlation.StateCounted || r.Old.By != "batch-1" {
		t.Errorf("Claim of the stored claim = %+v (old %+v), %v; want the counted claim", r, r.Old, err)
	}
	if h, ok, err := s.Head(ctx, correlation.Key{PK: "group#alice", SK: "head"}); err != nil || !ok || !h.Start.Equal(t0) {
		t.Errorf("Head = %+v, %v, %v", h, ok, err)
	}
	again, err := s.Add(ctx, correlation.Key{PK: "group#alice", SK: "window#1"}, correlation.Delta{Once: "id-2", Add: map[string]int64{"count": 1}})
	if err != nil || !again.Repeated || again.Nums["count"] != 2 || again.Strs["first"] != "id-1" || again.Strs["last"] != "id-2" {
		t.Errorf("Add of the applied delta again = %+v, %v; want it repeated, count 2, first id-1, last id-2", again, err)
	}
	if due, err := s.Due(ctx, "replay", t0.Add(time.Hour)); err != nil || len(due) != 1 || due[0] != (correlation.Key{PK: "group#alice", SK: "window#1"}) {
		t.Errorf("Due = %v, %v", due, err)
	}
}
