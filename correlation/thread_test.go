package correlation_test

import (
	"context"
	"testing"
	"time"

	"github.com/activity-aware/ids/correlation"
)

func TestNotifierThreads(t *testing.T) {
	stores(t, testNotifierThreads)
}

// testNotifierThreads: a first post that returns a thread makes the
// window's repeats replies in it; a failed reply is retried in the same
// thread and counted once; the digest carries the thread with its count.
func testNotifierThreads(t *testing.T, store correlation.Store) {
	ctx := context.Background()
	n := notifier(store)
	acts := denials("erin", 5, time.Second)
	d, err := n.Decide(ctx, acts[0], t0)
	if err != nil || d.Action != correlation.Post || d.Thread != nil {
		t.Fatalf("first: %v %+v %v", d.Action, d.Thread, err)
	}
	// A repeat before the first post recorded its thread is folded.
	early, err := n.Decide(ctx, acts[1], t0)
	if err != nil || early.Action != correlation.Fold {
		t.Fatalf("repeat before the thread: %v %v, want fold", early.Action, err)
	}
	d.Thread = &correlation.Thread{Channel: "C0123456789", TS: "1700000000.000100", Parent: `{"text":"parent"}`}
	if err := n.Posted(ctx, d, t0); err != nil {
		t.Fatal(err)
	}
	r, err := n.Decide(ctx, acts[2], t0.Add(time.Second))
	if err != nil || r.Action != correlation.Reply || r.Thread == nil || r.Thread.TS != "1700000000.000100" || r.Thread.Parent != `{"text":"parent"}` {
		t.Fatalf("repeat: %v %+v %v, want a reply in the thread", r.Action, r.Thread, err)
	}
	// The reply fails, and its retry is a reply in the same thread.
	if err := n.Failed(ctx, r, t0); err != nil {
		t.Fatal(err)
	}
	r, err = n.Decide(ctx, acts[2], t0.Add(2*time.Second))
	if err != nil || r.Action != correlation.Reply || r.Thread.TS != "1700000000.000100" {
		t.Fatalf("retried reply: %v %+v %v", r.Action, r.Thread, err)
	}
	th, err := n.Replied(ctx, r, t0)
	if err != nil || th.Replies != 1 || th.Repeats != 2 {
		t.Fatalf("after the reply: %+v %v, want 1 reply of 2 repeats", th, err)
	}
	if d, _ := n.Decide(ctx, acts[2], t0.Add(3*time.Second)); d.Action != correlation.Duplicate {
		t.Fatalf("replied activity again: %v", d.Action)
	}
	r, _ = n.Decide(ctx, acts[3], t0.Add(3*time.Second))
	if th, err = n.Replied(ctx, r, t0); err != nil || th.Replies != 2 {
		t.Fatalf("second reply: %+v %v", th, err)
	}
	ds, err := n.Sweep(ctx, t0.Add(time.Hour))
	if err != nil || len(ds) != 1 {
		t.Fatalf("digests %+v %v", ds, err)
	}
	dg := ds[0]
	if dg.Count != 4 || dg.Thread == nil || dg.Thread.Replies != 2 || dg.Thread.Repeats != 3 || dg.Thread.TS != "1700000000.000100" {
		t.Fatalf("digest count %d thread %+v, want 4 counted, 2 replies of 3 repeats", dg.Count, dg.Thread)
	}
}

func TestNotifierWithoutThreadFolds(t *testing.T) {
	stores(t, func(t *testing.T, store correlation.Store) {
		ctx := context.Background()
		n := notifier(store)
		acts := denials("frank", 3, time.Second)
		d, _ := n.Decide(ctx, acts[0], t0)
		if err := n.Posted(ctx, d, t0); err != nil {
			t.Fatal(err)
		}
		for _, a := range acts[1:] {
			if d, err := n.Decide(ctx, a, t0); err != nil || d.Action != correlation.Fold {
				t.Fatalf("%s: %v %v, want fold (no thread: webhook mode)", a.ID, d.Action, err)
			}
		}
		if ds, _ := n.Sweep(ctx, t0.Add(time.Hour)); len(ds) != 1 || ds[0].Thread != nil {
			t.Fatalf("digests %+v", ds)
		}
	})
}
