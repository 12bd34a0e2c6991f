package correlation

import (
	"cmp"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/activity-aware/ids/activity"
)

// The attributes a window item counts and keeps.
const (
	attrCount      = "n"
	attrSuppressed = "sup"
	attrFirstTime  = "first"
	attrLastTime   = "last"
	attrFirstID    = "firstId"
	attrSubject    = "subject"
	attrLink       = "link"
	attrLabel      = "label"
	attrPrincipal  = "principal"
	attrSeverity   = "severity"
	attrStart      = "start"
	attrEnd        = "end"
	attrMode       = "mode"
	// Prefixes of breakdown attributes: per service and per action counts,
	// and bounded slots of distinct source IPs and user agents.
	prefixService = "s:"
	prefixAction  = "a:"
	prefixIP      = "ip:"
	prefixAgent   = "ua:"
)

// Breakdown bounds: an attacker chooses user agents and can vary source IPs,
// so each keeps at most slots distinct values (the first value hashed to a
// slot stays), and every kept string is truncated.
const (
	ipSlots       = 8
	agentSlots    = 8
	maxValueRunes = 100
)

// principalKey identifies who made the call: the actor's ARN, else its
// principal id or access key id.
func principalKey(a *activity.Activity) string {
	if a.Actor == nil {
		return "unknown"
	}
	for _, s := range []string{a.Actor.ARN, a.Actor.PrincipalID, a.Actor.AccessKeyID} {
		if s != "" {
			return s
		}
	}
	return "unknown"
}

// principalLabel is the principal as a human reads it, e.g. "IAMUser ci-deployer".
func principalLabel(a *activity.Activity) string {
	if a.Actor == nil {
		return "unknown principal"
	}
	name := a.Actor.Name
	if name == "" {
		name = principalKey(a)
	}
	if a.Actor.Type != "" {
		return a.Actor.Type + " " + name
	}
	return name
}

// serviceName is the short service name, e.g. "iam" for iam.amazonaws.com.
func serviceName(a *activity.Activity) string {
	if a.Action == nil || a.Action.Service == "" {
		return "unknown"
	}
	s, _, _ := strings.Cut(a.Action.Service, ".")
	return s
}

func actionName(a *activity.Activity) string {
	if a.Action == nil || a.Action.Name == "" {
		return serviceName(a) + ":unknown"
	}
	return serviceName(a) + ":" + a.Action.Name
}

// slot names the bounded slot of a value: prefix plus its hash modulo n.
func slot(prefix, value string, n int) string {
	h := fnv.New32a()
	_, _ = h.Write([]byte(value))
	return prefix + strconv.Itoa(int(h.Sum32()%uint32(n)))
}

// addBreakdown adds one activity to a delta: its count, service, action,
// source IP and user agent, and the first and last times seen.
func addBreakdown(d *Delta, a *activity.Activity, counter string) {
	if d.Add == nil {
		d.Add, d.SetOnce, d.Set = map[string]int64{}, map[string]string{}, map[string]string{}
	}
	d.Add[counter]++
	d.Add[prefixService+activity.Truncate(serviceName(a), maxValueRunes)]++
	d.Add[prefixAction+activity.Truncate(actionName(a), maxValueRunes)]++
	if a.Actor != nil {
		if ip := a.Actor.SourceIP; ip != "" {
			d.SetOnce[slot(prefixIP, ip, ipSlots)] = activity.Truncate(ip, maxValueRunes)
		}
		if ua := a.Actor.UserAgent; ua != "" {
			d.SetOnce[slot(prefixAgent, ua, agentSlots)] = activity.Truncate(ua, maxValueRunes)
		}
	}
	t := a.Time.UTC().Format(time.RFC3339Nano)
	if f, ok := d.SetOnce[attrFirstTime]; !ok || t < f {
		d.SetOnce[attrFirstTime] = t
	}
	if l, ok := d.Set[attrLastTime]; !ok || t > l {
		d.Set[attrLastTime] = t
	}
}

