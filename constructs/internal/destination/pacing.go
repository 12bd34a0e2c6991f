package destination

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdaeventsources"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/constructs/activitybus"
	corrstate "github.com/activity-aware/ids/constructs/correlation"
	"github.com/activity-aware/ids/constructs/internal/failurequeue"
	"github.com/activity-aware/ids/constructs/routing"
	"github.com/activity-aware/ids/monitoring/heartbeat"
)

// Pacing defaults.
const (
	// DefaultMaxConcurrency of each queue's event source mapping: the least
	// SQS allows, so two deliverers per queue share the receiver's rate.
	DefaultMaxConcurrency = 2
	// DefaultBatchSize of a queue's event source mapping.
	DefaultBatchSize = 10
	// DefaultMaxReceiveCount of a queued activity before it goes to the
	// failure queue: with the visibility timeout, about half an hour of
	// retries through an outage of the receiver.
	DefaultMaxReceiveCount = 10
	// QueueRetentionDays keeps queued activities through a long outage.
	QueueRetentionDays = 4
	// SweepRetryAttempts of a failed sweep invocation; the next minute's
	// sweep retries anyway.
	SweepRetryAttempts = 2
)

// PacingProps configures Pace.
type PacingProps struct {
	// Name is the destination's name in descriptions, e.g. "Slack".
	Name string
	Bus  awsevents.IEventBus
	// Function receives the queues' batches (and the sweep); Timeout is
	// its timeout, from which the queues' visibility timeout follows.
	Function awslambda.IFunction
	Timeout  awscdk.Duration
	// FailureQueue keeps what the function failed on MaxReceiveCount times.
	FailureQueue awssqs.IQueue
	// Filter and Detail (the raw escape hatch, at most one of Detail and
	// Filter.Detail) narrow both rules.
	Filter *routing.Filter
	Detail *map[string]any
	// MaxConcurrency, BatchSize and MaxReceiveCount of the queues; the
	// callers set their defaults.
	MaxConcurrency, BatchSize, MaxReceiveCount *float64
	// MaxEventAge and RuleRetryAttempts of the rules' targets.
	MaxEventAge       awscdk.Duration
	RuleRetryAttempts *float64
	// State, when set, gets the function's grant and a minute sweep.
	State corrstate.State
}

// Paced are the rules, queues and sweep Pace built.
type Paced struct {
	// Rule routes activities below high to Queue, PriorityRule critical
	// and high ones to PriorityQueue.
	Rule, PriorityRule awsevents.Rule
	Queue, Priority    awssqs.IQueue
	// DeadLetterQueue keeps what the rules could not put into the queues.
	DeadLetterQueue awssqs.IQueue
	// Sweep runs the function every minute (nil without State).
	Sweep awsevents.Rule
	// Problems are synthesis errors (a bad filter).
	Problems []string
}

