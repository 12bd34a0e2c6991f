package eventtext

import (
	"strconv"
	"strings"
	"time"

	"github.com/activity-aware/ids/correlation"
)

// DigestText is a group's digest as the destinations outside Slack show it.
// Head, Summary and the facts' values are raw text (labels, principals,
// user agents and subjects come from the events): each format makes them
// safe within its own limits, as it does an activity's Facts.
type DigestText struct {
	// Head names the digest: "Digest: <group>" or "Suppressed: <n>
	// <activities>".
	Head string
	// Tally is the window's count, e.g. "400 denied calls" ("12
	// activities" for a suppression's).
	Tally string
	// Summary states the total, e.g. "IAMUser ci-deployer: 400 denied
	// calls in 3 min (1 posted, 399 folded)".
	Summary string
	// Facts are the breakdown: by service, actions, source IPs, user
	// agents, the first activity's subject, the window and ids.
	Facts []Fact
	// Link is the first activity's AWS console link; empty when it has
	// none (or one to another host).
	Link string
	// Total is how many activities the window held (counted and
	// suppressed).
	Total int64
}

// Digest returns d's text. Its numbers are the digest's own: Total is what
// the window counted, of which one was delivered at once and the rest
// folded (a suppression's digest counts what was suppressed).
func Digest(d *correlation.Digest) DigestText {
	noun := "activity"
	if d.Denied {
		noun = "denied call"
	}
	t := DigestText{Total: d.Count + d.Suppressed, Tally: correlation.Plural(d.Count, noun)}
	principal := d.Principal
	if strings.TrimSpace(principal) == "" {
		principal = "?"
	}
	if d.BySuppression {
		t.Tally = correlation.Plural(d.Suppressed, noun)
		t.Head = "Suppressed: " + correlation.Plural(d.Suppressed, noun)
		t.Summary = correlation.Plural(d.Suppressed, noun) + " suppressed in " + d.Breakdown.Span()
	} else {
		t.Head = "Digest: " + d.Label
		t.Summary = principal + ": " + correlation.Plural(d.Count, noun) + " in " + d.Breakdown.Span() +
			" (1 delivered at once, " + strconv.FormatInt(d.Folded(), 10) + " folded)"
	}
	add := func(label, value string) {
		if strings.TrimSpace(value) != "" {
			t.Facts = append(t.Facts, Fact{label, value})
		}
	}
	if d.BySuppression {
		add("Reason", d.Reason)
	}
	add("By service", correlation.List(d.Services, 15))
	add("Actions", correlation.List(d.Actions, 40))
	add("Source IPs", strings.Join(d.SourceIPs, ", "))
	for i, ua := range d.UserAgents {
		add("User agent "+strconv.Itoa(i+1), ua)
	}
	if !d.BySuppression {
		add("First (delivered at once)", d.FirstSubject)
	}
	if !d.Start.IsZero() {
		add("Window", d.Start.UTC().Format(time.RFC3339)+" to "+d.End.UTC().Format(time.RFC3339))
	}
	add("First event ID", d.FirstID)
	add("Severity", string(d.Severity))
	if ConsoleURL(d.FirstLink) {
		t.Link = d.FirstLink
	}
	return t
}
