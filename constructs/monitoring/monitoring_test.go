package monitoring_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"

	"github.com/activity-aware/ids/constructs/monitoring"
	"github.com/activity-aware/ids/internal/cdktest"
	"github.com/activity-aware/ids/monitoring/heartbeat"
	"github.com/activity-aware/ids/monitoring/metrics"
)

var (
	get       = cdktest.Get
	resources = cdktest.Resources
	ref       = cdktest.Ref
)

// fixture is a stack with two imported functions and two queues, the way a
// construct user who keeps their own pipeline would pass them.
func fixture(t *testing.T, edit func(s awscdk.Stack, p *monitoring.Props)) map[string]any {
	t.Helper()
	var tpl map[string]any
	cdktest.Check(t, func() {
		s := cdktest.NewStack()
		src := awslambda.Function_FromFunctionArn(s, jsii.String("Src"), jsii.String("arn:aws:lambda:us-east-1:111122223333:function:ids-source"))
		dst := awslambda.Function_FromFunctionArn(s, jsii.String("Dst"), jsii.String("arn:aws:lambda:us-east-1:111122223333:function:ids-slack"))
		extra := awslambda.Function_FromFunctionArn(s, jsii.String("Extra"), jsii.String("arn:aws:lambda:us-east-1:111122223333:function:ids-correlation"))
		q1 := awssqs.NewQueue(s, jsii.String("Parked"), &awssqs.QueueProps{EnforceSSL: jsii.Bool(true)})
		q2 := awssqs.Queue_FromQueueArn(s, jsii.String("Pacing"), jsii.String("arn:aws:sqs:us-east-1:111122223333:ids-pacing-dlq"))
		bus := awsevents.NewEventBus(s, jsii.String("Bus"), nil)
		email := awscdk.NewCfnParameter(s, jsii.String("AlarmEmail"), &awscdk.CfnParameterProps{Default: jsii.String("")})
		cond := awscdk.NewCfnCondition(s, jsii.String("HasEmail"), &awscdk.CfnConditionProps{
			Expression: awscdk.Fn_ConditionNot(awscdk.Fn_ConditionEquals(email.ValueAsString(), jsii.String(""))),
		})
		p := &monitoring.Props{
			Sources:             []monitoring.Component{{Name: "cloudtrail", Function: src}},
			Destinations:        []monitoring.Component{{Name: "slack", Function: dst}},
			Functions:           []awslambda.IFunction{extra},
			Queues:              []monitoring.Queue{{Queue: q1, Keeps: "parked batches"}, {Queue: q2, Keeps: "paced activities that failed"}},
			Bus:                 bus,
			SelfProtectionIDs:   []string{"self-lambda-changed", "self-bus-changed"},
			AlarmEmail:          email.ValueAsString(),
			AlarmEmailCondition: cond,
		}
		if edit != nil {
			edit(s, p)
		}
		monitoring.New(s, jsii.String("Monitoring"), p)
		_, tpl = cdktest.Synth(t, s)
	})
	return tpl
}

// alarmKey describes an alarm by what it watches.
func alarmKey(props any) string {
	if ns := get(props, "Namespace"); ns != nil {
		var dims []string
		for _, d := range get(props, "Dimensions").([]any) {
			v, _ := json.Marshal(get(d, "Value"))
			dims = append(dims, get(d, "Name").(string)+"="+string(v))
		}
		return ns.(string) + "/" + get(props, "MetricName").(string) + " " + strings.Join(dims, ",")
	}
	return "?"
}