// Pace defines the pacing, without reserved concurrency (which a new
// account's concurrency quota of 10 refuses): two queues, each drained by
// an event source mapping of at most MaxConcurrency invocations, each
// delivering its batch one message after another; critical and high
// activities go to a queue of their own, so they never wait behind a flood
// of lower ones. Failed messages are retried alone
// (ReportBatchItemFailures) and, after MaxReceiveCount receives, kept in the
// failure queue. With State, a rule runs the function every minute to
// deliver the digests of ended windows.
func Pace(c constructs.Construct, p PacingProps) *Paced {
	out := &Paced{}
	fn := p.Function
	// The pacing queues: a message becomes visible again after six function
	// timeouts (as AWS advises for event source mappings), and goes to the
	// failure queue after MaxReceiveCount receives.
	newQueue := func(qid string) awssqs.IQueue {
		return awssqs.NewQueue(c, jsii.String(qid), &awssqs.QueueProps{
			Encryption:        awssqs.QueueEncryption_SQS_MANAGED,
			EnforceSSL:        jsii.Bool(true),
			RetentionPeriod:   awscdk.Duration_Days(jsii.Number(QueueRetentionDays)),
			VisibilityTimeout: awscdk.Duration_Seconds(jsii.Number(6 * *p.Timeout.ToSeconds(nil))),
			DeadLetterQueue:   &awssqs.DeadLetterQueue{Queue: p.FailureQueue, MaxReceiveCount: p.MaxReceiveCount},
		})
	}
	out.Queue, out.Priority = newQueue("Queue"), newQueue("PriorityQueue")
	for _, q := range []awssqs.IQueue{out.Priority, out.Queue} {
		fn.AddEventSource(awslambdaeventsources.NewSqsEventSource(q, &awslambdaeventsources.SqsEventSourceProps{
			BatchSize:               p.BatchSize,
			MaxConcurrency:          p.MaxConcurrency,
			ReportBatchItemFailures: jsii.Bool(true),
		}))
	}

	out.DeadLetterQueue = failurequeue.New(c, jsii.String("DeadLetterQueue"),
		"the activities EventBridge could not put into the destination's pacing queues")
	pattern, urgent, rest, err := rulePatterns(c, p.Filter, p.Detail)
	if err != nil {
		out.Problems = append(out.Problems, err.Error())
	}
	newRule := func(rid, description string, detail *map[string]any, q awssqs.IQueue) awsevents.Rule {
		pattern := *pattern
		pattern.Detail = detail
		r := awsevents.NewRule(c, jsii.String(rid), &awsevents.RuleProps{
			EventBus:     p.Bus,
			EventPattern: &pattern,
			Description:  jsii.String(description),
		})
		r.AddTarget(awseventstargets.NewSqsQueue(q, &awseventstargets.SqsQueueProps{
			DeadLetterQueue: out.DeadLetterQueue,
			MaxEventAge:     p.MaxEventAge,
			RetryAttempts:   p.RuleRetryAttempts,
		}))
		return r
	}
	out.Rule = newRule("Rule", "Activities below high to the "+p.Name+" destination's queue", rest, out.Queue)
	out.PriorityRule = newRule("PriorityRule", "Critical and high activities to the "+p.Name+" destination's priority queue", urgent, out.Priority)

	if p.State != nil {
		p.State.GrantDestination(fn)
		out.Sweep = awsevents.NewRule(c, jsii.String("Sweep"), &awsevents.RuleProps{
			Schedule:    awsevents.Schedule_Rate(awscdk.Duration_Minutes(jsii.Number(1))),
			Description: jsii.String("Posts the " + p.Name + " destination's digests of ended windows"),
		})
		out.Sweep.AddTarget(awseventstargets.NewLambdaFunction(fn, &awseventstargets.LambdaFunctionProps{
			MaxEventAge:   awscdk.Duration_Seconds(jsii.Number(60)),
			RetryAttempts: jsii.Number(SweepRetryAttempts),
		}))
	}
	return out
}

// rulePatterns returns the pattern both rules share (the bus's activity
// pattern narrowed by the filter's sources) and the detail patterns of the
// priority rule and of the other rule.
func rulePatterns(c constructs.Construct, filter *routing.Filter, detail *map[string]any) (pattern *awsevents.EventPattern, urgent, rest *map[string]any, err error) {
	f := routing.Filter{}
	if filter != nil {
		f = *filter
	}
	if detail != nil {
		if f.Detail != nil {
			return activitybus.ActivityPattern(), nil, nil, fmt.Errorf("set Detail or Filter.Detail, not both")
		}
		f.Detail = detail
	}
	minSeverity := f.MinSeverity
	f.MinSeverity = nil
	pattern = f.Pattern(c)
	base := map[string]any{}
	if pattern.Detail != nil {
		base = maps.Clone(*pattern.Detail)
	}
	token := minSeverity != nil && *awscdk.Token_IsUnresolved(minSeverity)
	switch {
	case token:
		// Read from the mapping below; as in package routing, the minimum
		// replaces a raw severity.
		delete(base, "severity")
	case minSeverity != nil && *minSeverity != string(activity.Info):
		list, err := routing.AtOrAbove(*minSeverity)
		if err != nil {
			return pattern, nil, nil, fmt.Errorf("Filter.MinSeverity: %w", err)
		}
		sev := make([]any, len(list))
		for i, s := range list {
			sev[i] = s
		}
		base["severity"] = sev
	}
	var in *map[string]any
	if len(base) > 0 {
		in = &base
	}
	urgent, rest, err = splitBySeverity(in)
	if err != nil {
		return pattern, nil, nil, fmt.Errorf("Detail: %w", err)
	}
	if token {
		urgent, rest = splitByParameter(c, *minSeverity, *urgent, *rest)
	}
	return pattern, urgent, rest, nil
}

// severityClassesID is the stack's mapping from a minimum severity to the
// severities each pacing rule takes.
const severityClassesID = "SeverityClassesAtOrAbove"

