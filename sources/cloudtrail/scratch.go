package cloudtrail

import (
	"sync"
	"unsafe"

	"github.com/valyala/fastjson"

	"github.com/activity-aware/ids/activity"
)

// scratch is the working state of one standardization at a time: parsers, a
// string arena and a buffer.
type scratch struct {
	record fastjson.Parser
	// arena holds the text of the strings of the activities built so far
	// (see keep): one allocation for many strings, none per member.
	arena []byte
	// rec is the record being read; its values live in the record parser.
	rec record
	// num holds the text of the last number read; buf builds the strings of
	// one activity that share an allocation.
	num, buf []byte
	// batch, while a batch is standardized, is the memory its activities
	// are built in (the scratch never keeps it).
	batch *Batch
}

// newBlock returns a zero recordActivity, from the batch while it has room.
func (sc *scratch) newBlock() *recordActivity {
	if b := sc.batch; b != nil && len(b.blocks) < cap(b.blocks) {
		b.blocks = b.blocks[:len(b.blocks)+1]
		return &b.blocks[len(b.blocks)-1]
	}
	return new(recordActivity)
}

// arenaChunk is the size of the byte blocks the strings of activities are
// copied into: one allocation for the strings of several records.
const arenaChunk = 16 << 10

// scratches pools working states, so a warm Lambda reuses their parser
// and buffers batch after batch.
var scratches = sync.Pool{New: func() any { return new(scratch) }}

// putScratch keeps sc for the next call, unless a hostile batch made its
// buffers huge.
func putScratch(sc *scratch) {
	if cap(sc.buf) <= maxInflated {
		scratches.Put(sc)
	}
}

// keep returns b as a string copied into sc.arena. A chunk of the arena is
// never written again where a string points, so the strings stay valid after
// the scratch moves on; a full chunk is left to the strings that use it.
func (sc *scratch) keep(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if len(b) > cap(sc.arena)-len(sc.arena) {
		sc.arena = sc.batch.chunk(len(b))
	}
	start := len(sc.arena)
	sc.arena = append(sc.arena, b...)
	return unsafe.String(&sc.arena[start], len(b))
}

// recordActivity holds an activity of a recognized record and the parts it
// points to, so that they take one allocation instead of six.
type recordActivity struct {
	activity activity.Activity
	actor    activity.Actor
	action   activity.Action
	fields   [13]activity.Field
	links    [1]activity.Link
	mfa      bool
	readOnly bool
}