func TestAlarms(t *testing.T) {
	tpl := fixture(t, nil)
	topic := cdktest.LogicalID(t, tpl, "AWS::SNS::Topic")
	type want struct {
		op, stat, missing string
		threshold, period float64
	}
	fn := func(name string) string { return `"` + name + `"` }
	wants := map[string]want{
		`AWS/SQS/ApproximateNumberOfMessagesVisible QueueName={"Fn::GetAtt":["Parked6D7C062F","QueueName"]}`:    {"GreaterThanOrEqualToThreshold", "Maximum", "notBreaching", 1, 300},
		`AWS/SQS/ApproximateNumberOfMessagesVisible QueueName="ids-pacing-dlq"`:                                 {"GreaterThanOrEqualToThreshold", "Maximum", "notBreaching", 1, 300},
		"AWS/Lambda/Errors FunctionName=" + fn("ids-source"):                                                    {"GreaterThanOrEqualToThreshold", "Sum", "notBreaching", 1, 300},
		"AWS/Lambda/Throttles FunctionName=" + fn("ids-source"):                                                 {"GreaterThanOrEqualToThreshold", "Sum", "notBreaching", 1, 300},
		"AWS/Lambda/Errors FunctionName=" + fn("ids-slack"):                                                     {"GreaterThanOrEqualToThreshold", "Sum", "notBreaching", 1, 300},
		"AWS/Lambda/Throttles FunctionName=" + fn("ids-slack"):                                                  {"GreaterThanOrEqualToThreshold", "Sum", "notBreaching", 1, 300},
		"AWS/Lambda/Errors FunctionName=" + fn("ids-correlation"):                                               {"GreaterThanOrEqualToThreshold", "Sum", "notBreaching", 1, 300},
		"AWS/Lambda/Throttles FunctionName=" + fn("ids-correlation"):                                            {"GreaterThanOrEqualToThreshold", "Sum", "notBreaching", 1, 300},
		"ActivityAwareIDS/PublishFailures Function=" + fn("ids-source") + ",Source=" + fn("cloudtrail"):         {"GreaterThanOrEqualToThreshold", "Sum", "notBreaching", 1, 300},
		"ActivityAwareIDS/ColdStartPermanentErrors Destination=" + fn("slack") + ",Function=" + fn("ids-slack"): {"GreaterThanOrEqualToThreshold", "Sum", "notBreaching", 1, 60},
		// The heartbeat: no canary in two 30-minute periods, and no data
		// at all, both fire.
		"ActivityAwareIDS/CanaryDelivered Destination=" + fn("slack") + ",Function=" + fn("ids-slack"): {"LessThanThreshold", "Sum", "breaching", 1, 3600},
	}
	alarms := resources(tpl, "AWS::CloudWatch::Alarm")
	// The alert rule's own dead-letter queue is watched too.
	if len(alarms) != len(wants)+1 {
		t.Errorf("%d alarms, want %d", len(alarms), len(wants)+1)
	}
	seen := map[string]bool{}
	for id, a := range alarms {
		p := a["Properties"]
		key := alarmKey(p)
		if strings.Contains(key, "AlertDeadLetterQueue") {
			key = "alert dlq"
		}
		seen[key] = true
		w, ok := wants[key]
		if key == "alert dlq" {
			w, ok = want{"GreaterThanOrEqualToThreshold", "Maximum", "notBreaching", 1, 300}, true
		}
		if !ok {
			t.Errorf("alarm %s on %s is not expected", id, key)
			continue
		}
		got := want{get(p, "ComparisonOperator").(string), get(p, "Statistic").(string), get(p, "TreatMissingData").(string), get(p, "Threshold").(float64), get(p, "Period").(float64)}
		if got != w {
			t.Errorf("alarm on %s = %+v, want %+v", key, got, w)
		}
		if get(p, "EvaluationPeriods") != 1.0 {
			t.Errorf("alarm on %s evaluates %v periods, want 1 (at once)", key, get(p, "EvaluationPeriods"))
		}
		for _, actions := range []string{"AlarmActions", "OKActions"} {
			if !reflect.DeepEqual(get(p, actions), []any{ref(topic)}) {
				t.Errorf("alarm on %s %s = %v, want the topic", key, actions, get(p, actions))
			}
		}
		if d, _ := get(p, "AlarmDescription").(string); len(d) < 40 {
			t.Errorf("alarm on %s says too little: %q", key, d)
		}
	}
	for key := range wants {
		if !seen[key] {
			t.Errorf("no alarm on %s", key)
		}
	}
	// The names the alarms read are the ones the functions write.
	for _, name := range []string{metrics.PublishFailures, metrics.ColdStartPermanentErrors, metrics.CanaryDelivered} {
		found := false
		for key := range seen {
			found = found || strings.Contains(key, metrics.Namespace+"/"+name+" ")
		}
		if !found {
			t.Errorf("no alarm reads %s", name)
		}
	}
}

