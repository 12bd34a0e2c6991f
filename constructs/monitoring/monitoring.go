// Package monitoring provides what tells a team its IDS stopped: CloudWatch
// alarms on every last-stop queue (any visible message), on each function's
// errors and throttles, on a source's publish failures and a destination's
// permanent errors at cold start; an SNS topic under a customer-managed KMS
// key that only CloudWatch and EventBridge may publish to, with an optional
// e-mail subscription, so alarms reach people without going through Slack;
// an EventBridge rule that also sends the critical self-protection alerts
// from the bus to that topic; a heartbeat schedule whose canary must reach
// each destination (an alarm treats a missing canary as breaching); and a
// dashboard of the functions' embedded metrics.
//
// The stack uses it; construct users may leave it out or give it their own
// lists of queues and functions (a pacing queue, a correlation function).
package monitoring

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsscheduler"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/aws-cdk-go/awscdk/v2/interfaces/interfacesawscloudwatch"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/activity-aware/ids/constructs/activitybus"
	"github.com/activity-aware/ids/constructs/internal/failurequeue"
	"github.com/activity-aware/ids/monitoring/metrics"
)

// DefaultHeartbeatRate is how often the canary runs; the heartbeat alarm
// fires when none arrived within two rates.
const DefaultHeartbeatRate = 30

// Component is a function the monitoring alarms on, with the name of the
// source or destination it serves (the Source or Destination dimension of
// its metrics, e.g. "cloudtrail", "slack").
type Component struct {
	Name     string
	Function awslambda.IFunction
	// Condition, when set, is the condition the component is deployed
	// under (an optional destination): its alarms carry it, and the
	// dashboard, which cannot, leaves it out.
	Condition awscdk.CfnCondition
	// NoCanary marks a destination whose rule may not pass the heartbeat
	// canary (it filters by severity): it gets no heartbeat alarm, which
	// would fire for want of canaries; its other alarms stay.
	NoCanary bool
}

// CloudTrailAlert is a detection sent to the topic from CloudTrail's events
// on the default bus.
type CloudTrailAlert struct {
	// ID names the alert (a detection preset id) in its rule and message.
	ID string
	// Pattern is the EventBridge pattern of the CloudTrail events, as
	// detections.Preset.EventBridgePattern gives it (on "detail", possibly
	// under "$or"); values may hold CDK tokens.
	Pattern string
}

// Queue is a last-stop queue and what it keeps, for the alarm's description.
type Queue struct {
	Queue awssqs.IQueue
	Keeps string
	// Condition, as Component's.
	Condition awscdk.CfnCondition
}

// Props configures the monitoring. Every field is optional.
type Props struct {
	// Sources are alarmed on for errors, throttles and publish failures;
	// the first one also receives the heartbeat request.
	Sources []Component
	// Destinations are alarmed on for errors, throttles, permanent errors
	// on their first post and a missing canary.
	Destinations []Component
	// Functions are further functions alarmed on for errors and throttles.
	Functions []awslambda.IFunction
	// Queues are the last-stop queues: any visible message raises an alarm.
	Queues []Queue
	// Bus, when set, gets a rule that sends critical self-protection
	// alerts to the topic too.
	Bus awsevents.IEventBus
	// SelfProtectionIDs are the detection preset ids whose activities the
	// rule sends to the topic. Leave it empty when the source does not
	// evaluate them (CloudTrailAlerts covers them without the source).
	SelfProtectionIDs []string
	// CloudTrailAlerts are sent to the topic straight from CloudTrail: one
	// rule each on the account's default event bus, matching the "AWS API
	// Call via CloudTrail" events of the alert's pattern. They depend on
	// neither the subscription filter, the source, the activity bus nor
	// Slack, and cost nothing (AWS service events on the default bus are
	// free).
	CloudTrailAlerts []CloudTrailAlert
	// AlarmEmail subscribes an address to the topic (it must confirm the
	// subscription). With AlarmEmailCondition, the subscription exists only
	// when the condition holds (an empty stack parameter, say).
	AlarmEmail          *string
	AlarmEmailCondition awscdk.CfnCondition
	// HeartbeatRate is the canary's period in minutes. Default 30; 0 with
	// DisableHeartbeat leaves the heartbeat out.
	HeartbeatRate    *float64
	DisableHeartbeat *bool
	// DashboardName names the dashboard. Default: one CloudFormation makes.
	DashboardName *string
}

