package correlation

// The attributes a window keeps for its thread.
const (
	attrThreadChannel = "tch"
	attrThreadTS      = "tts"
	attrThreadParent  = "tparent"
	attrReplies       = "replies"
)

// Thread is the first message of a group's window in a destination that
// threads the group's repeats under it (the Slack app mode): where it is,
// what it shows and what its thread holds. The destination fills Channel,
// TS and Parent when it posts the first message; the notifier keeps them on
// the window and counts the replies.
type Thread struct {
	// Channel and TS locate the first message.
	Channel, TS string
	// Parent is the first message as the destination rendered it (its own
	// encoding), so a later invocation can update it with a count without
	// the activity.
	Parent string
	// Replies is how many of the group's repeats were posted in the thread;
	// Repeats is how many the window counted beyond its first, folded
	// ones (which came before the thread was known) and those in flight
	// included.
	Replies, Repeats int64
}

func threadOf(it Item) Thread {
	return Thread{
		Channel: it.Strs[attrThreadChannel], TS: it.Strs[attrThreadTS], Parent: it.Strs[attrThreadParent],
		Replies: it.Nums[attrReplies], Repeats: max(it.Nums[attrCount]-1, 0),
	}
}