func TestTopic(t *testing.T) {
	tpl := fixture(t, nil)
	topic := cdktest.Only(t, tpl, "AWS::SNS::Topic")
	key := cdktest.LogicalID(t, tpl, "AWS::KMS::Key")
	if !reflect.DeepEqual(get(topic, "Properties", "KmsMasterKeyId"), map[string]any{"Fn::GetAtt": []any{key, "Arn"}}) {
		t.Errorf("topic key = %v, want the construct's KMS key", get(topic, "Properties", "KmsMasterKeyId"))
	}
	if get(tpl, "Resources", key, "Properties", "EnableKeyRotation") != true {
		t.Error("the topic key does not rotate")
	}
	// The key lets exactly CloudWatch and EventBridge encrypt for the topic.
	keyServices := map[string]bool{}
	for _, st := range get(tpl, "Resources", key, "Properties", "KeyPolicy", "Statement").([]any) {
		if svc, ok := get(st, "Principal", "Service").(string); ok {
			keyServices[svc] = true
			actions, _ := get(st, "Action").([]any)
			for _, a := range actions {
				if a != "kms:Decrypt" && a != "kms:GenerateDataKey*" {
					t.Errorf("key grants %s %v", svc, a)
				}
			}
		}
	}
	if !reflect.DeepEqual(keyServices, map[string]bool{"cloudwatch.amazonaws.com": true, "events.amazonaws.com": true}) {
		t.Errorf("key policy services = %v", keyServices)
	}
	// The topic policy: TLS only, only CloudWatch and EventBridge publish.
	policy := cdktest.Only(t, tpl, "AWS::SNS::TopicPolicy")
	var allows []string
	denyOthers, tlsOnly := false, false
	for _, st := range get(policy, "Properties", "PolicyDocument", "Statement").([]any) {
		switch get(st, "Effect") {
		case "Allow":
			svc, ok := get(st, "Principal", "Service").(string)
			if !ok || get(st, "Action") != "sns:Publish" {
				t.Errorf("topic policy allows %v to %v", get(st, "Principal"), get(st, "Action"))
			}
			allows = append(allows, svc)
		case "Deny":
			if reflect.DeepEqual(get(st, "Condition"), map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}}) {
				tlsOnly = true
			}
			if get(st, "Principal") == "*" && reflect.DeepEqual(get(st, "Condition"), map[string]any{
				"StringNotEqualsIfExists": map[string]any{"aws:PrincipalServiceName": []any{"cloudwatch.amazonaws.com", "events.amazonaws.com"}},
			}) {
				denyOthers = true
			}
		}
	}
	for _, svc := range allows {
		if svc != "cloudwatch.amazonaws.com" && svc != "events.amazonaws.com" {
			t.Errorf("topic policy lets %s publish", svc)
		}
	}
	if !denyOthers || !tlsOnly {
		t.Errorf("topic policy: deny others %v, TLS only %v", denyOthers, tlsOnly)
	}
}

func TestEmailSubscription(t *testing.T) {
	tpl := fixture(t, nil)
	sub := cdktest.Only(t, tpl, "AWS::SNS::Subscription")
	if sub["Condition"] != "HasEmail" || get(sub, "Properties", "Protocol") != "email" || !reflect.DeepEqual(get(sub, "Properties", "Endpoint"), ref("AlarmEmail")) {
		t.Errorf("subscription = %v", sub)
	}
	none := fixture(t, func(_ awscdk.Stack, p *monitoring.Props) { p.AlarmEmail, p.AlarmEmailCondition = nil, nil })
	if n := len(resources(none, "AWS::SNS::Subscription")); n != 0 {
		t.Errorf("%d subscriptions without an address", n)
	}
}