// Monitoring is the alarms, topic, rule, heartbeat and dashboard.
type Monitoring interface {
	constructs.Construct
	// Topic receives every alarm and the critical self-protection alerts.
	Topic() awssns.ITopic
	// Alarms are every alarm defined, in a stable order.
	Alarms() []awscloudwatch.IAlarm
	// HeartbeatAlarm fires when the canary stops arriving; nil without a
	// heartbeat.
	HeartbeatAlarm() awscloudwatch.IAlarm
	// Dashboard shows the metrics and alarms.
	Dashboard() awscloudwatch.Dashboard
	// AlertQueue keeps the self-protection alerts EventBridge could not
	// hand to the topic; nil without a bus.
	AlertQueue() awssqs.IQueue
}

type monitoring struct {
	constructs.Construct
	topic          awssns.Topic
	alarms         []awscloudwatch.IAlarm
	heartbeatAlarm awscloudwatch.IAlarm
	dashboard      awscloudwatch.Dashboard
	alertQueue     awssqs.IQueue
}

func (m *monitoring) Topic() awssns.ITopic                 { return m.topic }
func (m *monitoring) Alarms() []awscloudwatch.IAlarm       { return m.alarms }
func (m *monitoring) HeartbeatAlarm() awscloudwatch.IAlarm { return m.heartbeatAlarm }
func (m *monitoring) Dashboard() awscloudwatch.Dashboard   { return m.dashboard }
func (m *monitoring) AlertQueue() awssqs.IQueue            { return m.alertQueue }

