package correlation

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/detections"
)

// SourceName is the source of derived activities: their EventBridge Source
// is "activity-aware-ids.correlation".
const SourceName = "correlation"

// Denial burst defaults: 20 denied calls by one principal within 10 minutes.
// Panther's and matano's equivalents use 20 per actor and 5 in 15 minutes;
// 20 in 10 minutes stays quiet for an engineer finding a role's missing
// permissions (a few denials a minute) and fires within a minute of an
// enumeration tool starting (hundreds a minute).
const (
	DenialBurstID          = "denial-burst"
	DefaultBurstCount      = 20
	DefaultBurstWindow     = 10 * time.Minute
	TagDerived             = "derived"
	seenExpiry             = 24 * time.Hour
	burstExpiryAfterWindow = time.Hour
)

// ClaimPrefix starts the partition key of the claims the Detector counts
// each activity by (and releases when its count fails): the only items a
// source deletes (see the state table's GrantSource).
const ClaimPrefix = "seen#"

// Rule counts the activities it selects per principal in tumbling windows of
// event time; the activity that brings a window's count to Count makes one
// derived activity.
type Rule struct {
	// ID is the derived activity's detection id.
	ID       string
	Title    string
	Severity activity.Severity
	Count    int
	Window   time.Duration
	// Select picks the activities the rule counts.
	Select func(*activity.Activity) bool
	// noun names what is counted, e.g. "denied call".
	noun string
}

// DenialBurst is the rule for a burst of denials by one principal: count
// denied calls (0: DefaultBurstCount) within window (0: DefaultBurstWindow).
func DenialBurst(count int, window time.Duration) Rule {
	if count <= 0 {
		count = DefaultBurstCount
	}
	if window <= 0 {
		window = DefaultBurstWindow
	}
	return Rule{
		ID: DenialBurstID, Title: "Possible credential misuse", Severity: activity.High,
		Count: count, Window: window, noun: "denied call",
		Select: func(a *activity.Activity) bool { return a.Action != nil && a.Action.Outcome == activity.Denied },
	}
}

// ThresholdRules returns a rule for every preset with a Threshold: it counts
// the activities labelled with the preset and derives one of the preset's
// severity.
func ThresholdRules(presets []*detections.Preset) []Rule {
	var rules []Rule
	for _, p := range presets {
		if p.Threshold == nil || p.Threshold.Count <= 0 || p.Threshold.Window <= 0 {
			continue
		}
		id := p.ID
		rules = append(rules, Rule{
			ID: id, Title: p.Title, Severity: p.Severity, Count: p.Threshold.Count, Window: p.Threshold.Window,
			noun: "matching call",
			Select: func(a *activity.Activity) bool {
				return a.Source != SourceName && slices.ContainsFunc(a.Detections, func(d activity.Detection) bool { return d.ID == id })
			},
		})
	}
	return rules
}

// Detector evaluates rules on the activities a source publishes and returns
// the derived activities, each once, however often its activities are
// delivered and however many invocations count them concurrently: every
// activity is counted once per rule (a claim on its id), and counts are
// atomic additions whose result tells exactly one invocation that it crossed
// the threshold.
//
// A count that fails (throttling, an outage) releases the claims of the
// activities it did not add, so that the retry of the batch counts them; the
// addition names the activities it adds (Delta.Once), so that a retry of an
// addition whose answer was lost does not add them twice. The claims name
// the batch they were made for (Claim's by: a hash of its claims in order),
// so that a retry of the same batch after an invocation that ended between
// its claims and its additions (a timeout), or whose releases failed, takes
// them back and counts them, once. Only a retry in other batches (a Kinesis
// batch split after a timeout) leaves those activities claimed and
// uncounted. The same batch delivered again after it was counted derives
// its bursts again, with the same ids, which destinations drop.
type Detector struct {
	Store Store
	Rules []Rule
	// Now is the clock for claims (default time.Now).
	Now func() time.Time
	// Concurrency is how many claims are made at once (default
	// DefaultClaimConcurrency): a batch of denials is up to 10,000 claims,
	// each a round trip to DynamoDB. With 1 they are made in turn, without
	// goroutines.
	Concurrency int
}

// DefaultClaimConcurrency is Detector.Concurrency's default: the idle
// connections the SDK's HTTP client keeps to a host
// (awshttp.DefaultHTTPTransportMaxIdleConnsPerHost), so that the claims
// reuse connections instead of opening (TLS handshakes) and closing more.
const DefaultClaimConcurrency = 10

type groupKey struct {
	rule      int
	principal string
	bucket    int64
}