func TestHeartbeatSchedule(t *testing.T) {
	tpl := fixture(t, nil)
	sched := cdktest.Only(t, tpl, "AWS::Scheduler::Schedule")
	p := sched["Properties"]
	if get(p, "ScheduleExpression") != "rate(30 minutes)" || get(p, "FlexibleTimeWindow", "Mode") != "OFF" {
		t.Errorf("schedule = %v", p)
	}
	if get(p, "Target", "Arn") != "arn:aws:lambda:us-east-1:111122223333:function:ids-source" {
		t.Errorf("schedule target = %v, want the source", get(p, "Target", "Arn"))
	}
	// The input is a heartbeat request the source recognizes, with
	// Scheduler's placeholders as they are.
	input := get(p, "Target", "Input").(string)
	if !strings.Contains(input, "<aws.scheduler.scheduled-time>") || !strings.Contains(input, "<aws.scheduler.execution-id>") {
		t.Errorf("input %s lacks Scheduler's placeholders", input)
	}
	if req, ok := heartbeat.ParseRequest([]byte(input)); !ok || req.ExecutionID != "<aws.scheduler.execution-id>" {
		t.Errorf("the source would not recognize %s", input)
	}
	// Its role may invoke the source and nothing else.
	role := get(p, "Target", "RoleArn", "Fn::GetAtt", 0).(string)
	for _, pol := range resources(tpl, "AWS::IAM::Policy") {
		if reflect.DeepEqual(get(pol, "Properties", "Roles"), []any{ref(role)}) {
			want := []any{map[string]any{"Action": "lambda:InvokeFunction", "Effect": "Allow", "Resource": "arn:aws:lambda:us-east-1:111122223333:function:ids-source"}}
			if got := get(pol, "Properties", "PolicyDocument", "Statement"); !reflect.DeepEqual(got, want) {
				t.Errorf("heartbeat role policy = %v", got)
			}
		}
	}
	off := fixture(t, func(_ awscdk.Stack, p *monitoring.Props) { p.DisableHeartbeat = jsii.Bool(true) })
	if len(resources(off, "AWS::Scheduler::Schedule")) != 0 {
		t.Error("a disabled heartbeat still has a schedule")
	}
}

func TestSelfProtectionAlertRule(t *testing.T) {
	tpl := fixture(t, nil)
	topic := cdktest.LogicalID(t, tpl, "AWS::SNS::Topic")
	var rule map[string]any
	for _, r := range resources(tpl, "AWS::Events::Rule") {
		rule = r
	}
	pattern := get(rule, "Properties", "EventPattern")
	if !reflect.DeepEqual(get(pattern, "detail"), map[string]any{"detections": map[string]any{"id": []any{"self-lambda-changed", "self-bus-changed"}}}) {
		t.Errorf("rule pattern = %v", pattern)
	}
	target := get(rule, "Properties", "Targets", 0)
	if !reflect.DeepEqual(get(target, "Arn"), ref(topic)) || get(target, "DeadLetterConfig") == nil {
		t.Errorf("rule target = %v", target)
	}
	tmpl, _ := get(target, "InputTransformer", "InputTemplate").(string)
	if !strings.Contains(tmpl, "self-protection alert") || get(target, "InputTransformer", "InputPathsMap", "detail-subject") != "$.detail.subject" {
		t.Errorf("input transformer = %v", get(target, "InputTransformer"))
	}
}

func TestDashboard(t *testing.T) {
	tpl := fixture(t, nil)
	body, err := json.Marshal(get(cdktest.Only(t, tpl, "AWS::CloudWatch::Dashboard"), "Properties", "DashboardBody"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{metrics.RecordsIn, metrics.ActivitiesPublished, metrics.PublishFailures, metrics.Posts, metrics.DeliveryLatency, metrics.CanaryDelivered, metrics.Folded, metrics.Suppressed, "ApproximateNumberOfMessagesVisible", "Throttles", "alarm"} {
		if !strings.Contains(string(body), name) {
			t.Errorf("dashboard lacks %s", name)
		}
	}
}