// New defines the monitoring.
func New(scope constructs.Construct, id *string, props *Props) Monitoring {
	var p Props
	if props != nil {
		p = *props
	}
	if p.HeartbeatRate == nil {
		p.HeartbeatRate = jsii.Number(DefaultHeartbeatRate)
	}
	heartbeatOn := (p.DisableHeartbeat == nil || !*p.DisableHeartbeat) && len(p.Sources) > 0 && len(p.Destinations) > 0
	c := constructs.NewConstruct(scope, id)
	m := &monitoring{Construct: c}
	m.topic = newTopic(c)
	if p.AlarmEmail != nil {
		sub := awssns.NewCfnSubscription(c, jsii.String("AlarmEmailSubscription"), &awssns.CfnSubscriptionProps{
			TopicArn: m.topic.TopicArn(), Protocol: jsii.String("email"), Endpoint: p.AlarmEmail,
		})
		if p.AlarmEmailCondition != nil {
			sub.CfnOptions().SetCondition(p.AlarmEmailCondition)
		}
	}
	action := awscloudwatchactions.NewSnsAction(m.topic)
	alarm := func(id string, metric awscloudwatch.IMetric, op awscloudwatch.ComparisonOperator, threshold float64, missing awscloudwatch.TreatMissingData, description string, cond awscdk.CfnCondition) awscloudwatch.Alarm {
		a := awscloudwatch.NewAlarm(c, jsii.String(id), &awscloudwatch.AlarmProps{
			Metric: metric, Threshold: jsii.Number(threshold), EvaluationPeriods: jsii.Number(1),
			ComparisonOperator: op, TreatMissingData: missing, AlarmDescription: jsii.String(description),
		})
		a.AddAlarmAction(action)
		a.AddOkAction(action)
		m.keep(a, cond)
		return a
	}
	five := awscdk.Duration_Minutes(jsii.Number(5))
	one := awscdk.Duration_Minutes(jsii.Number(1))
	atLeastOne := awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD
	notBreaching := awscloudwatch.TreatMissingData_NOT_BREACHING

	if (p.Bus != nil && len(p.SelfProtectionIDs) > 0) || len(p.CloudTrailAlerts) > 0 {
		m.alertQueue = failurequeue.New(c, jsii.String("AlertDeadLetterQueue"), "the self-protection alerts EventBridge could not publish to the alarm topic")
		p.Queues = append(p.Queues, Queue{Queue: m.alertQueue, Keeps: "self-protection alerts EventBridge could not publish to the alarm topic"})
	}
	if p.Bus != nil && len(p.SelfProtectionIDs) > 0 {
		m.alertRule(c, &p)
	}
	for i, a := range p.CloudTrailAlerts {
		m.cloudTrailRule(c, i, a)
	}
	for i, q := range p.Queues {
		alarm(fmt.Sprintf("QueueAlarm%d", i), q.Queue.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{Period: five, Statistic: jsii.String("Maximum")}),
			atLeastOne, 1, notBreaching,
			"Messages are parked in a last-stop queue ("+q.Keeps+"). Find the cause in the function's logs, fix it, then `aaids redrive QUEUE_URL` (docs/OPERATIONS.md).", q.Condition)
	}
	var functions []Component
	functions = append(functions, p.Sources...)
	functions = append(functions, p.Destinations...)
	for _, fn := range p.Functions {
		functions = append(functions, Component{Function: fn})
	}
	for i, comp := range functions {
		fn := comp.Function
		alarm(fmt.Sprintf("ErrorsAlarm%d", i), fn.MetricErrors(&awscloudwatch.MetricOptions{Period: five, Statistic: jsii.String("Sum")}), atLeastOne, 1, notBreaching,
			"A function of the IDS failed an invocation; Lambda retries it and finally parks it in the function's on-failure queue. Read the function's error lines.", comp.Condition)
		alarm(fmt.Sprintf("ThrottlesAlarm%d", i), fn.MetricThrottles(&awscloudwatch.MetricOptions{Period: five, Statistic: jsii.String("Sum")}), atLeastOne, 1, notBreaching,
			"A function of the IDS was throttled: its reserved concurrency (or the account's) is exhausted or was set to 0. Check PutFunctionConcurrency in CloudTrail.", comp.Condition)
	}
	for i, s := range p.Sources {
		alarm(fmt.Sprintf("PublishFailuresAlarm%d", i), Metric(metrics.PublishFailures, metrics.DimSource, s, five), atLeastOne, 1, notBreaching,
			"The "+s.Name+" source could not put activities on the bus (denied, throttled beyond retries, bus deleted). The batch is retried and finally parked.", s.Condition)
	}
	for i, d := range p.Destinations {
		alarm(fmt.Sprintf("ColdStartPermanentErrorsAlarm%d", i), Metric(metrics.ColdStartPermanentErrors, metrics.DimDestination, d, one), atLeastOne, 1, notBreaching,
			"The "+d.Name+" destination's first post after a cold start was refused for good: the webhook is revoked, its channel archived or the secret points elsewhere. Nothing reaches the channel until it is fixed.", d.Condition)
	}
	if heartbeatOn {
		m.heartbeatAlarm = m.heartbeat(c, &p, action)
	}
	m.dashboard = m.newDashboard(c, &p, functions)
	return m
}

// keep records an alarm, gated by cond when its component is optional; the
// dashboard shows only the alarms that always exist.
func (m *monitoring) keep(a awscloudwatch.Alarm, cond awscdk.CfnCondition) {
	if cond != nil {
		a.Node().DefaultChild().(awscdk.CfnResource).CfnOptions().SetCondition(cond)
		return
	}
	m.alarms = append(m.alarms, a)
}

// Metric is a metric the functions emit, for one source or destination.
func Metric(name, dim string, comp Component, period awscdk.Duration) awscloudwatch.Metric {
	return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
		Namespace:  jsii.String(metrics.Namespace),
		MetricName: jsii.String(name),
		DimensionsMap: &map[string]*string{
			metrics.DimFunction: comp.Function.FunctionName(),
			dim:                 jsii.String(comp.Name),
		},
		Statistic: jsii.String("Sum"),
		Period:    period,
	})
}

