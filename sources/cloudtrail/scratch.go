package cloudtrail

import (
	"github.com/valyala/fastjson"

	"github.com/activity-aware/ids/activity"
)

// scratch is the working state of one standardization at a time: parsers, a
// string interner and a buffer. A Source pools them, so a warm Lambda reuses
// them batch after batch.
type scratch struct {
	// batch parses a subscription batch, record each record in it (the
	// batch's values must stay valid while its records are parsed).
	batch, record fastjson.Parser
	// interned maps text to one string holding it. CloudTrail records of one
	// account repeat most values (event sources, regions, account ids, role
	// ARNs, user agents, error codes); sharing one string per value saves an
	// allocation per member and per record.
	interned map[string]string
	// rec is the record being read; its values live in the record parser.
	rec record
	// hashID is the fallback id of the record being read (see fromRecord).
	hashID string
	// num holds the text of the last number read; buf builds the strings of
	// one activity that share an allocation.
	num, buf []byte
	// blocks, when not nil, holds the activities of the batch being
	// standardized: one allocation for the batch, owned by its activities
	// (never reused by the scratch).
	blocks []recordActivity
}

// newBlock returns a zero recordActivity, from sc.blocks while it has room.
func (sc *scratch) newBlock() *recordActivity {
	if len(sc.blocks) < cap(sc.blocks) {
		sc.blocks = sc.blocks[:len(sc.blocks)+1]
		return &sc.blocks[len(sc.blocks)-1]
	}
	return new(recordActivity)
}

// Interning limits: values longer than maxInternLen are rarely repeated, and
// the table is emptied when it reaches maxInterned entries, which bounds its
// memory whatever the input.
const (
	maxInternLen = 256
	maxInterned  = 8192
)

func newScratch() *scratch {
	return &scratch{interned: make(map[string]string, 512)}
}

// intern returns b as a string, shared with earlier equal values.
func (sc *scratch) intern(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if len(b) > maxInternLen {
		return string(b)
	}
	if s, ok := sc.interned[string(b)]; ok {
		return s
	}
	if len(sc.interned) >= maxInterned {
		clear(sc.interned)
	}
	s := string(b)
	sc.interned[s] = s
	return s
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