// Observe counts acts and returns the activities derived from them.
// Activities derived by a correlation are not counted again.
func (d *Detector) Observe(ctx context.Context, acts []*activity.Activity) ([]*activity.Activity, error) {
	now := time.Now
	if d.Now != nil {
		now = d.Now
	}
	deltas := map[groupKey]*Delta{}
	last := map[groupKey]*activity.Activity{}
	claims := map[groupKey][]Key{} // the claims each group's addition counts
	var order []groupKey
	// release lets the retry count the claims not added.
	release := func(err error, keys []Key) error {
		errs := []error{err}
		for _, c := range keys {
			if rerr := d.Store.Release(ctx, c); rerr != nil {
				errs = append(errs, fmt.Errorf("correlation: release %s: %w", c.PK, rerr))
			}
		}
		return errors.Join(errs...)
	}
	// The claims this batch would make, and the batch's name for them.
	type candidate struct {
		a     *activity.Activity
		rule  int
		claim Key
	}
	var cands []candidate
	var batch []Key
	var named []byte // the claims' keys in order, for the batch's name
	for _, a := range acts {
		if a.Source == SourceName {
			continue
		}
		for i, r := range d.Rules {
			if r.Select(a) {
				claim := Key{PK: ClaimPrefix + r.ID + "#" + a.ID, SK: "-"}
				cands, batch = append(cands, candidate{a, i, claim}), append(batch, claim)
				named = append(append(named, claim.PK...), 0)
			}
		}
	}
	if len(cands) == 0 {
		return nil, nil
	}
	sum := sha256.Sum256(named)
	by, at := "batch:"+hex.EncodeToString(sum[:16]), now()
	won, err := d.claim(ctx, batch, by, at)
	if err != nil {
		var keys []Key
		for j, w := range won {
			if w {
				keys = append(keys, batch[j])
			}
		}
		return nil, release(err, keys)
	}
	for j, c := range cands {
		if !won[j] {
			continue // counted before: a re-delivery
		}
		a, r := c.a, d.Rules[c.rule]
		k := groupKey{rule: c.rule, principal: principalKey(a), bucket: a.Time.UnixNano() / int64(r.Window)}
		dl := deltas[k]
		if dl == nil {
			dl = &Delta{}
			deltas[k] = dl
			order = append(order, k)
		}
		addBreakdown(dl, a, attrCount)
		claims[k] = append(claims[k], c.claim)
		if l := last[k]; l == nil || !a.Time.Before(l.Time) {
			last[k] = a
		}
	}
	var derived []*activity.Activity
	for j, k := range order {
		r := d.Rules[k.rule]
		dl := deltas[k]
		end := time.Unix(0, (k.bucket+1)*int64(r.Window))
		dl.Expires = end.Add(burstExpiryAfterWindow)
		dl.Once = onceOf(claims[k])
		it, err := d.Store.Add(ctx, Key{PK: "burst#" + r.ID + "#" + k.principal, SK: strconv.FormatInt(k.bucket, 10)}, *dl)
		if err != nil {
			var keys []Key
			for _, k := range order[j:] {
				keys = append(keys, claims[k]...)
			}
			return derived, release(fmt.Errorf("correlation: count %s for %s: %w", r.ID, k.principal, err), keys)
		}
		// A repeated addition (its first answer lost) crossed the threshold
		// as it does now; the derived activity's id is the same.
		n := it.Nums[attrCount]
		if before := n - dl.Add[attrCount]; before < int64(r.Count) && n >= int64(r.Count) {
			derived = append(derived, r.derive(last[k], k, breakdownOf(it)))
		}
	}
	return derived, nil
}

// claim claims keys for the batch by, Concurrency at a time, and reports
// which it won; on an error, which it won before.
func (d *Detector) claim(ctx context.Context, keys []Key, by string, at time.Time) ([]bool, error) {
	won := make([]bool, len(keys))
	one := func(j int) error {
		res, err := d.Store.Claim(ctx, keys[j], StateCounted, by, at, 0, at.Add(seenExpiry))
		if err != nil {
			return fmt.Errorf("correlation: claim %s: %w", keys[j].PK, err)
		}
		won[j] = res.Won
		return nil
	}
	limit := cmp.Or(d.Concurrency, DefaultClaimConcurrency)
	if limit == 1 || len(keys) == 1 {
		for j := range keys {
			if err := one(j); err != nil {
				return won, err
			}
		}
		return won, nil
	}
	errs := make([]error, len(keys))
	var g errgroup.Group
	g.SetLimit(limit)
	for j := range keys {
		g.Go(func() error { errs[j] = one(j); return nil })
	}
	_ = g.Wait() // (the errors are errs)
	return won, errors.Join(errs...)
}