// newTopic is the alarm topic under its own rotating key, which CloudWatch
// and EventBridge may use to publish, and which nobody else may publish to.
func newTopic(c constructs.Construct) awssns.Topic {
	key := awskms.NewKey(c, jsii.String("TopicKey"), &awskms.KeyProps{
		Description:       jsii.String("Activity Aware IDS: encrypts the alarm topic"),
		EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy:     awscdk.RemovalPolicy_DESTROY,
	})
	publishers := []string{"cloudwatch.amazonaws.com", "events.amazonaws.com"}
	for _, svc := range publishers {
		key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("PublishFrom" + svc[:len(svc)-len(".amazonaws.com")]),
			Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String(svc), nil)},
			Actions:    jsii.Strings("kms:Decrypt", "kms:GenerateDataKey*"),
			Resources:  jsii.Strings("*"),
			Conditions: &map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": awscdk.Aws_ACCOUNT_ID()}},
		}), nil)
	}
	topic := awssns.NewTopic(c, jsii.String("Topic"), &awssns.TopicProps{
		DisplayName: jsii.String("Activity Aware IDS alarms"),
		MasterKey:   key,
		EnforceSSL:  jsii.Bool(true),
	})
	for _, svc := range publishers {
		topic.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("Publish" + svc[:len(svc)-len(".amazonaws.com")]),
			Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String(svc), nil)},
			Actions:    jsii.Strings("sns:Publish"),
			Resources:  jsii.Strings(*topic.TopicArn()),
			Conditions: &map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": awscdk.Aws_ACCOUNT_ID()}},
		}))
	}
	// Nobody but those two services publishes: an intruder who can publish
	// could bury a real alarm among fakes.
	topic.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("OnlyCloudWatchAndEventBridgePublish"),
		Effect:     awsiam.Effect_DENY,
		Principals: &[]awsiam.IPrincipal{awsiam.NewStarPrincipal()},
		Actions:    jsii.Strings("sns:Publish"),
		Resources:  jsii.Strings(*topic.TopicArn()),
		Conditions: &map[string]any{"StringNotEqualsIfExists": map[string]any{"aws:PrincipalServiceName": publishers}},
	}))
	return topic
}

// alertRule sends the self-protection activities on the bus to the topic as
// a short text, with a dead-letter queue of its own.
func (m *monitoring) alertRule(c constructs.Construct, p *Props) {
	pattern := activitybus.ActivityPattern()
	pattern.Detail = &map[string]any{"detections": map[string]any{"id": p.SelfProtectionIDs}}
	rule := awsevents.NewRule(c, jsii.String("SelfProtectionAlertRule"), &awsevents.RuleProps{
		EventBus:     p.Bus,
		EventPattern: pattern,
		Description:  jsii.String("Critical self-protection activities to the alarm topic, beside Slack"),
	})
	rule.AddTarget(awseventstargets.NewSnsTopic(m.topic, &awseventstargets.SnsTopicProps{
		DeadLetterQueue: m.alertQueue,
		Message: awsevents.RuleTargetInput_FromText(jsii.String(fmt.Sprintf(
			"Activity Aware IDS self-protection alert (%s): %s; account %s, actor %s, activity %s at %s. The pipeline itself may be under attack: check it does not depend on what was changed.",
			*awsevents.EventField_FromPath(jsii.String("$.detail.severity")),
			*awsevents.EventField_FromPath(jsii.String("$.detail.subject")),
			*awsevents.EventField_FromPath(jsii.String("$.detail.account.id")),
			*awsevents.EventField_FromPath(jsii.String("$.detail.actor.arn")),
			*awsevents.EventField_FromPath(jsii.String("$.detail.id")),
			*awsevents.EventField_FromPath(jsii.String("$.detail.time")),
		))),
	}))
}