// Breakdown is a window's counts as a digest or a derived activity states them.
type Breakdown struct {
	Count, Suppressed int64
	// Services and Actions are counts, most frequent first.
	Services, Actions []Count
	SourceIPs         []string
	UserAgents        []string
	First, Last       time.Time
}

// Count is one name's count.
type Count struct {
	Name string
	N    int64
}

// breakdownOf reads an item's breakdown attributes.
func breakdownOf(it Item) Breakdown {
	b := Breakdown{Count: it.Nums[attrCount], Suppressed: it.Nums[attrSuppressed]}
	for k, v := range it.Nums {
		switch {
		case strings.HasPrefix(k, prefixService):
			b.Services = append(b.Services, Count{strings.TrimPrefix(k, prefixService), v})
		case strings.HasPrefix(k, prefixAction):
			b.Actions = append(b.Actions, Count{strings.TrimPrefix(k, prefixAction), v})
		}
	}
	for k, v := range it.Strs {
		switch {
		case strings.HasPrefix(k, prefixIP):
			b.SourceIPs = append(b.SourceIPs, v)
		case strings.HasPrefix(k, prefixAgent):
			b.UserAgents = append(b.UserAgents, v)
		}
	}
	sortCounts(b.Services)
	sortCounts(b.Actions)
	sortStrings(b.SourceIPs)
	sortStrings(b.UserAgents)
	b.First, _ = time.Parse(time.RFC3339Nano, it.Strs[attrFirstTime])
	b.Last, _ = time.Parse(time.RFC3339Nano, it.Strs[attrLastTime])
	return b
}

// Span is the time from the first to the last activity, e.g. "3 min".
func (b Breakdown) Span() string { return span(b.Last.Sub(b.First)) }

func span(d time.Duration) string {
	switch {
	case d < time.Minute:
		return strconv.Itoa(int(d.Round(time.Second)/time.Second)) + " s"
	case d < time.Hour:
		return strconv.Itoa(int((d+30*time.Second)/time.Minute)) + " min"
	}
	return strconv.FormatFloat(d.Hours(), 'f', 1, 64) + " h"
}

// List formats up to max counts, e.g. "iam 90, s3 50, … (3 more)".
func List(cs []Count, max int) string {
	var b strings.Builder
	for i, c := range cs {
		if i == max {
			fmt.Fprintf(&b, ", … (%d more)", len(cs)-max)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %d", c.Name, c.N)
	}
	return b.String()
}

// Plural is n followed by word, with an s unless n is 1.
func Plural(n int64, word string) string {
	if n == 1 {
		return "1 " + word
	}
	if strings.HasSuffix(word, "ity") {
		return strconv.FormatInt(n, 10) + " " + strings.TrimSuffix(word, "y") + "ies"
	}
	return strconv.FormatInt(n, 10) + " " + word + "s"
}

func sortCounts(cs []Count) {
	slices.SortFunc(cs, func(a, b Count) int { return cmp.Or(cmp.Compare(b.N, a.N), cmp.Compare(a.Name, b.Name)) })
}

func sortStrings(ss []string) { slices.Sort(ss) }

// GroupKey is the key the default notification policy groups a by
// (principal and detection, severity for critical and high), hashed to a
// fixed length of hex digits. A destination that deduplicates downstream
// (PagerDuty's dedup_key) uses it, so a burst is one incident there too.
func GroupKey(a *activity.Activity) string {
	return GroupKeyBy(a, nil)
}

// GroupKeyBy is GroupKey under a policy grouping by dims (nil: the
// default): the key of the group Digest.Group names.
func GroupKeyBy(a *activity.Activity, dims []string) string {
	n := Notifier{Policy: Policy{GroupBy: dims}}
	k, _ := n.groupKey(a)
	return hashKey(k)
}