// splitByParameter narrows the priority and the other rule's detail
// patterns to the severities at or above min, a token (a CloudFormation
// parameter restricted to the five severities): each reads its list from a
// mapping. At "info" the other rule keeps anything but the urgent
// severities, so a severity newer than the five still arrives; above it the
// heartbeat canary passes anyway (an $or on the activity's source and tag),
// so the heartbeat alarm keeps its meaning. (A producer account could thus
// post an info activity dressed as a canary past the minimum: the function
// absorbs only canaries of the stack's own account and shows the others.)
func splitByParameter(c constructs.Construct, min string, urgent, rest map[string]any) (*map[string]any, *map[string]any) {
	stack := awscdk.Stack_Of(c)
	var mapping awscdk.CfnMapping
	if m := stack.Node().TryFindChild(jsii.String(severityClassesID)); m != nil {
		mapping = m.(awscdk.CfnMapping)
	} else {
		rows := map[string]*map[string]any{}
		for _, s := range routing.Severities {
			list, _ := routing.AtOrAbove(s)
			var u, r []string
			for _, v := range list {
				if slices.Contains(urgentSeverities, any(v)) {
					u = append(u, v)
				} else {
					r = append(r, v)
				}
			}
			if len(r) == 0 {
				r = []string{"none"}
			}
			rows[s] = &map[string]any{"Urgent": strings.Join(u, ","), "Rest": strings.Join(r, ",")}
		}
		mapping = awscdk.NewCfnMapping(stack, jsii.String(severityClassesID), &awscdk.CfnMappingProps{Mapping: &rows})
	}
	list := func(key string) *[]*string {
		return awscdk.Fn_Split(jsii.String(","), mapping.FindInMap(jsii.String(min), jsii.String(key), nil), nil)
	}
	u := maps.Clone(urgent)
	u["severity"] = list("Urgent")
	all := awscdk.NewCfnCondition(c, jsii.String("AllSeverities"), &awscdk.CfnConditionProps{
		Expression: awscdk.Fn_ConditionEquals(jsii.String(min), jsii.String(string(activity.Info))),
	})
	r := maps.Clone(rest)
	delete(r, "severity")
	r["$or"] = []any{
		map[string]any{"severity": awscdk.Fn_ConditionIf(all.LogicalId(),
			[]any{map[string]any{"anything-but": urgentSeverities}}, list("Rest"))},
		map[string]any{"source": []any{heartbeat.Source}, "tags": []any{heartbeat.Tag}},
	}
	return &u, &r
}

// urgentSeverities go to the priority queue.
var urgentSeverities = []any{"critical", "high"}

// splitBySeverity returns the detail patterns of the priority rule (critical
// and high) and of the other rule, each narrowed further by the user's
// detail pattern. A user's severity filter must be a list of severities; a
// nil pattern means the rule would match nothing and is narrowed to no
// severity at all.
func splitBySeverity(detail *map[string]any) (urgent, rest *map[string]any, err error) {
	base := map[string]any{}
	if detail != nil {
		for k, v := range *detail {
			base[k] = v
		}
	}
	all := []any{"critical", "high", "medium", "low", "info"}
	want := all
	if v, ok := base["severity"]; ok {
		switch list := v.(type) {
		case []any:
			want = list
		case []string:
			want = make([]any, len(list))
			for i, s := range list {
				want[i] = s
			}
		default:
			return nil, nil, fmt.Errorf("severity must be a list of severities, e.g. [\"critical\"]")
		}
	}
	var u, r []any
	for _, s := range want {
		if slices.Contains(urgentSeverities, s) {
			u = append(u, s)
		} else {
			r = append(r, s)
		}
	}
	mk := func(sev []any) *map[string]any {
		m := maps.Clone(base)
		if len(sev) == 0 {
			// Nothing of this class passes the user's filter: a severity no
			// activity has keeps the rule (and its getter) without traffic.
			sev = []any{"none"}
		}
		if len(sev) == len(all) {
			delete(m, "severity")
		} else {
			m["severity"] = sev
		}
		return &m
	}
	// Activities with a severity outside the five (a newer schema) go to
	// the ordinary queue: anything-but the urgent ones.
	rest = mk(r)
	if detail == nil || (*detail)["severity"] == nil {
		m := maps.Clone(base)
		m["severity"] = []any{map[string]any{"anything-but": urgentSeverities}}
		rest = &m
	}
	return mk(u), rest, nil
}