// cloudTrailRule sends the CloudTrail events of one alert to the topic as
// a line of text. The event's fields are whoever made the call's: the
// message is plain text to people, never markup.
func (m *monitoring) cloudTrailRule(c constructs.Construct, i int, a CloudTrailAlert) {
	var pattern map[string]any
	if err := json.Unmarshal([]byte(a.Pattern), &pattern); err != nil {
		panic(fmt.Sprintf("monitoring: CloudTrail alert %s: pattern: %v", a.ID, err))
	}
	pattern["detail-type"] = []any{"AWS API Call via CloudTrail"}
	rule := awsevents.NewRule(c, jsii.String(fmt.Sprintf("CloudTrailAlertRule%d", i)), &awsevents.RuleProps{
		// The account's default bus, where CloudTrail's events arrive.
		EventPattern: &awsevents.EventPattern{DetailType: jsii.Strings("AWS API Call via CloudTrail")},
		Description:  jsii.String("Activity Aware IDS self-protection (" + a.ID + ") from CloudTrail to the alarm topic, beside the pipeline"),
	})
	// The preset's pattern may use $or at the top, which the L2 pattern
	// type cannot say.
	rule.Node().DefaultChild().(awsevents.CfnRule).AddPropertyOverride(jsii.String("EventPattern"), pattern)
	field := func(path string) string { return *awsevents.EventField_FromPath(jsii.String(path)) }
	rule.AddTarget(awseventstargets.NewSnsTopic(m.topic, &awseventstargets.SnsTopicProps{
		DeadLetterQueue: m.alertQueue,
		Message: awsevents.RuleTargetInput_FromText(jsii.String(fmt.Sprintf(
			"Activity Aware IDS self-protection alert (%s, from CloudTrail): %s on %s by %s in account %s, %s, at %s; error code %s; CloudTrail event %s. "+
				"The pipeline itself may be under attack: this alert does not depend on it.",
			a.ID, field("$.detail.eventName"), field("$.detail.eventSource"), field("$.detail.userIdentity.arn"),
			field("$.account"), field("$.region"), field("$.time"), field("$.detail.errorCode"), field("$.detail.eventID"),
		))),
	}))
}

// heartbeat invokes the first source with a heartbeat request every rate
// and alarms when a destination records no canary within two rates.
func (m *monitoring) heartbeat(c constructs.Construct, p *Props, action awscloudwatch.IAlarmAction) awscloudwatch.IAlarm {
	// The L1 schedule, so its role may invoke exactly the function (the
	// L2 target also grants every qualified version, "ARN:*").
	fn := p.Sources[0].Function
	role := awsiam.NewRole(c, jsii.String("HeartbeatRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("scheduler.amazonaws.com"), nil),
		Description: jsii.String("Activity Aware IDS: lets the heartbeat schedule invoke the source"),
	})
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("lambda:InvokeFunction"),
		Resources: jsii.Strings(*fn.FunctionArn()),
	}))
	input := map[string]any{
		// heartbeat.Request's members, filled by Scheduler.
		"heartbeat": map[string]any{
			"scheduledTime": *awsscheduler.ContextAttribute_ScheduledTime(),
			"executionId":   *awsscheduler.ContextAttribute_ExecutionId(),
		},
	}
	// Unescaped, so Scheduler finds its <aws.scheduler.…> placeholders.
	var inputJSON bytes.Buffer
	enc := json.NewEncoder(&inputJSON)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(input); err != nil {
		panic(fmt.Sprintf("monitoring: heartbeat input: %v", err))
	}
	schedule := awsscheduler.NewCfnSchedule(c, jsii.String("HeartbeatSchedule"), &awsscheduler.CfnScheduleProps{
		ScheduleExpression: jsii.String(fmt.Sprintf("rate(%g minutes)", *p.HeartbeatRate)),
		FlexibleTimeWindow: &awsscheduler.CfnSchedule_FlexibleTimeWindowProperty{Mode: jsii.String("OFF")},
		Description:        jsii.String("Activity Aware IDS heartbeat: a canary activity through source, bus, rule and destination"),
		Target: &awsscheduler.CfnSchedule_TargetProperty{
			Arn:     fn.FunctionArn(),
			RoleArn: role.RoleArn(),
			Input:   jsii.String(strings.TrimSpace(inputJSON.String())),
			// A late canary is a failed canary: no retries past one period.
			RetryPolicy: &awsscheduler.CfnSchedule_RetryPolicyProperty{
				MaximumRetryAttempts:     jsii.Number(0),
				MaximumEventAgeInSeconds: jsii.Number(60 * *p.HeartbeatRate),
			},
		},
	})
	schedule.Node().AddDependency(role)
	var first awscloudwatch.IAlarm
	for i, d := range p.Destinations {
		if d.NoCanary {
			continue
		}
		a := awscloudwatch.NewAlarm(c, jsii.String(fmt.Sprintf("HeartbeatAlarm%d", i)), &awscloudwatch.AlarmProps{
			Metric:             Metric(metrics.CanaryDelivered, metrics.DimDestination, d, awscdk.Duration_Minutes(jsii.Number(2**p.HeartbeatRate))),
			Threshold:          jsii.Number(1),
			EvaluationPeriods:  jsii.Number(1),
			ComparisonOperator: awscloudwatch.ComparisonOperator_LESS_THAN_THRESHOLD,
			// No canary at all is the failure this alarm exists for.
			TreatMissingData: awscloudwatch.TreatMissingData_BREACHING,
			AlarmDescription: jsii.String("No heartbeat canary reached the " + d.Name + " destination in two heartbeat periods: " +
				"the schedule, the source, its permission on the bus, the bus, the rule, the destination or its secret is broken. " +
				"Nothing may be reaching the channel."),
		})
		a.AddAlarmAction(action)
		a.AddOkAction(action)
		m.keep(a, d.Condition)
		if first == nil && d.Condition == nil {
			first = a
		}
	}
	return first
}