// onceOf names the activities an addition counts (Delta.Once): their claims,
// in order, hashed.
func onceOf(claims []Key) string {
	pks := make([]string, len(claims))
	for i, c := range claims {
		pks[i] = c.PK
	}
	slices.Sort(pks)
	sum := sha256.Sum256([]byte(strings.Join(pks, "\x00")))
	return "seen:" + hex.EncodeToString(sum[:16])
}

// derive builds the derived activity of rule r for the group k, whose last
// counted activity is a.
func (r Rule) derive(a *activity.Activity, k groupKey, b Breakdown) *activity.Activity {
	sum := sha256.Sum256([]byte(r.ID + "\x00" + k.principal + "\x00" + strconv.FormatInt(k.bucket, 10)))
	subject := fmt.Sprintf("%s: %s, %s in %s across %s from %s", r.Title, principalLabel(a),
		Plural(b.Count, r.noun), b.Span(), Plural(int64(len(b.Services)), "service"), Plural(int64(len(b.SourceIPs)), "IP"))
	if len(b.SourceIPs) >= ipSlots {
		subject = strings.TrimSuffix(subject, Plural(int64(len(b.SourceIPs)), "IP")) + fmt.Sprintf("%d or more IPs", ipSlots)
	}
	d := &activity.Activity{
		SchemaVersion: activity.SchemaVersion,
		ID:            r.ID + "-" + hex.EncodeToString(sum[:12]),
		Source:        SourceName,
		Subject:       activity.Truncate(subject, 300),
		Severity:      r.Severity,
		Time:          a.Time,
		Account:       a.Account,
		Region:        a.Region,
		Detections:    []activity.Detection{{ID: r.ID, Title: r.Title, Severity: r.Severity}},
		Tags:          []string{TagDerived, "correlation:" + r.ID},
	}
	if a.Actor != nil {
		d.Actor = &activity.Actor{
			Type: a.Actor.Type, ARN: a.Actor.ARN, Name: a.Actor.Name, AccountID: a.Actor.AccountID,
			PrincipalID: a.Actor.PrincipalID, AccessKeyID: a.Actor.AccessKeyID, SessionIssuer: a.Actor.SessionIssuer,
		}
		if len(b.SourceIPs) == 1 {
			d.Actor.SourceIP = b.SourceIPs[0]
		}
	}
	if r.ID == DenialBurstID {
		d.Action = &activity.Action{Outcome: activity.Denied}
	}
	d.Fields = []activity.Field{
		{Key: "Count", Value: fmt.Sprintf("%d %ss within %s (threshold %d)", b.Count, r.noun, span(r.Window), r.Count)},
		{Key: "First", Value: b.First.UTC().Format(time.RFC3339)},
		{Key: "Last", Value: b.Last.UTC().Format(time.RFC3339)},
		{Key: "Services", Value: List(b.Services, 20)},
		{Key: "Actions", Value: List(b.Actions, 30)},
	}
	if len(b.SourceIPs) > 0 {
		d.Fields = append(d.Fields, activity.Field{Key: "Source IPs", Value: strings.Join(b.SourceIPs, ", ")})
	}
	if len(b.UserAgents) > 0 {
		d.Fields = append(d.Fields, activity.Field{Key: "User agents", Value: strings.Join(b.UserAgents, "; ")})
	}
	return d
}

// Publisher wraps the publisher a source uses: it publishes every activity
// and the activities the detector derives from them in one call.
type Publisher struct {
	Next interface {
		Publish(ctx context.Context, acts []*activity.Activity) error
	}
	Detector *Detector
}

// Publish observes acts and publishes them with what they derive. When
// counting fails (the correlation state cannot be reached), acts are still
// published (nothing is lost) and a *CountError is returned, so the batch is
// retried: the retry counts what was not counted (see Detector) and
// publishes the same activities again, which destinations drop by id; the
// caller counts none of them as unpublished (eventbus.Send).
func (p *Publisher) Publish(ctx context.Context, acts []*activity.Activity) error {
	derived, obsErr := p.Detector.Observe(ctx, acts)
	all := acts
	if len(derived) > 0 {
		all = append(slices.Clip(acts), derived...)
	}
	if err := p.Next.Publish(ctx, all); err != nil {
		return err
	}
	if obsErr != nil {
		return &CountError{Err: obsErr}
	}
	return nil
}

// CountError reports activities published whose counting failed.
type CountError struct{ Err error }

func (e *CountError) Error() string { return "published, not counted: " + e.Err.Error() }

func (e *CountError) Unwrap() error { return e.Err }

// Published reports that every activity is on the bus (see eventbus.Send).
func (e *CountError) Published() bool { return true }