// newDashboard shows the pipeline's counts, delivery, canary, function
// health and alarms.
func (m *monitoring) newDashboard(c constructs.Construct, p *Props, functions []Component) awscloudwatch.Dashboard {
	d := awscloudwatch.NewDashboard(c, jsii.String("Dashboard"), &awscloudwatch.DashboardProps{DashboardName: p.DashboardName})
	five := awscdk.Duration_Minutes(jsii.Number(5))
	graph := func(title string, left []awscloudwatch.IMetric) awscloudwatch.GraphWidget {
		return awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{Title: jsii.String(title), Left: &left, Width: jsii.Number(12)})
	}
	var sources, failures, posts, latency []awscloudwatch.IMetric
	for _, s := range p.Sources {
		if s.Condition != nil {
			continue
		}
		for _, n := range []string{metrics.RecordsIn, metrics.ActivitiesPublished, metrics.Unrecognized} {
			sources = append(sources, Metric(n, metrics.DimSource, s, five))
		}
		for _, n := range []string{metrics.PublishFailures, metrics.PublishRetries} {
			failures = append(failures, Metric(n, metrics.DimSource, s, five))
		}
	}
	for _, dst := range p.Destinations {
		if dst.Condition != nil {
			continue
		}
		for _, n := range []string{metrics.Posts, metrics.CanaryDelivered, metrics.Digests, metrics.Folded, metrics.Suppressed, metrics.Duplicates} {
			posts = append(posts, Metric(n, metrics.DimDestination, dst, five))
		}
		for _, n := range []string{metrics.DeliveryFailures, metrics.PermanentErrors} {
			failures = append(failures, Metric(n, metrics.DimDestination, dst, five))
		}
		lat := Metric(metrics.DeliveryLatency, metrics.DimDestination, dst, five)
		latency = append(latency, lat.With(&awscloudwatch.MetricOptions{Statistic: jsii.String("p50")}), lat.With(&awscloudwatch.MetricOptions{Statistic: jsii.String("p99")}))
	}
	var health []awscloudwatch.IMetric
	for _, comp := range functions {
		if comp.Condition != nil {
			continue
		}
		health = append(health, comp.Function.MetricErrors(&awscloudwatch.MetricOptions{Period: five}), comp.Function.MetricThrottles(&awscloudwatch.MetricOptions{Period: five}))
	}
	var queues []awscloudwatch.IMetric
	for _, q := range p.Queues {
		if q.Condition != nil {
			continue
		}
		queues = append(queues, q.Queue.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{Period: five, Statistic: jsii.String("Maximum")}))
	}
	refs := make([]interfacesawscloudwatch.IAlarmRef, len(m.alarms))
	for i, a := range m.alarms {
		refs[i] = a
	}
	alarms := awscloudwatch.NewAlarmStatusWidget(&awscloudwatch.AlarmStatusWidgetProps{Title: jsii.String("Alarms"), Alarms: &refs, Width: jsii.Number(24)})
	d.AddWidgets(alarms)
	d.AddWidgets(graph("Source: records in, activities published, unrecognized", sources), graph("Delivered: posts, canaries, digests, folded, suppressed, duplicates", posts))
	d.AddWidgets(graph("Failures: publish failures and retries, delivery failures, permanent errors", failures), graph("Delivery latency (event to post), p50 and p99", latency))
	d.AddWidgets(graph("Function errors and throttles", health), graph("Parked messages in last-stop queues", queues))
	return d
}
